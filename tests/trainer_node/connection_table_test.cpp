// ConnectionTable: limits per address and in all; at a limit the longest
// waiting connection is cut off, a busy or young one never.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include "trainer_node/http/connection_table.h"

namespace booth {
namespace {

using namespace std::chrono_literals;

// One end of a socket pair for the table to own; the other end tells
// whether the table shut it down.
struct Pair {
  Pair() { ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds); }
  ~Pair() { ::close(fds[1]); }
  int owned() const { return fds[0]; }
  bool shutDown() const {
    char c;
    return ::recv(fds[1], &c, 1, MSG_DONTWAIT) == 0;  // EOF: the table's end is shut
  }
  int fds[2] = {-1, -1};
};

ConnectionLimits limits(std::size_t total, std::size_t per_address) {
  return ConnectionLimits{total, per_address, 1000ms};
}

TEST(ConnectionTable, AdmitsWithinTheLimits) {
  ConnectionTable table(limits(4, 2));
  Pair a, b;
  const auto t = Clock::TimePoint{} + 1h;
  EXPECT_NE(table.admit(a.owned(), "10.0.0.1", t).id, 0u);
  EXPECT_NE(table.admit(b.owned(), "10.0.0.1", t).id, 0u);
  EXPECT_EQ(table.counted(), 2u);
}

TEST(ConnectionTable, BeyondTheAddressLimitTheLongestWaitingIsCutOff) {
  ConnectionTable table(limits(8, 2));
  Pair a, b, c;
  const auto t = Clock::TimePoint{} + 1h;
  (void)table.admit(a.owned(), "10.0.0.1", t);
  (void)table.admit(b.owned(), "10.0.0.1", t + 500ms);
  const auto third = table.admit(c.owned(), "10.0.0.1", t + 2s);
  EXPECT_NE(third.id, 0u);
  EXPECT_TRUE(a.shutDown());   // waited longest
  EXPECT_FALSE(b.shutDown());
  EXPECT_EQ(table.counted(), 2u);
  EXPECT_EQ(table.evictedTotal(), 1u);
}

TEST(ConnectionTable, ABusyOrYoungConnectionIsNeverCutAndTheNewcomerIsRefused) {
  ConnectionTable table(limits(8, 2));
  Pair a, b, c;
  const auto t = Clock::TimePoint{} + 1h;
  const auto first = table.admit(a.owned(), "10.0.0.1", t);
  (void)table.admit(b.owned(), "10.0.0.1", t + 1500ms);
  table.busy(first.id);
  // b has waited 0.5 s only, a is busy: no room.
  const auto refused = table.admit(c.owned(), "10.0.0.1", t + 2s);
  EXPECT_EQ(refused.id, 0u);
  EXPECT_NE(refused.refusal.find("10.0.0.1"), std::string::npos) << refused.refusal;
  EXPECT_FALSE(a.shutDown());
  EXPECT_FALSE(b.shutDown());
  EXPECT_EQ(table.refusedTotal(), 1u);
  ::close(c.owned());  // refused: still the caller's
}

TEST(ConnectionTable, OtherAddressesAreNotCutForOneAddressLimit) {
  ConnectionTable table(limits(8, 1));
  Pair a, b;
  const auto t = Clock::TimePoint{} + 1h;
  (void)table.admit(a.owned(), "10.0.0.1", t);
  EXPECT_NE(table.admit(b.owned(), "10.0.0.2", t + 5s).id, 0u);
  EXPECT_FALSE(a.shutDown());
}

TEST(ConnectionTable, TheTotalLimitCutsTheLongestWaitingOfAnyAddress) {
  ConnectionTable table(limits(2, 2));
  Pair a, b, c;
  const auto t = Clock::TimePoint{} + 1h;
  (void)table.admit(a.owned(), "10.0.0.1", t);
  (void)table.admit(b.owned(), "10.0.0.2", t + 100ms);
  EXPECT_NE(table.admit(c.owned(), "10.0.0.3", t + 3s).id, 0u);
  EXPECT_TRUE(a.shutDown());
  EXPECT_FALSE(b.shutDown());
}

TEST(ConnectionTable, ReleaseFreesTheSlot) {
  ConnectionTable table(limits(1, 1));
  Pair a, b;
  const auto t = Clock::TimePoint{} + 1h;
  const auto first = table.admit(a.owned(), "10.0.0.1", t);
  table.busy(first.id);
  table.release(first.id);
  EXPECT_EQ(table.counted(), 0u);
  EXPECT_NE(table.admit(b.owned(), "10.0.0.1", t).id, 0u);
}

}  // namespace
}  // namespace booth
