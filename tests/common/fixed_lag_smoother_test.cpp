#include "common/pose/fixed_lag_smoother.h"

#include <cmath>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "common/synthetic/choreography.h"

namespace booth {
namespace {

// Every joint on one trajectory, offset per joint.
Pose posed(float x, float y, float confidence = 0.9f) {
  Pose pose;
  for (int j = 0; j < kCoco17Count; ++j) pose.points[j] = {x + j, y - j, confidence, false};
  return pose;
}

SmootherConfig small() {
  SmootherConfig c;
  c.half_window = 2;
  c.outlier_half_window = 2;
  c.max_gap = 3;
  return c;
}

// Pushes everything, flushes, and returns the final poses by sequence.
std::map<std::uint64_t, std::optional<Pose>> runAll(
    FixedLagSmoother& smoother, const std::vector<std::pair<std::uint64_t, std::optional<Pose>>>& in) {
  std::map<std::uint64_t, std::optional<Pose>> out;
  for (const auto& [seq, pose] : in) {
    for (FinalPose& f : smoother.push(seq, pose)) {
      EXPECT_FALSE(out.count(f.sequence)) << "sequence " << f.sequence << " twice";
      out[f.sequence] = f.pose;
    }
  }
  for (FinalPose& f : smoother.flush()) out[f.sequence] = f.pose;
  return out;
}

TEST(FixedLagSmoother, AFrameIsFinalExactlyLagFramesAfterIt) {
  FixedLagSmoother smoother(small());
  ASSERT_EQ(smoother.lag(), 7);  // outlier window 2 + gap 3 + filter window 2
  for (std::uint64_t s = 0; s < 7; ++s) EXPECT_TRUE(smoother.push(s, posed(s, 0)).empty());
  const auto first = smoother.push(7, posed(7, 0));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].sequence, 0u);
  const auto second = smoother.push(8, posed(8, 0));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].sequence, 1u);
  const auto rest = smoother.flush();
  ASSERT_EQ(rest.size(), 7u);
  for (std::size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i].sequence, 2 + i);
}

TEST(FixedLagSmoother, AOneFrameJumpIsDroppedAsAnOutlierAndImputed) {
  FixedLagSmoother smoother(small());
  std::vector<std::pair<std::uint64_t, std::optional<Pose>>> in;
  for (std::uint64_t s = 0; s < 14; ++s) {
    Pose p = posed(10.f * s, 0);
    if (s == 6) p.points[10] = {p.points[10].x + 40.f, p.points[10].y, 0.9f, false};  // wrist jumps
    in.push_back({s, p});
  }
  const auto out = runAll(smoother, in);
  const Keypoint& k = out.at(6)->points[10];
  EXPECT_TRUE(k.imputed);
  EXPECT_NEAR(k.x, 70.f, 1e-3);
  // Without outlier dropping the jump leaks into the frame and its neighbours.
  SmootherConfig off = small();
  off.filter = SmootherConfig::Filter::kSavitzkyGolay;
  off.outlier_fraction = 0;
  FixedLagSmoother plain(off);
  const auto smeared = runAll(plain, in);
  EXPECT_GT(std::abs(smeared.at(6)->points[10].x - 70.f), 10.f);
  EXPECT_GT(std::abs(smeared.at(5)->points[10].x - 60.f), 2.f);
}

TEST(FixedLagSmoother, EveryFrameComesOutOnceInOrderAcrossDroppedSequences) {
  FixedLagSmoother smoother(small());
  std::vector<std::pair<std::uint64_t, std::optional<Pose>>> in;
  for (std::uint64_t s : {0, 1, 2, 5, 6, 7, 20, 21}) in.push_back({s, posed(s, 0)});
  std::vector<std::uint64_t> order;
  for (const auto& [seq, pose] : in) {
    for (const FinalPose& f : smoother.push(seq, pose)) order.push_back(f.sequence);
  }
  for (const FinalPose& f : smoother.flush()) order.push_back(f.sequence);
  EXPECT_EQ(order, (std::vector<std::uint64_t>{0, 1, 2, 5, 6, 7, 20, 21}));
}

