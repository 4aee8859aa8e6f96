// Pose coverage: the limb-angle distance behind the yardstick's seen and
// unseen poses, and the arm mask.
#include "trainer_node/train/pose_coverage.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_poses.h"

namespace booth {
namespace {

using C = Coco17;
using test::forearmTurned;

void set(Pose& p, C j, float x, float y) { test::setJoint(p, j, x, y); }
Pose standing() { return test::standingPose(); }

TEST(PoseCoverage, APoseIsAtDistanceZeroFromItself) {
  EXPECT_NEAR(limbAngleDistance(standing(), standing()), 0.0, 1e-9);
}

TEST(PoseCoverage, DistanceIsTheLargestLimbTurnInDegrees) {
  EXPECT_NEAR(limbAngleDistance(standing(), forearmTurned(40)), 40.0, 1e-3);
  EXPECT_NEAR(limbAngleDistance(forearmTurned(-170), standing()), 170.0, 1e-3);
  // Past half a turn the short way round counts.
  EXPECT_NEAR(limbAngleDistance(standing(), forearmTurned(200)), 160.0, 1e-3);
}

TEST(PoseCoverage, MeanDistanceSpreadsOneLimbsTurnOverTheTwelve) {
  EXPECT_NEAR(meanLimbAngleDistance(standing(), forearmTurned(60)), 5.0, 1e-3);
  EXPECT_TRUE(std::isnan(meanLimbAngleDistance(standing(), Pose{})));
}

TEST(PoseCoverage, DistanceIgnoresWhereAndHowBigThePersonIs) {
  const Pose moved = transformPose(forearmTurned(25), 2.5f, 300.f, -40.f);
  EXPECT_NEAR(limbAngleDistance(standing(), moved), 25.0, 1e-3);
}

TEST(PoseCoverage, TheFaceDoesNotCount) {
  Pose turned_head = standing();
  set(turned_head, C::kLeftEar, 50, 30);  // a face limb pointing elsewhere
  EXPECT_NEAR(limbAngleDistance(standing(), turned_head), 0.0, 1e-9);
}

TEST(PoseCoverage, LimbsMissingInEitherPoseAreSkipped) {
  Pose no_left_wrist = forearmTurned(90);
  no_left_wrist[C::kLeftWrist].confidence = 0;  // the turned forearm is not seen
  EXPECT_NEAR(limbAngleDistance(standing(), no_left_wrist), 0.0, 1e-9);
  EXPECT_TRUE(std::isnan(limbAngleDistance(standing(), Pose{})));
}

TEST(PoseCoverage, NearestDistanceIsToTheClosestReference) {
  const std::vector<Pose> references = {forearmTurned(90), forearmTurned(35), Pose{}};
  EXPECT_NEAR(nearestPoseDistance(standing(), references), 35.0, 1e-3);
  EXPECT_GT(nearestPoseDistance(standing(), references), kUnseenPoseDegrees);
  EXPECT_LE(nearestPoseDistance(forearmTurned(10), references), kUnseenPoseDegrees);
  EXPECT_TRUE(std::isinf(nearestPoseDistance(standing(), std::vector<Pose>{Pose{}})));
}

TEST(PoseCoverage, ArmMaskCoversTheArmsAndNothingElse) {
  const cv::Mat mask = armMask(standing(), cv::Size(100, 100), 5);
  EXPECT_EQ(mask.at<uchar>(47, 62), 255);  // on the left forearm
  EXPECT_EQ(mask.at<uchar>(32, 39), 255);  // on the right upper arm
  EXPECT_EQ(mask.at<uchar>(75, 57), 0);    // a knee
  EXPECT_EQ(mask.at<uchar>(10, 50), 0);    // the nose
  Pose one_arm = standing();
  one_arm[C::kRightElbow].confidence = 0;
  const cv::Mat left_only = armMask(one_arm, cv::Size(100, 100), 5);
  EXPECT_EQ(left_only.at<uchar>(32, 39), 0);
  EXPECT_EQ(left_only.at<uchar>(47, 62), 255);
}

}  // namespace
}  // namespace booth
