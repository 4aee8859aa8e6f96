// PoseSampler, and the pose worker pool running the network on every n-th
// frame of a fast camera while every frame still gets its final record.
#include "capture_node/pose/pose_sampler.h"

#include <atomic>
#include <future>
#include <mutex>
#include <set>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "capture_node/pose/pose_worker_pool.h"
#include "capture_node/spool/spool.h"
#include "scripted_source.h"
#include "temp_dir.h"

namespace booth {
namespace {
using namespace std::chrono_literals;

TEST(PoseSampler, PosesAtMostTheMaximumRate) {
  EXPECT_EQ(PoseSampler(120, 60).every(), 2);
  EXPECT_EQ(PoseSampler(100, 60).every(), 2);
  EXPECT_EQ(PoseSampler(120, 40).every(), 3);
  EXPECT_EQ(PoseSampler(30, 60).every(), 1);
  EXPECT_EQ(PoseSampler(60, 60).every(), 1);
  EXPECT_EQ(PoseSampler(120, 0).every(), 1);  // 0: every frame
  const PoseSampler half(120, 60);
  EXPECT_TRUE(half.shouldPose(0));
  EXPECT_FALSE(half.shouldPose(1));
  EXPECT_TRUE(half.shouldPose(40));
}

// A network-like estimator: one person whose joints sit at x = 2 * sequence;
// it notes which frames it was asked about.
class CountingNetwork final : public PoseEstimator {
 public:
  PoseOrigin origin() const override { return PoseOrigin::kNetwork; }
  std::string describe() const override { return "counting network"; }
  Result<std::vector<PersonDetection>> estimate(const CapturedFrame& frame,
                                                const cv::Mat& image) override {
    EXPECT_FALSE(image.empty());
    {
      std::lock_guard lock(mutex_);
      posed_.insert(frame.sequence);
    }
    Pose pose;
    for (int j = 0; j < kCoco17Count; ++j) {
      pose.points[j] = {2.f * frame.sequence + 10.f, 5.f + 2.f * j, 0.9f, false};
    }
    return std::vector<PersonDetection>{{pose, 0.9f}};
  }
  std::set<std::uint64_t> posed() const {
    std::lock_guard lock(mutex_);
    return posed_;
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::uint64_t> posed_;
};

TEST(PoseWorkerPoolSampling, AFastCameraIsPosedEveryOtherFrameAndEveryFrameGetsAPose) {
  test::TempDir dir;
  SpoolBudget budget{1 << 30};
  SessionMeta meta;
  meta.session_id = "s1";
  meta.cameras = {{"cam0", "v4l2", 64, 48, 120}};
  auto spool = std::move(SessionSpool::create(dir.path(), meta, budget).value());
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", cv::Mat(48, 64, CV_8UC3, cv::Scalar::all(100)), jpeg);
  constexpr std::uint64_t kFrames = 41;
  for (std::uint64_t s = 0; s < kFrames; ++s) {
    ASSERT_TRUE(spool->camera(0)
                    .appendFrame(test::makeFrame("cam0", s, std::string(jpeg.begin(), jpeg.end())))
                    .ok());
  }
  auto network = std::make_unique<CountingNetwork>();
  CountingNetwork& counting = *network;
  std::vector<std::unique_ptr<PoseEstimator>> estimators;
  estimators.push_back(std::move(network));
  PoseFinalizerConfig config;
  config.max_pose_fps = 60;
  PoseWorkerPool pool(std::move(estimators), config, SystemClock::instance());
  std::promise<Status> done;
  pool.addSession(*spool, [&](const std::string&, Status st) { done.set_value(st); });
  pool.captureComplete("s1");
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  ASSERT_TRUE(future.get().ok());

  const auto posed = counting.posed();
  EXPECT_EQ(posed.size(), 21u);
  for (std::uint64_t s : posed) EXPECT_EQ(s % 2, 0u) << s;
  EXPECT_EQ(pool.stats().frames_skipped, 20u);
  ASSERT_EQ(spool->camera(0).poseCount(), kFrames);
  for (std::uint64_t s = 0; s < kFrames; ++s) {
    auto record = spool->camera(0).readPose(s);
    ASSERT_TRUE(record.ok()) << record.error();
    ASSERT_TRUE(record->performer) << "frame " << s;
    const Keypoint& k = record->performer->points[3];
    EXPECT_NEAR(k.x, 2.f * s + 10.f, 1e-3) << s;  // on the line, posed or not
    EXPECT_EQ(k.imputed, s % 2 == 1) << s;
    EXPECT_EQ(record->people.empty(), s % 2 == 1) << s;
    EXPECT_GE(record->performer_track, 0) << s;
  }
}

}  // namespace
}  // namespace booth
