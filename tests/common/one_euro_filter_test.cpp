#include "common/pose/one_euro_filter.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace booth {
namespace {

Pose poseAt(float x, float y, float confidence = 0.9f) {
  Pose pose;
  for (Keypoint& k : pose.points) k = {x, y, confidence, false};
  return pose;
}

TEST(OneEuroPoseFilter, FirstFrameComesOutAsItCame) {
  OneEuroPoseFilter filter(OneEuroConfig{});
  const Pose out = filter.filter(poseAt(10.f, 20.f), 0.0);
  EXPECT_FLOAT_EQ(out.points[3].x, 10.f);
  EXPECT_FLOAT_EQ(out.points[3].y, 20.f);
}

TEST(OneEuroPoseFilter, NoiseOnAStillJointShrinks) {
  OneEuroPoseFilter filter(OneEuroConfig{});
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.f, 3.f);
  double raw_sq = 0;
  double out_sq = 0;
  for (int i = 0; i < 600; ++i) {
    const float n = noise(rng);
    const Pose out = filter.filter(poseAt(100.f + n, 100.f), i / 120.0);
    if (i < 60) continue;  // settling
    raw_sq += n * n;
    out_sq += std::pow(out.points[0].x - 100.f, 2);
  }
  EXPECT_LT(std::sqrt(out_sq), 0.5 * std::sqrt(raw_sq));
}

TEST(OneEuroPoseFilter, FollowsAFastMoveWithLittleLag) {
  OneEuroPoseFilter filter(OneEuroConfig{});
  Pose out;
  for (int i = 0; i <= 120; ++i) out = filter.filter(poseAt(2.f * i, 0.f), i / 120.0);  // 240 px/s
  EXPECT_NEAR(out.points[0].x, 240.f, 8.f);
}

TEST(OneEuroPoseFilter, LostJointIsPassedThroughAndRestartsWhereItReappears) {
  OneEuroPoseFilter filter(OneEuroConfig{});
  for (int i = 0; i < 30; ++i) filter.filter(poseAt(0.f, 0.f), i / 30.0);
  Pose lost = poseAt(0.f, 0.f);
  lost.points[5] = {7.f, 7.f, 0.f, false};
  const Pose out_lost = filter.filter(lost, 30 / 30.0);
  EXPECT_FLOAT_EQ(out_lost.points[5].x, 7.f);
  EXPECT_FLOAT_EQ(out_lost.points[5].confidence, 0.f);
  Pose back = poseAt(0.f, 0.f);
  back.points[5] = {300.f, 300.f, 0.9f, false};
  const Pose out_back = filter.filter(back, 31 / 30.0);
  EXPECT_FLOAT_EQ(out_back.points[5].x, 300.f);  // no glide in from 0
  EXPECT_NEAR(out_back.points[0].x, 0.f, 1e-4);
}

TEST(OneEuroPoseFilter, ResetForgetsThePast) {
  OneEuroPoseFilter filter(OneEuroConfig{});
  for (int i = 0; i < 30; ++i) filter.filter(poseAt(0.f, 0.f), i / 30.0);
  filter.reset();
  EXPECT_FLOAT_EQ(filter.filter(poseAt(500.f, 0.f), 2.0).points[0].x, 500.f);
}

TEST(OneEuroPoseFilter, TimeGoingBackwardsRestarts) {
  OneEuroPoseFilter filter(OneEuroConfig{});
  for (int i = 0; i < 30; ++i) filter.filter(poseAt(0.f, 0.f), 10 + i / 30.0);
  EXPECT_FLOAT_EQ(filter.filter(poseAt(500.f, 0.f), 0.0).points[0].x, 500.f);
}

}  // namespace
}  // namespace booth
