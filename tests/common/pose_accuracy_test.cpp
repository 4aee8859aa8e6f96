#include "common/pose/pose_accuracy.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace booth {
namespace {

using C = Coco17;

// A standing figure: torso (left shoulder to right hip) of 100 px.
Pose reference() {
  Pose p;
  const auto set = [&](C j, float x, float y) { p[j] = {x, y, 1.f, false}; };
  set(C::kLeftShoulder, 260, 100);
  set(C::kRightShoulder, 200, 100);
  set(C::kLeftElbow, 270, 160);
  set(C::kRightElbow, 190, 160);
  set(C::kLeftWrist, 275, 210);
  set(C::kRightWrist, 185, 210);
  set(C::kLeftHip, 260, 180);
  set(C::kRightHip, 200, 180);
  set(C::kLeftKnee, 262, 260);
  set(C::kRightKnee, 198, 260);
  set(C::kLeftAnkle, 263, 330);
  set(C::kRightAnkle, 197, 330);
  return p;
}

TEST(PoseAccuracy, ThePerfectEstimateScoresOne) {
  PoseAccuracy accuracy;
  accuracy.add(reference(), reference());
  const AccuracySummary s = accuracy.summary();
  EXPECT_EQ(s.frames, 1);
  EXPECT_EQ(s.joints, 12);
  EXPECT_DOUBLE_EQ(s.pck_torso20, 1.0);
  EXPECT_DOUBLE_EQ(s.pck_30px, 1.0);
  EXPECT_DOUBLE_EQ(s.mean_px_error, 0.0);
  EXPECT_DOUBLE_EQ(s.same_limb_rate, 0.0);
}

TEST(PoseAccuracy, ThresholdsAreTwentyPercentOfTheTorsoAndThirtyPixels) {
  Pose estimate = reference();
  const float torso = std::hypot(60.f, 80.f);  // 100
  estimate[C::kLeftWrist].x += 0.19f * torso;  // inside both
  estimate[C::kRightWrist].x += 25.f;          // outside 20 px, inside 30 px
  estimate[C::kLeftKnee].y += 31.f;            // outside both
  estimate[C::kRightKnee].confidence = 0.f;    // missed
  PoseAccuracy accuracy;
  accuracy.add(estimate, reference());
  const AccuracySummary s = accuracy.summary();
  EXPECT_DOUBLE_EQ(s.pck_torso20, 9.0 / 12);
  EXPECT_DOUBLE_EQ(s.pck_30px, 10.0 / 12);
  EXPECT_EQ(s.missed, 1);
  EXPECT_NEAR(s.mean_px_error, (19.0 + 25.0 + 31.0) / 11, 1e-4);
}

TEST(PoseAccuracy, BothAnkleLabelsOnOneFootIsASameLimbFrame) {
  Pose estimate = reference();
  estimate[C::kRightAnkle] = estimate[C::kLeftAnkle];
  PoseAccuracy accuracy;
  accuracy.add(estimate, reference());
  accuracy.add(reference(), reference());
  EXPECT_DOUBLE_EQ(accuracy.summary().same_limb_rate, 0.5);
}

TEST(PoseAccuracy, NoEstimateMissesEveryJoint) {
  PoseAccuracy accuracy;
  accuracy.add(std::nullopt, reference());
  EXPECT_EQ(accuracy.summary().missed, 12);
  EXPECT_DOUBLE_EQ(accuracy.summary().pck_torso20, 0.0);
}

TEST(PoseAccuracy, JitterIsZeroForUniformMotionAndSeesAShake) {
  std::vector<std::optional<Pose>> track;
  for (int t = 0; t < 5; ++t) track.push_back(transformPose(reference(), 1.f, 3.f * t, 0.f));
  EXPECT_NEAR(PoseAccuracy::jitter(track), 0.0, 1e-4);
  track[2] = transformPose(*track[2], 1.f, 4.f, 0.f);  // one frame 4 px off
  EXPECT_GT(PoseAccuracy::jitter(track), 1.0);
}

TEST(PoseAccuracy, LoadsTfjsStyleReferenceKeypoints) {
  const auto path = std::filesystem::temp_directory_path() / "booth_reference_keypoints.json";
  std::ofstream(path) << R"([{"nose": {"x": 1.5, "y": 2}, "left_ankle": {"x": 3, "y": 4}}, {}])";
  auto frames = PoseAccuracy::loadReference(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(frames.ok()) << frames.error();
  ASSERT_EQ(frames->size(), 2u);
  EXPECT_FLOAT_EQ((*frames)[0][C::kNose].x, 1.5f);
  EXPECT_TRUE(isUsable((*frames)[0][C::kLeftAnkle]));
  EXPECT_FALSE(isUsable((*frames)[0][C::kRightAnkle]));
  EXPECT_EQ((*frames)[1].validCount(), 0);
}

}  // namespace
}  // namespace booth
