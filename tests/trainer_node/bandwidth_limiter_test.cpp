// The clip bandwidth budget, on an injected clock.
#include <gtest/gtest.h>

#include "trainer_node/http/bandwidth_limiter.h"

namespace booth {
namespace {

using namespace std::chrono_literals;
using Clock = BandwidthLimiter::Clock;

TEST(BandwidthLimiter, BurstGoesOutAtOnceThenTheRateHolds) {
  Clock::time_point now{};
  BandwidthLimiter limiter(1000, 500, [&] { return now; });  // 1000 B/s, 500 B burst
  EXPECT_EQ(limiter.reserve(500), 0ns);
  EXPECT_EQ(limiter.reserve(1000), 1s);  // the next 1000 bytes need a second
  EXPECT_EQ(limiter.reserve(500), 1500ms);
}

TEST(BandwidthLimiter, IdleTimeRefillsOnlyUpToTheBurst) {
  Clock::time_point now{};
  BandwidthLimiter limiter(1000, 500, [&] { return now; });
  EXPECT_EQ(limiter.reserve(500), 0ns);
  now += 1h;
  EXPECT_EQ(limiter.reserve(500), 0ns);
  EXPECT_EQ(limiter.reserve(100), 100ms);
}

TEST(BandwidthLimiter, SharedBetweenCallersEachWaitsItsTurn) {
  Clock::time_point now{};
  BandwidthLimiter limiter(100, 0, [&] { return now; });
  const auto a = limiter.reserve(100);
  const auto b = limiter.reserve(100);
  EXPECT_EQ(a, 1s);
  EXPECT_EQ(b, 2s);
}

TEST(BandwidthLimiter, ZeroRateIsUnlimited) {
  BandwidthLimiter limiter(0, 0);
  EXPECT_FALSE(limiter.limited());
  EXPECT_EQ(limiter.reserve(1'000'000'000), 0ns);
}

}  // namespace
}  // namespace booth
