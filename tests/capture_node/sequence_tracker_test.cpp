#include "capture_node/v4l2/sequence_tracker.h"

#include <gtest/gtest.h>

namespace booth {
namespace {

TEST(SequenceTracker, FirstFrameIsZeroWhateverTheDriverSays) {
  SequenceTracker tracker;
  EXPECT_EQ(tracker.advance(1234), 0u);
  EXPECT_EQ(tracker.dropped(), 0u);
}

TEST(SequenceTracker, ConsecutiveFramesHaveNoGaps) {
  SequenceTracker tracker;
  tracker.advance(7);
  EXPECT_EQ(tracker.advance(8), 1u);
  EXPECT_EQ(tracker.advance(9), 2u);
  EXPECT_EQ(tracker.dropped(), 0u);
}

TEST(SequenceTracker, GapsAreCountedAndKept) {
  SequenceTracker tracker;
  tracker.advance(7);
  tracker.advance(8);
  EXPECT_EQ(tracker.advance(11), 4u);
  EXPECT_EQ(tracker.dropped(), 2u);
}

TEST(SequenceTracker, WrapOfTheDriverCounterIsNotADrop) {
  SequenceTracker tracker;
  tracker.advance(0xffff'fffeu);
  tracker.advance(0xffff'ffffu);
  EXPECT_EQ(tracker.advance(0), 2u);
  EXPECT_EQ(tracker.advance(2), 4u);
  EXPECT_EQ(tracker.dropped(), 1u);
}

TEST(SequenceTracker, DriverThatNeverCountsStillAdvances) {
  SequenceTracker tracker;
  tracker.advance(0);
  EXPECT_EQ(tracker.advance(0), 1u);
  EXPECT_EQ(tracker.advance(0), 2u);
  EXPECT_EQ(tracker.dropped(), 0u);
}

TEST(SequenceTracker, CounterGoingBackwardsIsOneFrameNotAHugeGap) {
  SequenceTracker tracker;
  tracker.advance(500);
  EXPECT_EQ(tracker.advance(3), 1u);
  EXPECT_EQ(tracker.dropped(), 0u);
}

TEST(SequenceTracker, ResetStartsOver) {
  SequenceTracker tracker;
  tracker.advance(1);
  tracker.advance(5);
  tracker.reset();
  EXPECT_EQ(tracker.advance(40), 0u);
  EXPECT_EQ(tracker.dropped(), 0u);
}

}  // namespace
}  // namespace booth
