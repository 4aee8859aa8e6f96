// PoseWorkerPool: several workers, frames finished out of order, records
// final in order; bad frames get a record with the error.
#include <gtest/gtest.h>

#include <future>
#include <set>
#include <stdexcept>

#include <opencv2/imgcodecs.hpp>
#include <random>
#include <thread>

#include "capture_node/pose/ground_truth_pose.h"
#include "capture_node/pose/pose_worker_pool.h"
#include "capture_node/spool/spool.h"
#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "scripted_source.h"
#include "temp_dir.h"

namespace booth {
namespace {
using namespace std::chrono_literals;
using test::makeFrame;

// Ground truth after a random delay, so workers finish out of order.
class JitteryTruth final : public PoseEstimator {
 public:
  explicit JitteryTruth(unsigned seed) : rng_(seed) {}
  PoseOrigin origin() const override { return PoseOrigin::kGroundTruth; }
  std::string describe() const override { return "jittery ground truth"; }
  Result<std::vector<PersonDetection>> estimate(const CapturedFrame& frame,
                                                const cv::Mat& image) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(rng_() % 4));
    return truth_.estimate(frame, image);
  }

 private:
  std::mt19937 rng_;
  GroundTruthPose truth_;
};

// A real dancer's pose at frame `sequence` (the tracker only follows
// plausible people), on a 64x48 frame.
Pose truthFor(std::uint64_t sequence) {
  static const Choreography dance(*findChoreography("warmup"), builtinPerformers()[0].body,
                                  Stage{cv::Size(640, 480)}, 1);
  return transformPose(dance.poseAt(static_cast<double>(sequence) / 30.0), 0.1f, 0, 0);
}

class PoseWorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SessionMeta m;
    m.session_id = "s1";
    m.cameras = {{"cam0", "synthetic", 64, 48, 30}, {"cam1", "synthetic", 64, 48, 30}};
    spool_ = std::move(SessionSpool::create(dir_.path(), m, budget_).value());
  }
  void add(std::size_t camera, std::uint64_t sequence, bool with_truth = true) {
    CapturedFrame f = makeFrame(spool_->camera(camera).cameraId(), sequence);
    if (with_truth) f.ground_truth = truthFor(sequence);
    ASSERT_TRUE(spool_->camera(camera).appendFrame(f).ok());
  }
  test::TempDir dir_;
  SpoolBudget budget_{1 << 30};
  std::unique_ptr<SessionSpool> spool_;
};

TEST_F(PoseWorkerPoolTest, EveryFrameGetsOneFinalRecordInFrameOrder) {
  std::vector<std::unique_ptr<PoseEstimator>> estimators;
  for (unsigned i = 0; i < 3; ++i) estimators.push_back(std::make_unique<JitteryTruth>(i));
  PoseWorkerPool pool(std::move(estimators), {}, SystemClock::instance());
  std::promise<Status> done;
  pool.addSession(*spool_, [&](const std::string&, Status st) { done.set_value(st); });
  // Frames arrive while the workers already run, as during a capture.
  for (std::uint64_t i = 0; i < 40; ++i) {
    add(0, i);
    add(1, i);
    pool.notify();
  }
  pool.captureComplete("s1");
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  ASSERT_TRUE(future.get().ok());
  for (std::size_t c = 0; c < 2; ++c) {
    ASSERT_EQ(spool_->camera(c).poseCount(), 40u);
    for (std::size_t i = 0; i < 40; ++i) {
      auto r = spool_->camera(c).readPose(i);
      ASSERT_TRUE(r.ok()) << r.error();
      EXPECT_EQ(r->sequence, i);
      ASSERT_TRUE(r->performer) << "frame " << i;
      // Smoothing moves points by a fraction of a pixel, not to another frame's place.
      EXPECT_NEAR(r->performer->points[0].x, truthFor(i).points[0].x, 1.0f);
      EXPECT_EQ(r->origin, PoseOrigin::kGroundTruth);
    }
  }
  EXPECT_TRUE(spool_->notes().pose_complete);
  pool.removeSession("s1");
  EXPECT_EQ(pool.stats().frames_posed, 80u);
}

