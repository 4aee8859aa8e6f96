// The quality yardstick: SSIM and PSNR, over regions.
#include "trainer_node/train/image_quality.h"

#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

cv::Mat scene(bool person, int shift = 0) {
  cv::Mat m(64, 64, CV_8UC3, cv::Scalar(200, 190, 170));
  cv::rectangle(m, cv::Rect(0, 48, 64, 16), cv::Scalar(90, 100, 110), cv::FILLED);
  if (person) {
    cv::rectangle(m, cv::Rect(24 + shift, 10, 14, 40), cv::Scalar(40, 40, 200), cv::FILLED);
    cv::circle(m, cv::Point(31 + shift, 8), 6, cv::Scalar(150, 180, 225), cv::FILLED);
  }
  return m;
}

TEST(ImageQuality, IdenticalImagesScoreOneAndTheCap) {
  const cv::Mat a = scene(true);
  const FrameScores s = scoreFrame(a, a, scene(false), cv::Rect(22, 0, 20, 20));
  EXPECT_NEAR(s.whole.ssim, 1.0, 1e-9);
  EXPECT_NEAR(s.body.ssim, 1.0, 1e-9);
  EXPECT_NEAR(s.face.ssim, 1.0, 1e-9);
  EXPECT_NEAR(s.person.ssim, 1.0, 1e-9);
  EXPECT_DOUBLE_EQ(s.whole.psnr, 100.0);
}

TEST(ImageQuality, PsnrOfAKnownError) {
  const cv::Mat a(8, 8, CV_8UC3, cv::Scalar(100, 100, 100));
  const cv::Mat b(8, 8, CV_8UC3, cv::Scalar(110, 110, 110));  // MSE 100
  EXPECT_NEAR(psnr(a, b), 10 * std::log10(255.0 * 255.0 / 100.0), 1e-9);
}

TEST(ImageQuality, TheBackdropScoresWellOnTheWholeFrameButNotOnThePerson) {
  // Why the figures are over the person: an empty backdrop already looks
  // like most of the frame.
  const FrameScores s = scoreFrame(scene(false), scene(true), scene(false), std::nullopt);
  EXPECT_GT(s.whole.ssim, 0.6);
  EXPECT_LT(s.person.ssim, 0.5);
  EXPECT_LT(s.person.ssim, s.body.ssim);
  EXPECT_LT(s.body.ssim, s.whole.ssim);
}

TEST(ImageQuality, ADisplacedPersonScoresBelowAnExactOne) {
  const FrameScores exact = scoreFrame(scene(true), scene(true), scene(false), std::nullopt);
  const FrameScores moved = scoreFrame(scene(true, 3), scene(true), scene(false), std::nullopt);
  EXPECT_LT(moved.person.ssim, exact.person.ssim - 0.1);
  EXPECT_LT(moved.body.psnr, exact.body.psnr);
}

TEST(ImageQuality, PersonMaskIsWhereTheFrameDiffersFromTheBackdrop) {
  const cv::Mat mask = personMask(scene(true), scene(false));
  EXPECT_EQ(mask.at<uchar>(30, 30), 255);
  EXPECT_EQ(mask.at<uchar>(60, 2), 0);
  EXPECT_EQ(cv::boundingRect(mask), cv::Rect(24, 2, 14, 48));
}

TEST(ImageQuality, FlickerIsZeroWhenTheGeneratedClipChangesAsTheTruthDoes) {
  // Offset by a constant colour, but moving exactly as the truth moves.
  const cv::Mat truth0 = scene(true), truth1 = scene(true, 2);
  const cv::Mat gen0 = truth0 + cv::Scalar::all(20), gen1 = truth1 + cv::Scalar::all(20);
  const cv::Mat mask = personMask(truth0, scene(false)) | personMask(truth1, scene(false));
  EXPECT_NEAR(flicker(gen0, gen1, truth0, truth1, mask), 0.0, 1e-9);
}

TEST(ImageQuality, FlickerMeasuresChangeTheTruthDoesNotHave) {
  const cv::Mat truth = scene(true);
  const cv::Mat mask = personMask(truth, scene(false));
  // The truth stands still; the generated frame brightens by 10 inside the mask.
  const cv::Mat brighter = truth + cv::Scalar::all(10);
  EXPECT_NEAR(flicker(truth, brighter, truth, truth, mask), 10.0, 1e-9);
  // A generated clip that stands still while the truth moves flickers too.
  const cv::Mat moved = scene(true, 3);
  const cv::Mat union_mask = mask | personMask(moved, scene(false));
  EXPECT_GT(flicker(truth, truth, truth, moved, union_mask), 5.0);
  // Outside the mask nothing counts.
  cv::Mat outside = truth.clone();
  outside.setTo(cv::Scalar::all(0), ~mask);
  EXPECT_NEAR(flicker(truth, outside, truth, truth, mask), 0.0, 1e-9);
  EXPECT_TRUE(std::isnan(flicker(truth, brighter, truth, truth, cv::Mat::zeros(64, 64, CV_8U))));
}

TEST(ImageQuality, EmptyMaskIsNotANumber) {
  const cv::Mat map = ssimMap(scene(true), scene(true));
  EXPECT_TRUE(std::isnan(meanOver(map, cv::Mat::zeros(64, 64, CV_8U))));
}

}  // namespace
}  // namespace booth
