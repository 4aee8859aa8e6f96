#pragma once
// PoseToImageModel: the Everybody-Dance-Now style generator and its
// discriminator, made small for the booth. The header is libtorch-free on
// purpose (pimpl): everything torch lives in pose_to_image_model.cpp so that
// only one translation unit pays for the libtorch headers.
//
// Generator (pix2pixHD global generator, sized by ModelConfig): reflection
// pad + 7x7 conv, `downsamples` stride-2 convs, `blocks` residual blocks,
// transposed convs back up, 7x7 conv, tanh; instance norm. Input: the stick
// figure of frame t (3 ch) and the generated frame t-1 (3 ch, zeros for the
// first frame). Discriminator: PatchGAN on (stick t-1, stick t, frame t-1,
// frame t), 12 channels, so it judges realism and temporal coherence.
// Losses: LSGAN + lambda_l1 * L1 reconstruction (no VGG perceptual loss: its
// pretrained weights cannot be downloaded here).
//
// Threading: one thread uses a model at a time; train() blocks the caller.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string>

#include <opencv2/core.hpp>

#include "common/core/result.h"

namespace booth {

struct ModelConfig {
  int resolution = 128;  // square side of stick figures and frames
  // 16, not pix2pixHD's 64: on 2 CPU cores it trains 2x faster than 32 and
  // reached a better PSNR within a 120 s budget (24.2 vs 23.9 dB measured
  // on 450 synthetic frames from scratch).
  int ngf = 16;  // generator filters in the first layer
  int ndf = 32;  // discriminator filters in the first layer
  int downsamples = 2;
  int blocks = 4;  // residual blocks at the bottleneck
};

struct TrainConfig {
  double budget_seconds = 120;  // wall-clock training time; the schedule is time-based
  // Pairs of consecutive frames per step. 1 as in pix2pixHD/EDN: on CPU a step
  // costs about batch_size times as much, and within a fixed wall-clock budget
  // more, smaller steps reached clearly better held-out PSNR.
  int batch_size = 1;
  float learning_rate = 2e-4f;
  float lambda_l1 = 50.f;
  std::uint64_t seed = 1;
  int max_iterations = 0;  // 0 = no limit other than the budget
};

struct TrainProgress {
  std::int64_t iterations = 0;
  double elapsed_seconds = 0;
  double budget_seconds = 0;
  float loss_g = 0;   // generator total (GAN + L1)
  float loss_d = 0;   // discriminator (LSGAN)
  float loss_l1 = 0;  // L1 part, unweighted
};

struct TrainResult {
  std::int64_t iterations = 0;
  double seconds = 0;
  double iterations_per_second = 0;
  TrainProgress last;
};

class PoseToImageModel {
 public:
  // device: "cpu" or "cuda" / "cuda:N". Fails with a clear message when the
  // device is not available or the config is out of range.
  static Result<std::unique_ptr<PoseToImageModel>> create(const ModelConfig& config,
                                                          const std::string& device);
  ~PoseToImageModel();
  PoseToImageModel(const PoseToImageModel&) = delete;
  PoseToImageModel& operator=(const PoseToImageModel&) = delete;

  const ModelConfig& config() const;
  std::string deviceName() const;

  // Checkpoints hold generator and discriminator weights plus the model
  // config; loading one made with another config fails with both configs in
  // the message.
  Status load(const std::string& path);
  Status save(const std::string& path) const;

  // Fine-tunes on consecutive (stick figure, frame) pairs: sticks[i] and
  // frames[i] are 8-bit BGR images of config().resolution squared, in time
  // order. Stops at the budget, at max_iterations, or when `stop` is
  // requested. `progress` is called from the calling thread about once a
  // second. Errors (bad input, torch failures) come back as Error.
  Result<TrainResult> train(std::span<const cv::Mat> sticks, std::span<const cv::Mat> frames,
                            const TrainConfig& config,
                            const std::function<void(const TrainProgress&)>& progress,
                            std::stop_token stop = {});

  // One generator step for rendering: stick figure of this frame and the
  // previous generated frame (empty Mat for the first frame). Returns an
  // 8-bit BGR image of config().resolution squared.
  Result<cv::Mat> generate(const cv::Mat& stick, const cv::Mat& previous);

 private:
  struct Impl;
  explicit PoseToImageModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace booth