TEST_F(PoseWorkerPoolTest, AFrameThatCannotBePosedGetsARecordWithTheReason) {
  std::vector<std::unique_ptr<PoseEstimator>> estimators;
  estimators.push_back(std::make_unique<GroundTruthPose>());
  PoseWorkerPool pool(std::move(estimators), {}, SystemClock::instance());
  add(0, 0);
  add(0, 1, /*with_truth=*/false);
  add(0, 2);
  std::promise<Status> done;
  pool.addSession(*spool_, [&](const std::string&, Status st) { done.set_value(st); });
  pool.captureComplete("s1");
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(future.get().ok());
  ASSERT_EQ(spool_->camera(0).poseCount(), 3u);
  auto bad = spool_->camera(0).readPose(1);
  EXPECT_TRUE(bad->people.empty());
  EXPECT_NE(bad->error.find("ground-truth"), std::string::npos) << bad->error;
  // A frame that could not be posed is marked as having no pose (even
  // though the smoother could impute one, the frame itself is not usable);
  // its neighbours keep theirs.
  EXPECT_FALSE(bad->performer);
  EXPECT_TRUE(spool_->camera(0).readPose(0)->performer);
  EXPECT_TRUE(spool_->camera(0).readPose(2)->performer);
  EXPECT_EQ(pool.stats().frames_failed, 1u);
}

TEST_F(PoseWorkerPoolTest, APoolResumesWherePosingStopped) {
  add(0, 0);
  add(0, 1);
  PoseRecord first;
  first.camera_id = "cam0";
  first.sequence = 0;
  ASSERT_TRUE(spool_->camera(0).appendPose(first).ok());  // posed before a restart
  std::vector<std::unique_ptr<PoseEstimator>> estimators;
  estimators.push_back(std::make_unique<GroundTruthPose>());
  PoseWorkerPool pool(std::move(estimators), {}, SystemClock::instance());
  std::promise<Status> done;
  pool.addSession(*spool_, [&](const std::string&, Status st) { done.set_value(st); });
  pool.captureComplete("s1");
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  ASSERT_TRUE(future.get().ok());
  ASSERT_EQ(spool_->camera(0).poseCount(), 2u);
  EXPECT_TRUE(spool_->camera(0).readPose(1)->performer);
  EXPECT_EQ(pool.stats().frames_posed, 1u);
}

// A "network" that needs the decoded pixels: the ground truth, after
// checking the image arrived; it throws on the frames it is told to.
class PixelTruth final : public PoseEstimator {
 public:
  explicit PixelTruth(std::set<std::uint64_t> throw_on = {}) : throw_on_(std::move(throw_on)) {}
  PoseOrigin origin() const override { return PoseOrigin::kNetwork; }
  std::string describe() const override { return "pixel truth"; }
  Result<std::vector<PersonDetection>> estimate(const CapturedFrame& frame,
                                                const cv::Mat& image) override {
    if (throw_on_.count(frame.sequence)) throw std::runtime_error("the network blew up");
    if (image.empty()) return fail("no pixels");
    return truth_.estimate(frame, image);
  }

 private:
  std::set<std::uint64_t> throw_on_;
  GroundTruthPose truth_;
};

std::string smallJpeg() {
  std::vector<uchar> bytes;
  cv::imencode(".jpg", cv::Mat(48, 64, CV_8UC3, cv::Scalar(50, 80, 110)), bytes);
  return {bytes.begin(), bytes.end()};
}

// The same JPEG with its frame header claiming 65000 x 65000 pixels (above
// 2^30, where OpenCV's imdecode throws instead of failing).
std::string absurdJpeg() {
  std::string jpeg = smallJpeg();
  for (std::size_t i = 2; i + 8 < jpeg.size(); ++i) {
    if (static_cast<unsigned char>(jpeg[i]) == 0xFF && static_cast<unsigned char>(jpeg[i + 1]) == 0xC0) {
      jpeg[i + 5] = jpeg[i + 7] = static_cast<char>(0xFD);
      jpeg[i + 6] = jpeg[i + 8] = static_cast<char>(0xE8);
      break;
    }
  }
  return jpeg;
}

