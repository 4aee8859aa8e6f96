// PoseWorkerPool in top-down mode: a camera's frames in order on one worker
// at a time, the finder at its rate, the performer's final keypoints from
// the crop network. Real MoveNet on tfjs_pose_1.mp4 (../shared); the finder
// is scripted (the reference keypoints, 12 px off).
#include <gtest/gtest.h>

#include <future>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "capture_node/pose/pose_worker_pool.h"
#include "capture_node/spool/spool.h"
#include "common/pose/pose_accuracy.h"
#include "pose_model_files.h"
#include "temp_dir.h"

namespace booth {
namespace {
using namespace std::chrono_literals;

class ReferenceFinder final : public PoseEstimator {
 public:
  explicit ReferenceFinder(const std::vector<Pose>& reference) : reference_(reference) {}
  PoseOrigin origin() const override { return PoseOrigin::kNetwork; }
  std::string describe() const override { return "reference finder"; }
  Result<std::vector<PersonDetection>> estimate(const CapturedFrame& frame, const cv::Mat& image) override {
    if (image.empty()) return fail("no pixels");
    return std::vector<PersonDetection>{{transformPose(reference_.at(frame.sequence), 1.f, 12.f, 12.f), 0.7f}};
  }

 private:
  const std::vector<Pose>& reference_;
};

TEST(TopDownPool, EachCamerasFramesArePosedInOrderWithTheCropNetworksJoints) {
  const auto reference = PoseAccuracy::loadReference(test::requireSharedAsset("tfjs_pose_1.json")).value();
  cv::VideoCapture video(test::requireSharedAsset("tfjs_pose_1.mp4").string());
  test::TempDir dir;
  SessionMeta meta;
  meta.session_id = "s1";
  meta.cameras = {{"cam0", "video", 576, 576, 30}, {"cam1", "video", 576, 576, 30}};
  SpoolBudget budget{1 << 30};
  auto spool = std::move(SessionSpool::create(dir.path() / "spool", meta, budget).value());
  const std::size_t frames = 40;
  cv::Mat image;
  for (std::uint64_t i = 0; i < frames && video.read(image); ++i) {
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 92});
    for (std::size_t c = 0; c < 2; ++c) {
      CapturedFrame f;
      f.camera_id = spool->camera(c).cameraId();
      f.sequence = i;
      f.capture_time_us = static_cast<std::int64_t>(i) * 33333;
      f.encoding = FrameEncoding::kJpeg;
      f.width = f.height = 576;
      f.data.assign(jpeg.begin(), jpeg.end());
      ASSERT_TRUE(spool->camera(c).appendFrame(f).ok());
    }
  }
  std::vector<std::unique_ptr<PoseEstimator>> finders;
  std::vector<std::unique_ptr<MoveNetEstimator>> crops;
  for (int w = 0; w < 2; ++w) {
    finders.push_back(std::make_unique<ReferenceFinder>(reference));
    auto net = MoveNetEstimator::create({test::moveNetAssetManifest(dir.path()).string()});
    ASSERT_TRUE(net.ok()) << net.error();
    crops.push_back(std::move(net.value()));
  }
  TopDownConfig top_down;
  top_down.finder_hz = 6;  // every 5th frame at 30 fps
  PoseWorkerPool pool(std::move(finders), {}, SystemClock::instance(), std::move(crops), top_down);
  EXPECT_NE(pool.describe().find("top-down"), std::string::npos) << pool.describe();
  std::promise<Status> done;
  pool.addSession(*spool, [&](const std::string&, Status st) { done.set_value(st); });
  pool.captureComplete("s1");
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(120s), std::future_status::ready);
  ASSERT_TRUE(future.get().ok());
  for (std::size_t c = 0; c < 2; ++c) {
    ASSERT_EQ(spool->camera(c).poseCount(), frames);
    PoseAccuracy accuracy;
    for (std::size_t i = 0; i < frames; ++i) {
      auto r = spool->camera(c).readPose(i);
      ASSERT_TRUE(r.ok()) << r.error();
      EXPECT_EQ(r->sequence, i);
      EXPECT_TRUE(r->error.empty()) << r->error;
      ASSERT_TRUE(r->performer) << "camera " << c << " frame " << i;
      accuracy.add(*r->performer, reference[i]);
    }
    // MoveNet's joints (a few px), not the finder's (17 px off everywhere).
    EXPECT_LE(accuracy.summary().mean_px_error, 9.0) << "camera " << c;
  }
  pool.removeSession("s1");
  const PoseStageStats stats = pool.stats();
  EXPECT_EQ(stats.frames_posed, 2 * frames);
  EXPECT_GE(stats.finder_runs, 2u * 8u);   // every 5th of 40 frames per camera
  EXPECT_LE(stats.finder_runs, 2u * 16u);  // and a few more where unsure
}

}  // namespace
}  // namespace booth
