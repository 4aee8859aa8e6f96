// TrainingSet: one fixed crop per session, poses mapped with the pixels.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "trainer_node/train/training_set.h"

namespace booth {
namespace {

std::vector<StoredFrame> syntheticSession(int frames, bool with_pose = true) {
  const PerformerLook& look = builtinPerformers()[0];
  Choreography dance(*findChoreography("warmup"), look.body, Stage{cv::Size(640, 480)}, 1);
  std::vector<StoredFrame> out;
  for (int i = 0; i < frames; ++i) {
    const Pose pose = dance.poseAt(i / 30.0);
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", renderPerformer(look, pose, cv::Size(640, 480)), jpeg);
    StoredFrame f;
    f.sequence = static_cast<std::uint64_t>(i);
    f.encoding = FrameEncoding::kJpeg;
    f.data = std::string(jpeg.begin(), jpeg.end());
    if (with_pose) f.pose = pose;
    out.push_back(f);
  }
  return out;
}

TEST(TrainingSet, FramesAndSticksAreAtModelResolution) {
  auto set = buildTrainingSet(syntheticSession(4), 64);
  ASSERT_TRUE(set.ok()) << set.error();
  ASSERT_EQ(set->frames.size(), 4u);
  ASSERT_EQ(set->sticks.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(set->frames[i].size(), cv::Size(64, 64));
    EXPECT_EQ(set->sticks[i].size(), cv::Size(64, 64));
    EXPECT_EQ(set->frames[i].type(), CV_8UC3);
  }
  EXPECT_EQ(set->source_width, 640);
  EXPECT_EQ(set->source_height, 480);
}

TEST(TrainingSet, PosesFollowTheCropIntoModelPixels) {
  auto set = buildTrainingSet(syntheticSession(3), 96);
  ASSERT_TRUE(set.ok()) << set.error();
  for (const Pose& p : set->poses) {
    for (const Keypoint& k : p.points) {
      EXPECT_GE(k.x, 0);
      EXPECT_LT(k.x, 96);
      EXPECT_GE(k.y, 0);
      EXPECT_LT(k.y, 96);
    }
    // The stick figure is drawn where the pose is: the hip midpoint is lit.
    const auto& l = p[Coco17::kLeftHip];
    const auto& r = p[Coco17::kRightHip];
    const cv::Vec3b px =
        set->sticks[0].at<cv::Vec3b>(cvRound((l.y + r.y) / 2), cvRound((l.x + r.x) / 2));
    EXPECT_GT(px[0] + px[1] + px[2], 0);
    break;
  }
  // The floor lies in the lower part of the crop (the booth camera sees the feet).
  EXPECT_GT(set->floor.close_ankle_y, 96 * 0.7);
}

TEST(TrainingSet, FewerThanTwoFramesIsAnError) {
  auto set = buildTrainingSet(syntheticSession(1), 64);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().find("at least 2"), std::string::npos) << set.error();
}

TEST(TrainingSet, FramesWithoutAPoseAreLeftOut) {
  auto frames = syntheticSession(4);
  frames[2].pose.reset();
  auto set = buildTrainingSet(frames, 64);
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set->frames.size(), 3u);
  auto none = buildTrainingSet(syntheticSession(3, /*with_pose=*/false), 64);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("0 of 3"), std::string::npos) << none.error();
}

TEST(TrainingSet, NoVisibleBodyIsAnError) {
  auto frames = syntheticSession(3);
  for (StoredFrame& f : frames) {
    (*f.pose)[Coco17::kLeftAnkle].confidence = 0;
    (*f.pose)[Coco17::kRightAnkle].confidence = 0;
  }
  auto set = buildTrainingSet(frames, 64);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().find("ankles and head"), std::string::npos) << set.error();
}

TEST(TrainingSet, UndecodableFrameNamesIt) {
  auto records = syntheticSession(3);
  records[1].data = "not a jpeg";
  auto set = buildTrainingSet(records, 64);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().find("frame 1"), std::string::npos) << set.error();
}

}  // namespace
}  // namespace booth