class PoseFaultTest : public PoseWorkerPoolTest {
 protected:
  void addJpeg(std::uint64_t sequence, std::string bytes) {
    CapturedFrame f = makeFrame("cam0", sequence, std::move(bytes));
    f.ground_truth = truthFor(sequence);
    ASSERT_TRUE(spool_->camera(0).appendFrame(f).ok());
  }
  Status runPool(std::set<std::uint64_t> throw_on) {
    std::vector<std::unique_ptr<PoseEstimator>> estimators;
    estimators.push_back(std::make_unique<PixelTruth>(throw_on));
    estimators.push_back(std::make_unique<PixelTruth>(throw_on));
    PoseWorkerPool pool(std::move(estimators), {}, SystemClock::instance());
    std::promise<Status> done;
    pool.addSession(*spool_, [&](const std::string&, Status st) { done.set_value(st); });
    pool.captureComplete("s1");
    auto future = done.get_future();
    if (future.wait_for(10s) != std::future_status::ready) return fail("the pool never finished");
    Status st = future.get();
    pool.removeSession("s1");
    frames_failed_ = pool.stats().frames_failed;
    return st;
  }
  std::uint64_t frames_failed_ = 0;
};

TEST_F(PoseFaultTest, AJpegClaimingAnAbsurdSizeFailsItsFrameNotTheWorker) {
  for (std::uint64_t i = 0; i < 6; ++i) addJpeg(i, i == 2 ? absurdJpeg() : smallJpeg());
  ASSERT_TRUE(runPool({}).ok());
  ASSERT_EQ(spool_->camera(0).poseCount(), 6u);
  auto bad = spool_->camera(0).readPose(2);
  EXPECT_NE(bad->error.find("65000x65000"), std::string::npos) << bad->error;
  EXPECT_FALSE(bad->performer);
  EXPECT_TRUE(spool_->camera(0).readPose(3)->performer);
  EXPECT_EQ(frames_failed_, 1u);
}

TEST_F(PoseFaultTest, AFrameThatDoesNotDecodeGetsARecordWithTheReason) {
  for (std::uint64_t i = 0; i < 4; ++i) addJpeg(i, i == 1 ? "\xff\xd8 not really a jpeg" : smallJpeg());
  ASSERT_TRUE(runPool({}).ok());
  auto bad = spool_->camera(0).readPose(1);
  EXPECT_NE(bad->error.find("does not decode"), std::string::npos) << bad->error;
  EXPECT_TRUE(spool_->camera(0).readPose(2)->performer);
}

TEST_F(PoseFaultTest, ANetworkThatThrowsFailsThatFrameAndTheWorkersGoOn) {
  for (std::uint64_t i = 0; i < 8; ++i) addJpeg(i, smallJpeg());
  ASSERT_TRUE(runPool({3}).ok());
  ASSERT_EQ(spool_->camera(0).poseCount(), 8u);
  auto bad = spool_->camera(0).readPose(3);
  EXPECT_NE(bad->error.find("the network blew up"), std::string::npos) << bad->error;
  for (std::size_t i : {0u, 4u, 7u}) EXPECT_TRUE(spool_->camera(0).readPose(i)->performer) << i;
}

TEST_F(PoseFaultTest, ANodeRestartedAfterABadFrameDoesNotMeetItAgain) {
  for (std::uint64_t i = 0; i < 3; ++i) addJpeg(i, i == 1 ? absurdJpeg() : smallJpeg());
  ASSERT_TRUE(runPool({}).ok());  // the first run: frame 1 failed, recorded
  ASSERT_EQ(spool_->camera(0).poseCount(), 3u);
  // Restart: more frames came; the pool resumes after the recorded ones and
  // never decodes frame 1 again (it would throw, were it read: it is not).
  for (std::uint64_t i = 3; i < 5; ++i) addJpeg(i, smallJpeg());
  ASSERT_TRUE(runPool({1}).ok());
  ASSERT_EQ(spool_->camera(0).poseCount(), 5u);
  EXPECT_EQ(frames_failed_, 0u);
  EXPECT_FALSE(spool_->camera(0).readPose(1)->error.empty());
}

}  // namespace
}  // namespace booth