TEST(FixedLagSmoother, ASavitzkyGolayFitKeepsAQuadraticExactly) {
  SmootherConfig c = small();
  c.filter = SmootherConfig::Filter::kSavitzkyGolay;
  FixedLagSmoother smoother(c);
  std::vector<std::pair<std::uint64_t, std::optional<Pose>>> in;
  for (std::uint64_t s = 0; s < 20; ++s) {
    const float t = static_cast<float>(s);
    in.push_back({s, posed(3 * t + 0.5f * t * t, 100 - 2 * t)});
  }
  const auto out = runAll(smoother, in);
  for (std::uint64_t s = 0; s < 20; ++s) {
    const float t = static_cast<float>(s);
    ASSERT_TRUE(out.at(s)) << s;
    EXPECT_NEAR(out.at(s)->points[0].x, 3 * t + 0.5f * t * t, 1e-2) << s;
    EXPECT_NEAR(out.at(s)->points[0].y, 100 - 2 * t, 1e-2) << s;
    EXPECT_FALSE(out.at(s)->points[0].imputed);
  }
}

TEST(FixedLagSmoother, AGapUpToTheMaximumIsFilledAndMarkedImputed) {
  FixedLagSmoother smoother(small());  // max_gap 3
  std::vector<std::pair<std::uint64_t, std::optional<Pose>>> in;
  for (std::uint64_t s = 0; s < 20; ++s) {
    Pose p = posed(10.f * s, 0);
    if (s >= 8 && s <= 10) p.points[9].confidence = 0;  // left wrist gone for 3 frames
    in.push_back({s, p});
  }
  const auto out = runAll(smoother, in);
  for (std::uint64_t s = 8; s <= 10; ++s) {
    const Keypoint& k = out.at(s)->points[9];
    EXPECT_TRUE(isUsable(k)) << s;
    EXPECT_TRUE(k.imputed) << s;
    EXPECT_NEAR(k.x, 10.f * s + 9, 1e-3) << s;  // on the line
  }
  EXPECT_FALSE(out.at(7)->points[9].imputed);
  EXPECT_FALSE(out.at(8)->points[8].imputed);
}

TEST(FixedLagSmoother, AGapLongerThanTheMaximumStaysMissing) {
  FixedLagSmoother smoother(small());
  std::vector<std::pair<std::uint64_t, std::optional<Pose>>> in;
  for (std::uint64_t s = 0; s < 20; ++s) {
    Pose p = posed(10.f * s, 0);
    if (s >= 8 && s <= 11) p.points[9].confidence = 0;  // 4 frames > max_gap 3
    in.push_back({s, p});
  }
  const auto out = runAll(smoother, in);
  for (std::uint64_t s = 8; s <= 11; ++s) EXPECT_FALSE(isUsable(out.at(s)->points[9])) << s;
}

TEST(FixedLagSmoother, PointsBelowTheConfidenceFloorAreReplaced) {
  SmootherConfig c = small();
  c.min_confidence = 0.3f;
  FixedLagSmoother smoother(c);
  std::vector<std::pair<std::uint64_t, std::optional<Pose>>> in;
  for (std::uint64_t s = 0; s < 12; ++s) {
    Pose p = posed(10.f * s, 0);
    if (s == 5) p.points[0] = {999.f, 999.f, 0.2f, false};  // unsure and wrong
    in.push_back({s, p});
  }
  const auto out = runAll(smoother, in);
  EXPECT_NEAR(out.at(5)->points[0].x, 50.f, 1e-3);
  EXPECT_TRUE(out.at(5)->points[0].imputed);
}

TEST(FixedLagSmoother, AShortAbsenceOfThePerformerIsImputedALongOneIsNot) {
  FixedLagSmoother smoother(small());
  std::vector<std::pair<std::uint64_t, std::optional<Pose>>> in;
  for (std::uint64_t s = 0; s < 30; ++s) {
    const bool absent = (s >= 5 && s <= 6) || (s >= 15 && s <= 22);
    in.push_back({s, absent ? std::nullopt : std::optional<Pose>(posed(s, s))});
  }
  const auto out = runAll(smoother, in);
  ASSERT_TRUE(out.at(6));
  EXPECT_EQ(out.at(6)->validCount(), kCoco17Count);
  EXPECT_TRUE(out.at(6)->points[0].imputed);
  EXPECT_FALSE(out.at(18));
}

