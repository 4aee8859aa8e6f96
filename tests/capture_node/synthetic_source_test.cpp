// SyntheticSource: a camera that knows its ground truth.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include "capture_node/pose/ground_truth_pose.h"
#include "capture_node/source/synthetic_source.h"

namespace booth {
namespace {

using namespace std::chrono_literals;

SyntheticConfig fastConfig() {
  SyntheticConfig c;
  c.realtime = false;
  c.width = 320;
  c.height = 240;
  return c;
}

TEST(SyntheticSource, FramesAreJpegOfTheConfiguredSizeWithGroundTruth) {
  auto src = SyntheticSource::create(fastConfig());
  ASSERT_TRUE(src.ok()) << src.error();
  ASSERT_TRUE(src.value()->start().ok());
  for (std::uint64_t i = 0; i < 3; ++i) {
    auto f = src.value()->next(100ms);
    ASSERT_TRUE(f.ok()) << f.error();
    ASSERT_TRUE(f.value().has_value());
    EXPECT_EQ(f.value()->sequence, i);
    ASSERT_TRUE(f.value()->ground_truth.has_value());
    const cv::Mat img = cv::imdecode(
        std::vector<uchar>(f.value()->data.begin(), f.value()->data.end()), cv::IMREAD_COLOR);
    ASSERT_FALSE(img.empty());
    EXPECT_EQ(img.cols, 320);
    EXPECT_EQ(img.rows, 240);
    for (const Keypoint& k : f.value()->ground_truth->points) {
      EXPECT_GE(k.x, 0);
      EXPECT_LT(k.x, 320);
      EXPECT_GE(k.y, 0);
      EXPECT_LT(k.y, 240);
    }
  }
}

TEST(SyntheticSource, ALoopedSourceReplaysItsPreRenderedFrames) {
  SyntheticConfig c = fastConfig();
  c.loop_frames = 3;
  auto src = SyntheticSource::create(c);
  ASSERT_TRUE(src.ok()) << src.error();
  ASSERT_TRUE(src.value()->start().ok());
  std::vector<CapturedFrame> frames;
  for (int i = 0; i < 4; ++i) frames.push_back(*src.value()->next(100ms).value());
  EXPECT_EQ(frames[3].data, frames[0].data);
  EXPECT_NE(frames[1].data, frames[0].data);
  EXPECT_EQ(frames[3].sequence, 3u);  // sequence numbers keep counting
  EXPECT_FLOAT_EQ(frames[3].ground_truth->points[0].x, frames[0].ground_truth->points[0].x);
}

TEST(SyntheticSource, UnknownPerformerListsTheBuiltIns) {
  SyntheticConfig c = fastConfig();
  c.performer = "nobody";
  auto src = SyntheticSource::create(c);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(src.error().find("nobody"), std::string::npos);
  EXPECT_NE(src.error().find("ada"), std::string::npos) << src.error();
}

TEST(SyntheticSource, RealtimePacingFollowsTheFrameRate) {
  SyntheticConfig c = fastConfig();
  c.realtime = true;
  c.fps = 20;
  auto src = SyntheticSource::create(c);
  ASSERT_TRUE(src.ok());
  ASSERT_TRUE(src.value()->start().ok());
  std::vector<std::int64_t> times;
  while (times.size() < 6) {
    auto f = src.value()->next(200ms);
    ASSERT_TRUE(f.ok());
    if (f.value()) times.push_back(f.value()->capture_time_us);
  }
  // Frames are due 50 ms apart; the median spacing says so whatever the
  // machine's load does to a single one.
  std::vector<std::int64_t> gaps;
  for (std::size_t i = 1; i < times.size(); ++i) gaps.push_back(times[i] - times[i - 1]);
  std::sort(gaps.begin(), gaps.end());
  EXPECT_GE(gaps[gaps.size() / 2], 45000);
  EXPECT_LE(gaps[gaps.size() / 2], 80000);
}

TEST(GroundTruthPose, FrameWithoutGroundTruthIsAnError) {
  GroundTruthPose pose;
  CapturedFrame f;
  f.camera_id = "cam0";
  auto r = pose.estimate(f, cv::Mat());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("--pose-model"), std::string::npos);
}

}  // namespace
}  // namespace booth
