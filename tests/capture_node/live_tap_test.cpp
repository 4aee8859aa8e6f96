// LiveTap: drop, never block; the consumer sees the newest.
#include <gtest/gtest.h>

#include <thread>

#include "capture_node/live/live_tap.h"

namespace booth {
namespace {
using namespace std::chrono_literals;

TEST(LiveTap, ABusyConsumerSeesOnlyTheNewestAndTheRestIsCountedDropped) {
  LiveTap<int> tap(1);
  tap.offer(1);
  auto first = tap.take(10ms);
  ASSERT_EQ(first, 1);
  // The consumer is busy with 1: these pile up, only the newest survives.
  for (int i = 2; i <= 5; ++i) tap.offer(i);
  EXPECT_EQ(tap.take(10ms), std::nullopt);  // still one in flight
  tap.done();
  EXPECT_EQ(tap.take(10ms), 5);
  EXPECT_EQ(tap.offered(), 5u);
  EXPECT_EQ(tap.delivered(), 2u);
  EXPECT_EQ(tap.dropped(), 3u);
}

TEST(LiveTap, OfferNeverWaitsForTheConsumer) {
  LiveTap<int> tap(1);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100000; ++i) tap.offer(i);  // nobody takes anything
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(tap.dropped(), 99999u);
  EXPECT_EQ(tap.take(10ms), 99999);
}

TEST(LiveTap, TwoInFlightLetTwoBeTakenBeforeDone) {
  LiveTap<int> tap(2);
  tap.offer(1);
  EXPECT_EQ(tap.take(10ms), 1);
  tap.offer(2);
  EXPECT_EQ(tap.take(10ms), 2);
  tap.offer(3);
  EXPECT_EQ(tap.take(10ms), std::nullopt);
  tap.done();
  EXPECT_EQ(tap.take(10ms), 3);
}

TEST(LiveTap, AWaitingConsumerWakesOnOffer) {
  LiveTap<int> tap(1);
  std::jthread producer([&] {
    std::this_thread::sleep_for(20ms);
    tap.offer(7);
  });
  EXPECT_EQ(tap.take(5s), 7);
}

}  // namespace
}  // namespace booth
