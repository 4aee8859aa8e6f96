#pragma once
// Shared by the model, checkpoint and job tests: a tiny model config (a
// training step takes milliseconds on one core), a toy "performer" whose
// frames follow from its stick figures exactly, and a temporary folder.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "test_poses.h"
#include "trainer_node/train/pose_to_image_model.h"

namespace booth::test {

inline ModelConfig tinyModelConfig() {
  ModelConfig c;
  c.resolution = 32;
  c.ngf = 8;
  c.ndf = 8;
  c.downsamples = 2;
  c.blocks = 1;
  c.d_scales = 2;
  c.d_layers = 2;
  c.face_ngf = 4;
  c.face_blocks = 1;
  c.face_ndf = 4;
  c.face_d_layers = 1;
  return c;
}

// The same with the warp generator (part-wise warped reference as input).
inline ModelConfig tinyWarpModelConfig() {
  ModelConfig c = tinyModelConfig();
  c.generator = GeneratorKind::kWarp;
  return c;
}

// A schedule of `iterations` steps (the budget far above what they need).
inline TrainConfig iterationSchedule(int iterations) {
  TrainConfig t;
  t.budget_seconds = 3600;
  t.max_iterations = iterations;
  t.batch_size = 4;
  t.eval_seconds = 0;
  t.adapt_threads = false;
  return t;
}

// The "stick figure" is a white square on black, the "frame" a red square
// at the same place on a teal backdrop with a yellow "face" in its top
// left corner. Far from mid-grey, so an untrained generator (output near
// 0, i.e. grey) is clearly wrong. The pose is a standing person fitted
// into the square (for the warp generator).
struct ToyClip {
  std::vector<cv::Mat> sticks;
  std::vector<cv::Mat> frames;
  std::vector<std::optional<cv::Rect>> face_boxes;
  std::vector<Pose> poses;
  TrainClip view() const { return TrainClip{sticks, frames, face_boxes, poses}; }
};

inline ToyClip movingSquare(int n, int resolution, int first = 0) {
  ToyClip clip;
  const int side = resolution / 4;
  for (int k = 0; k < n; ++k) {
    const int i = first + k;
    const int x = 4 + (i * 3) % (resolution - side - 8);
    const int y = 4 + (i * 5) % (resolution - side - 8);
    const cv::Rect box(x, y, side, side);
    cv::Mat stick(resolution, resolution, CV_8UC3, cv::Scalar(0, 0, 0));
    cv::rectangle(stick, box, cv::Scalar(255, 255, 255), cv::FILLED);
    cv::Mat frame(resolution, resolution, CV_8UC3, cv::Scalar(180, 160, 20));
    cv::rectangle(frame, box, cv::Scalar(30, 40, 230), cv::FILLED);
    cv::rectangle(frame, cv::Rect(x, y, side / 2, side / 2), cv::Scalar(40, 220, 230), cv::FILLED);
    clip.sticks.push_back(stick);
    clip.frames.push_back(frame);
    // An 8-pixel face box around the yellow corner, inside the frame.
    const int fx = std::clamp(x - 2, 0, resolution - 8);
    const int fy = std::clamp(y - 2, 0, resolution - 8);
    clip.face_boxes.emplace_back(cv::Rect(fx, fy, 8, 8));
    clip.poses.push_back(transformPose(standingPose(), side / 100.f, static_cast<float>(x),
                                       static_cast<float>(y)));
  }
  return clip;
}

// Mean absolute error (0..255) of drawing the clip as a clip is drawn.
inline double renderError(PoseToImageModel& model, const ToyClip& clip, bool faces = false) {
  double total = 0;
  model.startSequence();
  for (std::size_t i = 0; i < clip.sticks.size(); ++i) {
    auto out = model.nextFrame(clip.sticks[i], faces ? clip.face_boxes[i] : std::nullopt);
    EXPECT_TRUE(out.ok()) << out.error();
    if (!out.ok()) return 1e9;
    total += cv::norm(*out, clip.frames[i], cv::NORM_L1) / static_cast<double>(out->total() * 3);
  }
  return total / static_cast<double>(clip.sticks.size());
}

inline std::unique_ptr<PoseToImageModel> makeModel(const ModelConfig& config = tinyModelConfig()) {
  auto model = PoseToImageModel::create(config, "cpu");
  EXPECT_TRUE(model.ok()) << model.error();
  return model.ok() ? std::move(model).value() : nullptr;
}

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("booth_test_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A clock that advances by `step` seconds at every reading: schedules can
// be tested without real time passing.
class FakeClock {
 public:
  explicit FakeClock(double step) : step_(step) {}
  double operator()() { return now_ += step_; }

 private:
  double step_;
  double now_ = 1000;
};

}  // namespace booth::test
