// MoveNetEstimator: the graph's post-processing on hand-made maps, the crop
// rules, and (with ../shared) the real network on tfjs_pose_1.mp4.
#include "capture_node/pose/movenet_estimator.h"

#include <cmath>
#include <optional>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/videoio.hpp>

#include "common/pose/pose_accuracy.h"
#include "pose_model_files.h"
#include "temp_dir.h"

namespace booth {
namespace {

constexpr int kGrid = 48;

std::vector<cv::Mat> zeros(int channels) {
  std::vector<cv::Mat> v;
  for (int c = 0; c < channels; ++c) v.emplace_back(kGrid, kGrid, CV_32F, cv::Scalar(0));
  return v;
}

TEST(MoveNetDecode, TheCentreIsWeightedTowardTheMiddleAndJointsTowardTheirRegression) {
  cv::Mat center(kGrid, kGrid, CV_32F, cv::Scalar(0));
  // A stronger centre far off (score 0.9 at distance ~28) loses to a weaker
  // one near the middle (0.5 at distance 2): 0.9/29.8 < 0.5/3.8.
  center.at<float>(4, 4) = 0.9f;
  center.at<float>(24, 26) = 0.5f;
  auto heatmaps = zeros(17);
  auto offsets = zeros(34);
  auto regression = zeros(34);
  // Joint 0: the regression from the chosen centre points 10 cells up; two
  // heatmap peaks, the stronger far from there, the weaker right at it.
  regression[0].at<float>(24, 26) = -10.f;  // y
  regression[1].at<float>(24, 26) = 0.f;    // x
  heatmaps[0].at<float>(14, 26) = 0.6f;
  heatmaps[0].at<float>(40, 40) = 0.95f;
  offsets[0].at<float>(14, 26) = 0.25f;   // y offset
  offsets[1].at<float>(14, 26) = -0.5f;   // x offset
  const auto joints = MoveNetEstimator::decode(center, heatmaps, offsets, regression, 1.8f);
  EXPECT_NEAR(joints[0].y, (14 + 0.25f) / 48.f, 1e-6);
  EXPECT_NEAR(joints[0].x, (26 - 0.5f) / 48.f, 1e-6);
  EXPECT_FLOAT_EQ(joints[0].score, 0.6f);
}

Pose torsoPose(float cx, float hip_y, float shoulder_y, float half_width, float score = 0.9f) {
  Pose p;
  for (Keypoint& k : p.points) k = {cx, (hip_y + shoulder_y) / 2, 0.f, false};
  p[Coco17::kLeftHip] = {cx + half_width, hip_y, score, false};
  p[Coco17::kRightHip] = {cx - half_width, hip_y, score, false};
  p[Coco17::kLeftShoulder] = {cx + half_width, shoulder_y, score, false};
  p[Coco17::kRightShoulder] = {cx - half_width, shoulder_y, score, false};
  return p;
}

TEST(MoveNetInput, TheOnePassBlobIsWhatBlobFromImageGives) {
  cv::Mat patch(24, 32, CV_8UC3);
  cv::randu(patch, cv::Scalar::all(0), cv::Scalar::all(256));
  cv::Mat blob;
  for (const bool rgb : {true, false}) {
    const std::array<double, 3> mean{127.5, 100, 3};
    const cv::Mat expected = cv::dnn::blobFromImage(patch, 0.5, patch.size(), cv::Scalar(mean[0], mean[1], mean[2]),
                                                    /*swapRB=*/rgb, /*crop=*/false);
    MoveNetEstimator::fillBlob(patch, mean, 0.5, rgb, blob);
    ASSERT_EQ(blob.dims, 4);
    ASSERT_EQ(blob.total(), expected.total());
    EXPECT_EQ(cv::norm(blob.reshape(1, 1), expected.reshape(1, 1), cv::NORM_INF), 0.0) << "rgb " << rgb;
  }
}

TEST(MoveNetCrop, FromKeypointsIsASquareOnTheHipsSizedByTheTorso) {
  // Hips at y 300, shoulders 100 above: half-side = 1.9 x 100.
  const Pose p = torsoPose(320, 300, 200, 30);
  const cv::Rect2f crop = MoveNetEstimator::cropFromKeypoints(p, {640, 480});
  EXPECT_NEAR(crop.width, 2 * 190.f, 1e-3);
  EXPECT_FLOAT_EQ(crop.width, crop.height);
  EXPECT_NEAR(crop.x + crop.width / 2, 320.f, 1e-3);
  EXPECT_NEAR(crop.y + crop.height / 2, 300.f, 1e-3);
}

TEST(MoveNetCrop, TheBodysExtentWidensTheCrop) {
  Pose p = torsoPose(320, 300, 250, 20);
  p[Coco17::kLeftWrist] = {320 + 150, 200, 0.8f, false};  // an arm stretched out
  const cv::Rect2f crop = MoveNetEstimator::cropFromKeypoints(p, {640, 480});
  EXPECT_NEAR(crop.width, 2 * 1.2f * 150.f, 1e-3);
}

TEST(MoveNetCrop, NoCropWithoutATorsoOrWhenLargerThanTheFrame) {
  Pose unsure = torsoPose(320, 300, 200, 30, 0.1f);
  EXPECT_TRUE(MoveNetEstimator::cropFromKeypoints(unsure, {640, 480}).empty());
  // A torso of 250 px: half-side 475 > 320 (half the frame's longer side).
  const Pose huge = torsoPose(320, 470, 220, 30);
  EXPECT_TRUE(MoveNetEstimator::cropFromKeypoints(huge, {640, 480}).empty());
}

TEST(MoveNetCrop, FromABoxIsAQuarterLargerThanItsLongerSide) {
  const cv::Rect2f crop = MoveNetEstimator::cropFromBox({100, 50, 80, 200});
  EXPECT_FLOAT_EQ(crop.width, 250.f);
  EXPECT_FLOAT_EQ(crop.height, 250.f);
  EXPECT_FLOAT_EQ(crop.x + crop.width / 2, 140.f);
  EXPECT_FLOAT_EQ(crop.y + crop.height / 2, 150.f);
}

// --- the real network (../shared) ---

TEST(MoveNetEstimator, TheProjectManifestLoadsAndRuns) {
  test::TempDir dir;
  auto net = MoveNetEstimator::create({test::moveNetAssetManifest(dir.path()).string()});
  ASSERT_TRUE(net.ok()) << net.error();
  EXPECT_EQ((*net)->inputSide(), 192);
  EXPECT_NE((*net)->describe().find("movenet-singlepose-lightning"), std::string::npos);
  auto pose = (*net)->estimate(cv::Mat(480, 640, CV_8UC3, cv::Scalar::all(90)), {100, 50, 300, 300});
  ASSERT_TRUE(pose.ok()) << pose.error();
  for (const Keypoint& k : pose->points) {
    EXPECT_GE(k.x, 100.f);
    EXPECT_LE(k.x, 400.f);
  }
}

TEST(MoveNetEstimator, AManifestOfTheOtherKindOrWrongWeightsIsRefused) {
  test::TempDir dir;
  auto openpose = MoveNetEstimator::create({test::projectManifest().string()});
  ASSERT_FALSE(openpose.ok());
  EXPECT_NE(openpose.error().find("not a movenet-singlepose"), std::string::npos) << openpose.error();
  const auto wrong = test::moveNetAssetManifest(dir.path(), [](nlohmann::json& j) { j["weights_fnv1a64"] = "0123456789abcdef"; });
  auto corrupt = MoveNetEstimator::create({wrong.string()});
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.error().find("do not match manifest"), std::string::npos) << corrupt.error();
  const auto no_head = test::moveNetAssetManifest(dir.path(), [](nlohmann::json& j) { j["output"]["heads"]["offsets"] = "offset"; });
  auto missing = MoveNetEstimator::create({no_head.string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("no output 'offset'"), std::string::npos) << missing.error();
}

TEST(MoveNetEstimator, ABadCropOrImageIsAnError) {
  test::TempDir dir;
  auto net = MoveNetEstimator::create({test::moveNetAssetManifest(dir.path()).string()});
  ASSERT_TRUE(net.ok()) << net.error();
  const cv::Mat frame(480, 640, CV_8UC3, cv::Scalar::all(90));
  EXPECT_FALSE((*net)->estimate(frame, {0, 0, 100, 200}).ok());        // not square
  EXPECT_FALSE((*net)->estimate(frame, {0, 0, NAN, NAN}).ok());        // not finite
  EXPECT_FALSE((*net)->estimate(frame, {0, 0, 2, 2}).ok());            // too small
  EXPECT_FALSE((*net)->estimate(cv::Mat(), {0, 0, 100, 100}).ok());    // no image
}

// The crop from the previous frame's keypoints, as the top-down stage places
// it; the first crop is the (square) frame. The reference was made by
// MoveNet in tfjs, so this flatters MoveNet; the assets README measured
// PCK@0.2 torso 0.97 and 5.6 px with the same rule.
TEST(MoveNetEstimator, TracksTheDancerOfTfjsPose1FromItsOwnKeypoints) {
  const auto video_path = test::requireSharedAsset("tfjs_pose_1.mp4");
  auto reference = PoseAccuracy::loadReference(test::requireSharedAsset("tfjs_pose_1.json"));
  ASSERT_TRUE(reference.ok()) << reference.error();
  test::TempDir dir;
  auto net = MoveNetEstimator::create({test::moveNetAssetManifest(dir.path()).string()});
  ASSERT_TRUE(net.ok()) << net.error();
  cv::VideoCapture video(video_path.string());
  ASSERT_TRUE(video.isOpened());
  PoseAccuracy accuracy;
  std::optional<Pose> previous;
  std::size_t index = 0;
  for (cv::Mat frame; video.read(frame) && index < reference->size(); ++index) {
    cv::Rect2f crop;
    if (previous) crop = MoveNetEstimator::cropFromKeypoints(*previous, frame.size());
    if (crop.empty()) {
      const float side = static_cast<float>(std::max(frame.cols, frame.rows));
      crop = {(frame.cols - side) / 2, (frame.rows - side) / 2, side, side};
    }
    auto pose = (*net)->estimate(frame, crop);
    ASSERT_TRUE(pose.ok()) << pose.error();
    accuracy.add(*pose, (*reference)[index]);
    previous = *pose;
  }
  ASSERT_EQ(index, reference->size());
  const AccuracySummary s = accuracy.summary();
  EXPECT_GE(s.pck_torso20, 0.95);
  EXPECT_GE(s.pck_30px, 0.97);
  EXPECT_LE(s.mean_px_error, 8.0);
}

}  // namespace
}  // namespace booth
