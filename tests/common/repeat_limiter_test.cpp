// RepeatLimiter: one report per key and period, with the count held back.
#include <gtest/gtest.h>

#include "common/core/clock.h"
#include "common/core/repeat_limiter.h"

namespace booth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RepeatLimiter, ReportsTheFirstEventAtOnce) {
  ManualClock clock;
  RepeatLimiter limiter(clock, seconds(5));
  EXPECT_EQ(limiter.occurred("peer-a unknown key"), std::optional<std::uint64_t>(1));
}

TEST(RepeatLimiter, HoldsBackRepeatsWithinThePeriod) {
  ManualClock clock;
  RepeatLimiter limiter(clock, seconds(5));
  (void)limiter.occurred("k");
  for (int i = 0; i < 1000; ++i) {
    clock.advance(milliseconds(1));
    EXPECT_FALSE(limiter.occurred("k").has_value()) << "event " << i;
  }
}

TEST(RepeatLimiter, ReportsTheHeldCountAfterThePeriod) {
  ManualClock clock;
  RepeatLimiter limiter(clock, seconds(5));
  (void)limiter.occurred("k");
  for (int i = 0; i < 9; ++i) (void)limiter.occurred("k");
  clock.advance(seconds(5));
  EXPECT_EQ(limiter.occurred("k"), std::optional<std::uint64_t>(10));  // 9 held + this one
  EXPECT_FALSE(limiter.occurred("k").has_value());
}

TEST(RepeatLimiter, KeysAreIndependent) {
  ManualClock clock;
  RepeatLimiter limiter(clock, seconds(5));
  (void)limiter.occurred("peer-a malformed");
  EXPECT_EQ(limiter.occurred("peer-b malformed"), std::optional<std::uint64_t>(1));
  EXPECT_EQ(limiter.occurred("peer-a bad hello"), std::optional<std::uint64_t>(1));
}

TEST(RepeatLimiter, ExpiredReportsTheTailOfAFloodOnce) {
  ManualClock clock;
  RepeatLimiter limiter(clock, seconds(5));
  (void)limiter.occurred("k");
  (void)limiter.occurred("k");
  (void)limiter.occurred("k");
  EXPECT_TRUE(limiter.expired().empty());  // the period has not passed
  clock.advance(seconds(5));
  const auto tail = limiter.expired();
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].first, "k");
  EXPECT_EQ(tail[0].second, 2u);
  clock.advance(seconds(5));
  EXPECT_TRUE(limiter.expired().empty());
}

TEST(RepeatLimiter, CountsNewKeysBeyondTheBoundUnderOneKey) {
  ManualClock clock;
  RepeatLimiter limiter(clock, seconds(5), /*max_keys=*/2);
  (void)limiter.occurred("a");
  (void)limiter.occurred("b");
  EXPECT_EQ(limiter.occurred("c"), std::optional<std::uint64_t>(1));  // first under the overflow key
  EXPECT_FALSE(limiter.occurred("d").has_value());                     // same overflow key
  clock.advance(seconds(5));
  const auto tail = limiter.expired();
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].first, RepeatLimiter::kOverflowKey);
}

TEST(RepeatLimiter, SuffixNamesTheCountOnlyForRepeats) {
  EXPECT_EQ(repeatSuffix(1), "");
  EXPECT_EQ(repeatSuffix(42), " (42 times since the last such line)");
}

}  // namespace
}  // namespace booth
