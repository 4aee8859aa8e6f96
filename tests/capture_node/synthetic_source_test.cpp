// SyntheticSource: a camera that knows its ground truth.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include <mutex>
#include <thread>

#include "capture_node/camera/camera_worker.h"
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
  CameraWorker worker(std::move(SyntheticSource::create(c).value()), SystemClock::instance());
  std::mutex mutex;
  std::vector<std::uint64_t> sequences;
  ASSERT_TRUE(worker
                  .start(
                      [&](CapturedFrame& f) {
                        std::lock_guard lock(mutex);
                        sequences.push_back(f.sequence);
                        return true;
                      },
                      nullptr)
                  .ok());
  std::this_thread::sleep_for(1s);
  worker.stop();
  std::lock_guard lock(mutex);
  EXPECT_GE(sequences.size(), 18u);  // 20 fps for 1 s, allowing for thread start
  EXPECT_LE(sequences.size(), 21u);
  EXPECT_EQ(worker.stats().source_gaps, 0u);
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
