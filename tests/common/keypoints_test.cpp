#include "common/core/keypoints.h"

#include <cmath>

#include <gtest/gtest.h>

namespace booth {
namespace {

// Every joint at a different place, confidence and imputed flag.
Pose distinctPose() {
  Pose pose;
  for (int i = 0; i < kCoco17Count; ++i) {
    pose.points[i] = {10.f + 3.f * i, 200.f - 7.f * i, 0.1f + 0.05f * i, i % 3 == 0};
  }
  return pose;
}

TEST(KeypointsTest, OpenPoseRoundTripKeepsEveryJoint) {
  const Pose pose = distinctPose();
  const Pose back = fromOpenPose18(toOpenPose18(pose));
  for (int i = 0; i < kCoco17Count; ++i) {
    SCOPED_TRACE(coco17Name(i));
    EXPECT_FLOAT_EQ(back.points[i].x, pose.points[i].x);
    EXPECT_FLOAT_EQ(back.points[i].y, pose.points[i].y);
    EXPECT_FLOAT_EQ(back.points[i].confidence, pose.points[i].confidence);
    EXPECT_EQ(back.points[i].imputed, pose.points[i].imputed);
  }
}

TEST(KeypointsTest, NeckIsTheShouldersMidpointWithTheLowerConfidence) {
  Pose pose;
  pose[Coco17::kLeftShoulder] = {300.f, 100.f, 0.9f, false};
  pose[Coco17::kRightShoulder] = {200.f, 120.f, 0.6f, false};
  const Keypoint neck = toOpenPose18(pose)[static_cast<int>(OpenPose18::kNeck)];
  EXPECT_FLOAT_EQ(neck.x, 250.f);
  EXPECT_FLOAT_EQ(neck.y, 110.f);
  EXPECT_FLOAT_EQ(neck.confidence, 0.6f);
}

TEST(KeypointsTest, NeckIsNotObservedWithoutBothShoulders) {
  Pose pose;
  pose[Coco17::kLeftShoulder] = {300.f, 100.f, 0.9f, false};
  EXPECT_FALSE(toOpenPose18(pose)[static_cast<int>(OpenPose18::kNeck)].valid());
}

TEST(KeypointsTest, OpenPoseIndicesMapToTheSameNamedCocoJoint) {
  const auto map = openPose18ToCoco17();
  EXPECT_EQ(openPose18Name(4), "right_wrist");
  EXPECT_EQ(map[4], 10);
  EXPECT_EQ(map[static_cast<int>(OpenPose18::kNeck)], -1);
  for (int i = 0; i < kOpenPose18Count; ++i) {
    if (map[i] < 0) continue;
    EXPECT_EQ(openPose18Name(i), coco17Name(map[i])) << "OpenPose index " << i;
  }
}

TEST(KeypointsTest, FromOpenPosePutsEachJointInItsCocoSlot) {
  OpenPose18Points points{};
  points[static_cast<int>(OpenPose18::kRightWrist)] = {42.f, 24.f, 0.8f, false};
  const Pose pose = fromOpenPose18(points);
  EXPECT_FLOAT_EQ(pose[Coco17::kRightWrist].x, 42.f);
  EXPECT_EQ(pose.validCount(), 1);
}

TEST(KeypointsTest, Coco17IndexFindsNamesAndRejectsUnknownOnes) {
  EXPECT_EQ(coco17Index("nose"), 0);
  EXPECT_EQ(coco17Index("right_ankle"), 16);
  EXPECT_EQ(coco17Index("left_elbow"), static_cast<int>(Coco17::kLeftElbow));
  EXPECT_EQ(coco17Index("neck"), std::nullopt);
  EXPECT_EQ(coco17Name(17), "");
}

TEST(KeypointsTest, TransformPoseMapsCoordinatesAndKeepsConfidence) {
  const Pose pose = distinctPose();
  const Pose moved = transformPose(pose, 0.5f, 10.f, -20.f);
  for (int i = 0; i < kCoco17Count; ++i) {
    EXPECT_FLOAT_EQ(moved.points[i].x, pose.points[i].x * 0.5f + 10.f);
    EXPECT_FLOAT_EQ(moved.points[i].y, pose.points[i].y * 0.5f - 20.f);
    EXPECT_FLOAT_EQ(moved.points[i].confidence, pose.points[i].confidence);
    EXPECT_EQ(moved.points[i].imputed, pose.points[i].imputed);
  }
}

TEST(KeypointsTest, SkeletonHasSixteenLimbsBetweenDistinctJoints) {
  const auto limbs = coco17Limbs();
  ASSERT_EQ(limbs.size(), 16u);
  for (const Limb& limb : limbs) EXPECT_NE(limb.a, limb.b);
}

TEST(KeypointsTest, UsableMeansConfidentAndFinite) {
  EXPECT_TRUE(isUsable(Keypoint{1.f, 2.f, kMinConfidence, false}));
  EXPECT_FALSE(isUsable(Keypoint{1.f, 2.f, kMinConfidence * 0.99f, false}));
  EXPECT_FALSE(isUsable(Keypoint{NAN, 2.f, 1.f, false}));
  EXPECT_FALSE(isUsable(Keypoint{1.f, INFINITY, 1.f, false}));
  EXPECT_TRUE(isUsable(Keypoint{1.f, 2.f, 0.5f, true}));  // imputed points are usable
  const Keypoint not_finite{NAN, 0.f, 1.f, false};
  EXPECT_EQ(not_finite.valid(), isUsable(not_finite));
}

TEST(KeypointsTest, ValidCountCountsUsableJoints) {
  Pose pose;
  pose[Coco17::kNose] = {1.f, 1.f, 0.9f, false};
  pose[Coco17::kLeftEye] = {NAN, 1.f, 0.9f, false};
  pose[Coco17::kRightEye] = {1.f, 1.f, 0.01f, false};
  EXPECT_EQ(pose.validCount(), 1);
}

}  // namespace
}  // namespace booth
