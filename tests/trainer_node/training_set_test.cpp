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
    f.width = 640;
    f.height = 480;
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

TEST(TrainingSet, HoldsOutTheLastFrames) {
  auto set = buildTrainingSet(syntheticSession(100), 64);
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set->held_out_begin, 90u);
  EXPECT_EQ(set->trainClip().frames.size(), 90u);
  EXPECT_EQ(set->heldOutClip().frames.size(), 10u);
  // The held-out clip starts where training stops: the frames are the same objects.
  EXPECT_EQ(set->heldOutClip().frames.data(), set->frames.data() + 90);
}

TEST(TrainingSet, ShortSessionsHoldNothingOut) {
  auto set = buildTrainingSet(syntheticSession(20), 64);
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set->heldOutCount(), 0u);
  EXPECT_EQ(set->trainClip().frames.size(), 20u);
}

TEST(TrainingSet, FaceBoxesSitOnTheHead) {
  auto set = buildTrainingSet(syntheticSession(3), 128);
  ASSERT_TRUE(set.ok()) << set.error();
  ASSERT_GT(set->face_side, 0);
  EXPECT_EQ(set->face_side % 4, 0);
  ASSERT_EQ(set->face_boxes.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(set->face_boxes[i]);
    const Keypoint& nose = set->poses[i][Coco17::kNose];
    EXPECT_TRUE(set->face_boxes[i]->contains(cv::Point(static_cast<int>(nose.x), static_cast<int>(nose.y))));
    EXPECT_EQ(set->face_boxes[i]->width, set->face_side);
  }
  ASSERT_EQ(set->trainClip().face_boxes.size(), 3u);
}

TEST(TrainingSet, GeometryWithoutDecodingMatchesTheTrainingSet) {
  const auto session = syntheticSession(12);
  auto set = buildTrainingSet(session, 96);
  auto geometry = sessionGeometry(session, 96);
  ASSERT_TRUE(set.ok() && geometry.ok());
  EXPECT_EQ(geometry->crop.x, set->crop.x);
  EXPECT_EQ(geometry->crop.side, set->crop.side);
  EXPECT_FLOAT_EQ(geometry->floor.close_ankle_y, set->floor.close_ankle_y);
  EXPECT_FLOAT_EQ(geometry->floor.far_height, set->floor.far_height);
  EXPECT_EQ(geometry->face_side, set->face_side);
}

TEST(TrainingSet, CropMapsPosesBothWays) {
  SessionCrop crop{80, 0, 480, 128.f / 480.f};
  Pose p;
  p[Coco17::kNose] = Keypoint{320.f, 100.f, 1.f, false};
  const Pose back = crop.toSource(crop.toModel(p));
  EXPECT_NEAR(back[Coco17::kNose].x, 320.f, 1e-3);
  EXPECT_NEAR(back[Coco17::kNose].y, 100.f, 1e-3);
  EXPECT_NEAR(crop.toModel(p)[Coco17::kNose].x, (320.f - 80.f) * 128.f / 480.f, 1e-3);
}

TEST(TrainingSet, ShouldStopAbandonsTheBuild) {
  TrainingSetOptions options;
  options.resolution = 64;
  int polls = 0;
  options.should_stop = [&] { return ++polls > 2; };
  auto set = buildTrainingSet(syntheticSession(10), options);
  ASSERT_FALSE(set.ok());
  EXPECT_NE(set.error().find("stopped"), std::string::npos) << set.error();
}

}  // namespace
}  // namespace booth