TEST(FixedLagSmoother, DroppedFramesAreGapsInTime) {
  // The Savitzky-Golay fit is in time (sequence numbers), so a straight
  // line stays straight across dropped frames.
  SmootherConfig c = small();
  c.filter = SmootherConfig::Filter::kSavitzkyGolay;
  FixedLagSmoother smoother(c);
  // Sequences 0..4 and 7..12 on x = 10 s: the jump over 5 and 6 is time.
  std::vector<std::pair<std::uint64_t, std::optional<Pose>>> in;
  for (std::uint64_t s = 0; s < 13; ++s) {
    if (s == 5 || s == 6) continue;
    in.push_back({s, posed(10.f * s, 0)});
  }
  const auto out = runAll(smoother, in);
  EXPECT_NEAR(out.at(7)->points[0].x, 70.f, 1e-3);
  EXPECT_NEAR(out.at(4)->points[0].x, 40.f, 1e-3);
}

TEST(FixedLagSmoother, TheMedianFilterRemovesASingleFrameSpike) {
  SmootherConfig c = small();
  c.filter = SmootherConfig::Filter::kMedian;
  c.outlier_fraction = 0;  // the median alone
  FixedLagSmoother smoother(c);
  std::vector<std::pair<std::uint64_t, std::optional<Pose>>> in;
  for (std::uint64_t s = 0; s < 12; ++s) {
    Pose p = posed(100, 100);
    if (s == 6) p.points[4].x = 400;
    in.push_back({s, p});
  }
  const auto out = runAll(smoother, in);
  EXPECT_FLOAT_EQ(out.at(6)->points[4].x, 104.f);
}

TEST(FixedLagSmoother, APushOutOfOrderIsIgnored) {
  FixedLagSmoother smoother(small());
  (void)smoother.push(10, posed(0, 0));
  EXPECT_TRUE(smoother.push(9, posed(0, 0)).empty());
  EXPECT_TRUE(smoother.push(10, posed(0, 0)).empty());
  EXPECT_EQ(smoother.flush().size(), 1u);
}

TEST(FixedLagSmoother, JitterOnADanceShrinksByHalf) {
  // The synthetic performer's exact moves at 120 fps with 3 px of noise.
  const SmootherConfig c = SmootherConfig::forFrameRate(120);
  FixedLagSmoother smoother(c);
  const Choreography dance(*findChoreography("disco"), BodyProportions{}, Stage{}, 3);
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.f, 3.f);
  std::vector<Pose> truth;
  std::vector<std::pair<std::uint64_t, std::optional<Pose>>> in;
  for (std::uint64_t s = 0; s < 600; ++s) {
    truth.push_back(dance.poseAt(s / 120.0));
    Pose p = truth.back();
    for (Keypoint& k : p.points) {
      k.x += noise(rng);
      k.y += noise(rng);
    }
    in.push_back({s, p});
  }
  const auto out = runAll(smoother, in);
  double raw_sq = 0;
  double out_sq = 0;
  for (std::uint64_t s = 0; s < 600; ++s) {
    for (int j = 0; j < kCoco17Count; ++j) {
      const Keypoint& t = truth[s].points[j];
      const Keypoint& r = in[s].second->points[j];
      const Keypoint& o = out.at(s)->points[j];
      raw_sq += std::pow(r.x - t.x, 2) + std::pow(r.y - t.y, 2);
      out_sq += std::pow(o.x - t.x, 2) + std::pow(o.y - t.y, 2);
    }
  }
  // Measured over the 4 built-in dances with dropouts: 67 % less RMS error
  // (bench/run.sh pose); the floor here, on one dance without dropouts, 50 %.
  EXPECT_LT(std::sqrt(out_sq), 0.5 * std::sqrt(raw_sq));
}

TEST(SmootherConfig, ForFrameRateKeepsTheWindowsInTime) {
  const SmootherConfig at30 = SmootherConfig::forFrameRate(30);
  const SmootherConfig at120 = SmootherConfig::forFrameRate(120);
  EXPECT_EQ(at30.half_window, 4);
  EXPECT_EQ(at30.outlier_half_window, 2);
  EXPECT_EQ(at30.max_gap, 4);
  EXPECT_EQ(at120.half_window, 16);
  EXPECT_EQ(at120.outlier_half_window, 8);
  EXPECT_EQ(at120.max_gap, 16);
  EXPECT_EQ(FixedLagSmoother(at120).lag(), 40);
}

TEST(SmootherConfig, ValidateNamesTheFieldAndValue) {
  SmootherConfig c;
  c.max_gap = -2;
  const Status st = c.validate();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("max_gap -2"), std::string::npos) << st.error();
  EXPECT_TRUE(SmootherConfig{}.validate().ok());
}

}  // namespace
}  // namespace booth
