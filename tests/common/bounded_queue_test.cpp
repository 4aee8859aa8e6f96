// BoundedQueue: the typed channel between stages.
#include <gtest/gtest.h>

#include <thread>

#include "common/core/bounded_queue.h"

namespace booth {
namespace {

using namespace std::chrono_literals;

TEST(BoundedQueue, TryPushRefusesWhenFullAndKeepsTheItem) {
  BoundedQueue<std::string> q(2);
  std::string a = "a", b = "b", c = "c";
  EXPECT_TRUE(q.tryPush(a));
  EXPECT_TRUE(q.tryPush(b));
  EXPECT_FALSE(q.tryPush(c));
  EXPECT_EQ(c, "c");  // not moved from
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.highWater(), 2u);
}

TEST(BoundedQueue, PopsInOrderAndTimesOutWhenEmpty) {
  BoundedQueue<int> q(4);
  q.tryPush(1);
  q.tryPush(2);
  EXPECT_EQ(q.pop(10ms), 1);
  EXPECT_EQ(q.pop(10ms), 2);
  EXPECT_EQ(q.pop(10ms), std::nullopt);
}

TEST(BoundedQueue, PushWaitsForRoomUntilAConsumerTakesOne) {
  BoundedQueue<int> q(1);
  q.tryPush(1);
  std::jthread producer([&] { EXPECT_TRUE(q.push(2)); });
  EXPECT_EQ(q.pop(1s), 1);
  EXPECT_EQ(q.pop(1s), 2);
}

TEST(BoundedQueue, PushGivesUpOnStopRequest) {
  BoundedQueue<int> q(1);
  q.tryPush(1);
  std::stop_source stop;
  std::jthread producer([&] { EXPECT_FALSE(q.push(2, stop.get_token())); });
  std::this_thread::sleep_for(20ms);
  stop.request_stop();
  producer.join();
  EXPECT_EQ(q.size(), 1u);
}

TEST(BoundedQueue, CloseRefusesProducersAndLetsConsumersDrain) {
  BoundedQueue<int> q(4);
  q.tryPush(1);
  q.close();
  EXPECT_FALSE(q.tryPush(2));
  EXPECT_FALSE(q.push(3));
  EXPECT_EQ(q.pop(10ms), 1);
  EXPECT_EQ(q.pop(10ms), std::nullopt);
}

}  // namespace
}  // namespace booth
