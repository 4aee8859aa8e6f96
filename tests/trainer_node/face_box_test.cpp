// Face boxes: where the face GAN works and the quality benchmark scores.
#include "trainer_node/train/face_box.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace booth {
namespace {

Pose headAt(float x, float y) {
  Pose p;
  auto set = [&](Coco17 j, float px, float py) { p[j] = Keypoint{px, py, 1.f, false}; };
  set(Coco17::kNose, x, y + 2);
  set(Coco17::kLeftEye, x + 2, y);
  set(Coco17::kRightEye, x - 2, y);
  set(Coco17::kLeftEar, x + 5, y + 1);
  set(Coco17::kRightEar, x - 5, y + 1);
  return p;
}

TEST(FaceBox, SideIsAQuarterOfTheHeightRoundedUpToFour) {
  EXPECT_EQ(faceBoxSide(81, 64), 24);   // 20.25 -> 24
  EXPECT_EQ(faceBoxSide(80, 64), 20);   // exactly 20
  EXPECT_EQ(faceBoxSide(10, 64), 16);   // at least 16
  EXPECT_EQ(faceBoxSide(400, 64), 64);  // at most max_side
}

TEST(FaceBox, CentredOnTheEarsMidpoint) {
  auto box = faceBox(headAt(50, 40), 20, cv::Size(128, 128));
  ASSERT_TRUE(box);
  EXPECT_EQ(box->width, 20);
  EXPECT_EQ(box->height, 20);
  EXPECT_EQ(box->x, 40);  // ears' midpoint x = 50
  EXPECT_EQ(box->y, 31);  // ears' midpoint y = 41
}

TEST(FaceBox, FallsBackToTheNose) {
  Pose p = headAt(50, 40);
  p[Coco17::kLeftEar].confidence = 0;
  p[Coco17::kLeftEye].confidence = 0;
  auto centre = headCentre(p);
  ASSERT_TRUE(centre);
  EXPECT_FLOAT_EQ(centre->x, 50);
  EXPECT_FLOAT_EQ(centre->y, 42);
}

TEST(FaceBox, ShiftedInsideTheImageNeverShrunk) {
  auto box = faceBox(headAt(3, 3), 20, cv::Size(128, 128));
  ASSERT_TRUE(box);
  EXPECT_EQ(*box, cv::Rect(0, 0, 20, 20));
}

TEST(FaceBox, NoHeadOrHeadOutsideIsNoBox) {
  EXPECT_FALSE(faceBox(Pose{}, 20, cv::Size(128, 128)));
  EXPECT_FALSE(faceBox(headAt(-30, 40), 20, cv::Size(128, 128)));
  EXPECT_FALSE(faceBox(headAt(50, 40), 200, cv::Size(128, 128)));
}

// The face phase draws its crops as it goes: runs of consecutive frames of
// one clip, only where a head is seen, in a shuffled but fixed order.
TEST(FaceCropRuns, CoverEveryFrameWithABoxOnceWithinItsClip) {
  std::vector<std::optional<cv::Rect>> boxes(25, cv::Rect(0, 0, 16, 16));
  for (int i = 8; i < 16; ++i) boxes[static_cast<std::size_t>(i)].reset();  // no head seen there
  const std::vector<std::pair<std::int64_t, std::int64_t>> clips = {{0, 20}, {20, 25}};
  auto runs = faceCropRuns(clips, boxes, 8, 3);
  EXPECT_EQ(runs, faceCropRuns(clips, boxes, 8, 3)) << "the same seed, the same order";
  std::sort(runs.begin(), runs.end());
  const std::vector<std::pair<std::int64_t, std::int64_t>> expected = {{0, 8}, {16, 20}, {20, 25}};
  EXPECT_EQ(runs, expected);
}

}  // namespace
}  // namespace booth
