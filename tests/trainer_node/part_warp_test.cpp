// Part-wise warping: the part transforms, the part masks, a warped
// reference, and the choice of reference frames.
#include "trainer_node/train/part_warp.h"

#include <gtest/gtest.h>

#include <vector>

#include <opencv2/imgproc.hpp>

#include "test_poses.h"
#include "trainer_node/train/warp_references.h"

namespace booth {
namespace {

using C = Coco17;
using test::forearmTurned;
using test::standingPose;

cv::Vec2d apply(const cv::Matx23d& m, double x, double y) {
  return {m(0, 0) * x + m(0, 1) * y + m(0, 2), m(1, 0) * x + m(1, 1) * y + m(1, 2)};
}

TEST(PartWarp, SegmentTransformTakesTheEndsOntoTheTargetsAndScalesAcross) {
  // A 10 px segment along x onto a 20 px one along y, 1.5 times as wide.
  const Segment from{{0, 0}, {10, 0}};
  const Segment to{{5, 5}, {5, 25}};
  const cv::Matx23d m = segmentTransform(from, to, 1.5);
  EXPECT_DOUBLE_EQ(m(0, 0), 0.0);
  EXPECT_DOUBLE_EQ(m(0, 1), -1.5);
  EXPECT_DOUBLE_EQ(m(0, 2), 5.0);
  EXPECT_DOUBLE_EQ(m(1, 0), 2.0);
  EXPECT_DOUBLE_EQ(m(1, 1), 0.0);
  EXPECT_DOUBLE_EQ(m(1, 2), 5.0);
  const cv::Vec2d b = apply(m, 10, 0);
  EXPECT_DOUBLE_EQ(b[0], 5.0);
  EXPECT_DOUBLE_EQ(b[1], 25.0);
  // 2 px beside the start, on the segment's left, lands 3 px beside the
  // target's start, on its left.
  const cv::Vec2d side = apply(m, 0, 2);
  EXPECT_DOUBLE_EQ(side[0], 2.0);
  EXPECT_DOUBLE_EQ(side[1], 5.0);
}

TEST(PartWarp, PartTransformTakesTheReferenceForearmOntoTheTargets) {
  // Turned by 90 degrees about the elbow: the wrist goes from (63, 55) to (47, 41).
  const Pose target = forearmTurned(90);
  const auto m = partTransform(standingPose(), target, BodyPart::kLeftForearm);
  ASSERT_TRUE(m);
  const cv::Vec2d elbow = apply(*m, 62, 40);
  const cv::Vec2d wrist = apply(*m, 63, 55);
  EXPECT_NEAR(elbow[0], 62.0, 1e-4);
  EXPECT_NEAR(elbow[1], 40.0, 1e-4);
  EXPECT_NEAR(wrist[0], 47.0, 1e-4);
  EXPECT_NEAR(wrist[1], 41.0, 1e-4);
  EXPECT_NEAR(target[C::kLeftWrist].x, 47.0, 1e-4);
  EXPECT_NEAR(target[C::kLeftWrist].y, 41.0, 1e-4);
}

TEST(PartWarp, ABodyTwiceAsLargeScalesEveryPartByTwo) {
  const Pose big = transformPose(standingPose(), 2.f, 0.f, 0.f);
  for (const BodyPart part : {BodyPart::kTorso, BodyPart::kLeftUpperArm, BodyPart::kRightShin}) {
    const auto m = partTransform(standingPose(), big, part);
    ASSERT_TRUE(m) << bodyPartName(part);
    EXPECT_NEAR((*m)(0, 0), 2.0, 1e-6) << bodyPartName(part);
    EXPECT_NEAR((*m)(0, 1), 0.0, 1e-6) << bodyPartName(part);
    EXPECT_NEAR((*m)(1, 0), 0.0, 1e-6) << bodyPartName(part);
    EXPECT_NEAR((*m)(1, 1), 2.0, 1e-6) << bodyPartName(part);
    EXPECT_NEAR((*m)(0, 2), 0.0, 1e-4) << bodyPartName(part);
    EXPECT_NEAR((*m)(1, 2), 0.0, 1e-4) << bodyPartName(part);
  }
}

TEST(PartWarp, AMissingJointLeavesItsPartsOut) {
  Pose no_elbow = standingPose();
  no_elbow[C::kLeftElbow].confidence = 0;
  EXPECT_FALSE(partTransform(standingPose(), no_elbow, BodyPart::kLeftForearm));
  EXPECT_FALSE(partTransform(no_elbow, standingPose(), BodyPart::kLeftUpperArm));
  EXPECT_TRUE(partTransform(no_elbow, standingPose(), BodyPart::kRightForearm));
  EXPECT_EQ(cv::countNonZero(partMask(no_elbow, BodyPart::kLeftForearm, cv::Size(100, 100))), 0);
}

TEST(PartWarp, PartMaskCoversItsLimbAndNotTheOthers) {
  const cv::Mat mask = partMask(standingPose(), BodyPart::kLeftShin, cv::Size(100, 100));
  EXPECT_GT(mask.at<float>(85, 57), 0.9f);  // on the left shin
  EXPECT_LT(mask.at<float>(85, 43), 0.01f);  // the right shin
  EXPECT_LT(mask.at<float>(40, 62), 0.01f);  // the left elbow
}

TEST(PartWarp, AWarpedForearmLandsOnTheTargetForearm) {
  // The reference: black, with a red band along the left forearm only.
  cv::Mat image(100, 100, CV_8UC3, cv::Scalar::all(0));
  cv::line(image, cv::Point(62, 40), cv::Point(63, 55), cv::Scalar(0, 0, 255), 5);
  const WarpedReference w = warpReference(image, standingPose(), forearmTurned(90));
  ASSERT_EQ(w.image.size(), image.size());
  ASSERT_EQ(w.mask.size(), image.size());
  // Half way along the target's forearm, from (62, 40) to (47, 41): red, covered.
  const cv::Vec3b moved = w.image.at<cv::Vec3b>(40, 55);
  EXPECT_GT(moved[2], 200) << "red where the forearm went";
  EXPECT_LT(moved[0], 30);
  EXPECT_GT(w.mask.at<uchar>(40, 55), 200);
  // Where the forearm was: no red left behind (the torso and the thigh
  // around it do not take the forearm's pixels).
  EXPECT_LT(w.image.at<cv::Vec3b>(48, 63)[2], 30) << "the forearm left its old place";
  EXPECT_LT(w.image.at<cv::Vec3b>(54, 63)[2], 30);
  // Away from the body nothing is covered.
  EXPECT_EQ(w.mask.at<uchar>(5, 95), 0);
}

TEST(PartWarp, WarpingOntoTheSamePoseKeepsTheBody) {
  cv::Mat image(100, 100, CV_8UC3, cv::Scalar::all(0));
  cv::rectangle(image, cv::Rect(44, 25, 13, 30), cv::Scalar(200, 100, 50), cv::FILLED);  // the shirt
  const WarpedReference w = warpReference(image, standingPose(), standingPose());
  const cv::Vec3b centre = w.image.at<cv::Vec3b>(40, 50);
  EXPECT_NEAR(centre[0], 200, 3);
  EXPECT_NEAR(centre[1], 100, 3);
  EXPECT_NEAR(centre[2], 50, 3);
}

std::vector<cv::Mat> blankFrames(std::size_t n) {
  std::vector<cv::Mat> frames;
  for (std::size_t i = 0; i < n; ++i) frames.emplace_back(100, 100, CV_8UC3, cv::Scalar::all(0));
  return frames;
}

// Frame i shows the left forearm turned by 10 i degrees.
std::vector<Pose> turningForearm(std::size_t n) {
  std::vector<Pose> poses;
  for (std::size_t i = 0; i < n; ++i) poses.push_back(forearmTurned(10.0 * static_cast<double>(i)));
  return poses;
}

TEST(ReferencePool, NearestIsByLimbOrientation) {
  const auto frames = blankFrames(20);
  const auto poses = turningForearm(20);
  auto pool = ReferencePool::create(frames, poses);
  ASSERT_TRUE(pool.ok()) << pool.error();
  EXPECT_EQ(pool->nearest(forearmTurned(42), 2), (std::vector<std::size_t>{4, 5}));
  EXPECT_EQ(pool->nearest(forearmTurned(42), 1, 4, 5), (std::vector<std::size_t>{5}));
}

TEST(ReferencePool, ATrainingFrameNeverGetsItselfOrItsNeighbours) {
  const auto frames = blankFrames(20);
  const auto poses = turningForearm(20);
  auto pool = ReferencePool::create(frames, poses);
  ASSERT_TRUE(pool.ok()) << pool.error();
  const auto candidates = pool->trainingCandidates(10, 3);
  ASSERT_EQ(candidates.size(), 3u);
  for (const std::size_t c : candidates) EXPECT_TRUE(c < 9 || c > 11) << c;
  EXPECT_TRUE(candidates[0] == 8 || candidates[0] == 12) << candidates[0];
  // A pool of one frame can only give that frame.
  auto single = ReferencePool::create(std::span(frames).first(1), std::span(poses).first(1));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->trainingCandidates(0, 3), (std::vector<std::size_t>{0}));
}

TEST(ReferencePool, RenderingKeepsItsReferenceWhileItIsNearlyTheBest) {
  const auto frames = blankFrames(2);
  const std::vector<Pose> poses = {forearmTurned(0), forearmTurned(60)};
  auto pool = ReferencePool::create(frames, poses);
  ASSERT_TRUE(pool.ok()) << pool.error();
  EXPECT_EQ(pool->choose(forearmTurned(32), std::nullopt), 1u);
  EXPECT_EQ(pool->choose(forearmTurned(32), 0), 0u) << "nearly as good: kept";
  EXPECT_EQ(pool->choose(forearmTurned(55), 0), 1u) << "clearly worse: switched";
  EXPECT_FALSE(pool->choose(Pose{}, 0));
}

TEST(ReferencePool, RefusesMismatchedOrTorsolessReferences) {
  const auto frames = blankFrames(2);
  const auto poses = turningForearm(3);
  auto mismatched = ReferencePool::create(frames, poses);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.error().find("2 frames but 3 poses"), std::string::npos) << mismatched.error();
  const std::vector<Pose> empty_poses(2);
  auto torsoless = ReferencePool::create(frames, empty_poses);
  ASSERT_FALSE(torsoless.ok());
  EXPECT_NE(torsoless.error().find("shoulders"), std::string::npos) << torsoless.error();
}

}  // namespace
}  // namespace booth
