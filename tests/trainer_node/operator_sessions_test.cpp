// OperatorSessions: random ids, expiry, sign-out, the bound.
#include <gtest/gtest.h>

#include "common/core/clock.h"
#include "trainer_node/http/operator_sessions.h"

namespace booth {
namespace {

using namespace std::chrono_literals;

TEST(OperatorSessions, ANewSessionIsValidAndRandom) {
  ManualClock clock;
  OperatorSessions sessions(1h, clock);
  const std::string a = sessions.create(), b = sessions.create();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(sessions.valid(a));
  EXPECT_TRUE(sessions.valid(b));
  EXPECT_FALSE(sessions.valid("not-a-session"));
  EXPECT_FALSE(sessions.valid(""));
}

TEST(OperatorSessions, ASessionExpiresAfterItsLifetime) {
  ManualClock clock;
  OperatorSessions sessions(1h, clock);
  const std::string id = sessions.create();
  clock.advance(59min);
  EXPECT_TRUE(sessions.valid(id));
  clock.advance(1min);
  EXPECT_FALSE(sessions.valid(id));
}

TEST(OperatorSessions, SignOutRevokesOnlyThatSession) {
  ManualClock clock;
  OperatorSessions sessions(1h, clock);
  const std::string a = sessions.create(), b = sessions.create();
  sessions.revoke(a);
  EXPECT_FALSE(sessions.valid(a));
  EXPECT_TRUE(sessions.valid(b));
}

TEST(OperatorSessions, BeyondTheBoundTheFirstToExpireGoes) {
  ManualClock clock;
  OperatorSessions sessions(1h, clock, /*max_sessions=*/2);
  const std::string first = sessions.create();
  clock.advance(1s);
  const std::string second = sessions.create();
  clock.advance(1s);
  const std::string third = sessions.create();
  EXPECT_FALSE(sessions.valid(first));
  EXPECT_TRUE(sessions.valid(second));
  EXPECT_TRUE(sessions.valid(third));
}

}  // namespace
}  // namespace booth
