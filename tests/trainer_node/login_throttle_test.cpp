// LoginThrottle: free failures, then a doubling wait per address.
#include <gtest/gtest.h>

#include "common/core/clock.h"
#include "trainer_node/http/login_throttle.h"

namespace booth {
namespace {

using namespace std::chrono_literals;

LoginThrottleConfig config() {
  LoginThrottleConfig c;
  c.free_failures = 3;
  c.max_delay = 8s;
  c.forget_after = 1h;
  c.max_addresses = 2;
  return c;
}

TEST(LoginThrottle, TheFirstFailuresCostNothing) {
  ManualClock clock;
  LoginThrottle throttle(config(), clock);
  for (int i = 0; i < 2; ++i) throttle.failed("10.0.0.1");
  EXPECT_EQ(throttle.retryAfter("10.0.0.1"), std::nullopt);
}

TEST(LoginThrottle, AfterTheFreeFailuresTheWaitDoublesUpToTheMaximum) {
  ManualClock clock;
  LoginThrottle throttle(config(), clock);
  for (int i = 0; i < 3; ++i) throttle.failed("10.0.0.1");
  EXPECT_EQ(throttle.retryAfter("10.0.0.1"), std::optional(1s));
  clock.advance(1s);
  EXPECT_EQ(throttle.retryAfter("10.0.0.1"), std::nullopt);
  throttle.failed("10.0.0.1");
  EXPECT_EQ(throttle.retryAfter("10.0.0.1"), std::optional(2s));
  for (int i = 0; i < 10; ++i) throttle.failed("10.0.0.1");
  EXPECT_EQ(throttle.retryAfter("10.0.0.1"), std::optional(8s));
}

TEST(LoginThrottle, AddressesAreIndependentAndSuccessClears) {
  ManualClock clock;
  LoginThrottle throttle(config(), clock);
  for (int i = 0; i < 3; ++i) throttle.failed("10.0.0.1");
  EXPECT_EQ(throttle.retryAfter("10.0.0.2"), std::nullopt);
  throttle.succeeded("10.0.0.1");
  EXPECT_EQ(throttle.retryAfter("10.0.0.1"), std::nullopt);
}

TEST(LoginThrottle, TrackedAddressesAreBounded) {
  ManualClock clock;
  LoginThrottle throttle(config(), clock);  // at most 2 addresses
  for (int i = 0; i < 3; ++i) throttle.failed("10.0.0.1");
  clock.advance(1s);
  for (int i = 0; i < 3; ++i) throttle.failed("10.0.0.2");
  for (int i = 0; i < 3; ++i) throttle.failed("10.0.0.3");  // drops the quietest: .1
  EXPECT_EQ(throttle.retryAfter("10.0.0.1"), std::nullopt);
  EXPECT_TRUE(throttle.retryAfter("10.0.0.2").has_value());
  EXPECT_TRUE(throttle.retryAfter("10.0.0.3").has_value());
}

}  // namespace
}  // namespace booth
