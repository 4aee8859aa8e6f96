// PerformerBoard: the performer's box per camera, normalised, posted by the
// pose finalizers and read by the node's control thread.
#include "capture_node/pose/performer_board.h"

#include <gtest/gtest.h>

namespace booth {
namespace {

const cv::Size kFrame(640, 480);

Pose box(float x0, float y0, float x1, float y1) {
  Pose p;
  for (int j = 0; j < kCoco17Count; ++j) {
    p.points[j] = {j % 2 ? x0 : x1, j < 8 ? y0 : y1, 0.9f, false};
  }
  return p;
}

TEST(PerformerBoard, APostedPerformerIsTheirBoxAsFractionsOfTheFrameWithTheZone) {
  PerformerBoard board;
  board.post("cam0", 7, kFrame, box(160, 120, 320, 480), {0.25f, 0.25f, 0.5f, 0.75f});
  const auto s = board.snapshot();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].camera_id, "cam0");
  EXPECT_EQ(s[0].sequence, 7u);
  EXPECT_TRUE(s[0].seen);
  EXPECT_EQ(s[0].box, (NormalisedBox{0.25f, 0.25f, 0.25f, 0.75f}));
  EXPECT_EQ(s[0].zone, (NormalisedBox{0.25f, 0.25f, 0.5f, 0.75f}));
}

TEST(PerformerBoard, JointsPastTheFrameAreClampedToIt) {
  const auto b = PerformerBoard::normalisedBoxOf(box(-64, -48, 700, 500), kFrame);
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, (NormalisedBox{0, 0, 1, 1}));
  EXPECT_FALSE(PerformerBoard::normalisedBoxOf(Pose{}, kFrame));  // no usable joint
  EXPECT_FALSE(PerformerBoard::normalisedBoxOf(box(1, 1, 2, 2), cv::Size()));
}

TEST(PerformerBoard, OnlyAChangeRaisesTheVersionNotANewFrameWithTheSameBox) {
  PerformerBoard board;
  board.post("cam0", 1, kFrame, box(160, 120, 320, 480), {});
  const auto v = board.version();
  board.post("cam0", 2, kFrame, box(160, 120, 320, 480), {});
  EXPECT_EQ(board.version(), v);
  EXPECT_EQ(board.snapshot()[0].sequence, 2u);
  board.post("cam0", 3, kFrame, std::nullopt, {});  // the performer not seen
  EXPECT_GT(board.version(), v);
  EXPECT_FALSE(board.snapshot()[0].seen);
}

TEST(PerformerBoard, ClearForgetsEveryCamera) {
  PerformerBoard board;
  board.post("cam0", 1, kFrame, box(160, 120, 320, 480), {});
  board.post("cam1", 1, kFrame, std::nullopt, {});
  EXPECT_EQ(board.snapshot().size(), 2u);
  const auto v = board.version();
  board.clear();
  EXPECT_TRUE(board.snapshot().empty());
  EXPECT_GT(board.version(), v);
}

}  // namespace
}  // namespace booth
