// TopDownPose: the finder at its rate and when unsure, MoveNet on every
// frame for the performer, finder keypoints for everyone else, errors per
// frame. The finder here is scripted (the reference keypoints, shifted);
// MoveNet is the real network (../shared).
#include "capture_node/pose/top_down_pose.h"

#include <cmath>
#include <functional>
#include <optional>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/videoio.hpp>

#include "common/pose/pose_accuracy.h"
#include "pose_model_files.h"
#include "temp_dir.h"

namespace booth {
namespace {

// People per frame from a script; fails where the script says.
class ScriptedFinder final : public PoseEstimator {
 public:
  using Script = std::function<Result<std::vector<PersonDetection>>(std::uint64_t sequence)>;
  explicit ScriptedFinder(Script script) : script_(std::move(script)) {}
  PoseOrigin origin() const override { return PoseOrigin::kNetwork; }
  std::string describe() const override { return "scripted finder"; }
  Result<std::vector<PersonDetection>> estimate(const CapturedFrame& frame, const cv::Mat&) override {
    ++calls;
    return script_(frame.sequence);
  }
  int calls = 0;

 private:
  Script script_;
};

struct Clip {
  std::vector<cv::Mat> frames;
  std::vector<Pose> reference;
};

const Clip& clip() {
  static const Clip c = [] {
    Clip out;
    cv::VideoCapture video(test::requireSharedAsset("tfjs_pose_1.mp4").string());
    for (cv::Mat f; video.read(f);) out.frames.push_back(f.clone());
    out.reference = PoseAccuracy::loadReference(test::requireSharedAsset("tfjs_pose_1.json")).value();
    return out;
  }();
  return c;
}

// The finder's view of the dancer: the reference 12 px off (a coarse network).
PersonDetection coarse(const Pose& reference) {
  return {transformPose(reference, 1.f, 12.f, 12.f), 0.7f};
}

class TopDownPoseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto net = MoveNetEstimator::create({test::moveNetAssetManifest(dir_.path()).string()});
    ASSERT_TRUE(net.ok()) << net.error();
    net_ = std::move(net.value());
  }
  CapturedFrame info(std::size_t i) const {
    CapturedFrame f;
    f.camera_id = "cam0";
    f.sequence = i;
    return f;
  }
  test::TempDir dir_;
  std::unique_ptr<MoveNetEstimator> net_;
};

TEST_F(TopDownPoseTest, TheFinderRunsAtItsRateAndThePerformersJointsComeFromTheCrop) {
  const Clip& c = clip();
  ScriptedFinder finder([&](std::uint64_t i) -> Result<std::vector<PersonDetection>> {
    return std::vector<PersonDetection>{coarse(c.reference[i])};
  });
  TopDownConfig config;
  config.finder_hz = 6;  // every 5th frame at 30 fps
  TopDownPose stage(config, TrackerConfig::forFrameRate(30), c.frames.front().size(), 30);
  ASSERT_EQ(stage.finderEvery(), 5);
  PoseAccuracy accuracy;
  int finder_frames = 0;
  for (std::size_t i = 0; i < c.frames.size(); ++i) {
    auto tracked = stage.update(info(i), c.frames[i], finder, *net_);
    ASSERT_TRUE(tracked.ok()) << tracked.error();
    ASSERT_NE(tracked->performer(), nullptr) << "frame " << i;
    EXPECT_GE(stage.lastFrame().crops, 1);
    finder_frames += stage.lastFrame().finder_ran ? 1 : 0;
    accuracy.add(tracked->performer()->pose, c.reference[i]);
  }
  EXPECT_EQ(finder.calls, finder_frames);
  // Every 5th frame while the dancer stays certain; a few more where not.
  EXPECT_GE(finder.calls, 24);
  EXPECT_LE(finder.calls, 40);
  // The crop's joints, not the finder's (17 px off on every joint).
  EXPECT_LE(accuracy.summary().mean_px_error, 9.0);
}

TEST_F(TopDownPoseTest, EveryoneElseKeepsTheFindersKeypoints) {
  const Clip& c = clip();
  // A bystander far left, small, the finder's keypoints only.
  const PersonDetection bystander{transformPose(c.reference[0], 0.4f, 0.f, 300.f), 0.6f};
  ScriptedFinder finder([&](std::uint64_t i) -> Result<std::vector<PersonDetection>> {
    return std::vector<PersonDetection>{coarse(c.reference[i]), bystander};
  });
  TopDownConfig config;
  config.finder_hz = 10;
  TopDownPose stage(config, TrackerConfig::forFrameRate(30), c.frames.front().size(), 30);
  for (std::size_t i = 0; i < 12; ++i) {
    auto tracked = stage.update(info(i), c.frames[i], finder, *net_);
    ASSERT_TRUE(tracked.ok()) << tracked.error();
    if (!stage.lastFrame().finder_ran) {
      EXPECT_EQ(tracked->people.size(), 1u) << "a crop frame has the performer alone";
      continue;
    }
    ASSERT_EQ(tracked->people.size(), 2u);
    for (const TrackedPerson& p : tracked->people) {
      if (p.track_id == tracked->performer_track) continue;
      EXPECT_EQ(p.pose.points[5].x, bystander.pose.points[5].x);
      EXPECT_EQ(p.pose.points[5].y, bystander.pose.points[5].y);
    }
  }
}

TEST_F(TopDownPoseTest, AFinderErrorFailsTheFrameAndTheNextFrameRunsTheFinder) {
  const Clip& c = clip();
  ScriptedFinder finder([&](std::uint64_t i) -> Result<std::vector<PersonDetection>> {
    if (i == 5) return fail("finder exploded on frame 5");
    return std::vector<PersonDetection>{coarse(c.reference[i])};
  });
  TopDownConfig config;
  config.finder_hz = 6;
  TopDownPose stage(config, TrackerConfig::forFrameRate(30), c.frames.front().size(), 30);
  for (std::size_t i = 0; i < 5; ++i) ASSERT_TRUE(stage.update(info(i), c.frames[i], finder, *net_).ok());
  auto bad = stage.update(info(5), c.frames[5], finder, *net_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("frame 5"), std::string::npos) << bad.error();
  EXPECT_EQ(stage.noPose().performer_track, -1);
  auto next = stage.update(info(6), c.frames[6], finder, *net_);
  ASSERT_TRUE(next.ok()) << next.error();
  EXPECT_TRUE(stage.lastFrame().finder_ran);
  EXPECT_NE(next->performer(), nullptr) << "the same performer resumes";
}

TEST_F(TopDownPoseTest, WithoutAnyoneInTheZoneThereIsNoPerformerAndTheFinderKeepsLooking) {
  const Clip& c = clip();
  ScriptedFinder finder([&](std::uint64_t i) -> Result<std::vector<PersonDetection>> {
    return std::vector<PersonDetection>{coarse(c.reference[i])};
  });
  TrackerConfig tracker = TrackerConfig::forFrameRate(30);
  tracker.zone = cv::Rect2f(0.f, 0.f, 0.1f, 0.1f);  // the top-left corner: nobody's feet
  TopDownPose stage(TopDownConfig{}, tracker, c.frames.front().size(), 30);
  for (std::size_t i = 0; i < 4; ++i) {
    auto tracked = stage.update(info(i), c.frames[i], finder, *net_);
    ASSERT_TRUE(tracked.ok()) << tracked.error();
    EXPECT_EQ(tracked->performer_track, -1);
    EXPECT_TRUE(stage.lastFrame().finder_ran);
    EXPECT_EQ(stage.lastFrame().crops, 0);
  }
}

}  // namespace
}  // namespace booth
