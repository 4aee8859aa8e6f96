#pragma once
// PoseToImageModel: the Everybody-Dance-Now pose-to-image model, made small
// for the booth. The header is libtorch-free on purpose (pimpl): the torch
// code lives in the other files of trainer_node/train/, so nothing that
// includes this header pays for the libtorch headers.
//
// What is inside (see ../../shared/DESIGN.md, "The model"):
// - generator: pix2pixHD global generator; input the stick figure of frame t
//   and the generated frame t-1 (zeros for a clip's first frame);
// - discriminator: multi-scale PatchGAN on (stick t-1, stick t, frame t-1,
//   frame t), judging realism and temporal coherence together;
// - losses: LSGAN + discriminator feature matching + L1 (no VGG perceptual
//   loss: its pretrained weights cannot be downloaded here); training
//   unrolls two consecutive frames, the second fed the first's output;
// - face GAN: a small residual generator and PatchGAN on the head crop,
//   trained after the generator; its residual is added to the face region.
//
// With ModelConfig::generator = kWarp the generator also sees one of the
// visitor's own frames carried part by part to the target pose
// (part_warp.h): training clips then need their poses, and rendering needs
// the visitor's frames (setReferences) and each target pose.
//
// Lifecycle: create() -> optionally loadWeights() (a base or warm start) or
// load() (resume) -> train() -> save() -> setReferences() (warp generator)
// -> startSequence() / nextFrame() to render. Threading: one thread uses a model at a time; train() blocks the
// calling thread and calls the hooks from it.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>

#include <opencv2/core.hpp>

#include "common/core/keypoints.h"
#include "common/core/result.h"
#include "trainer_node/train/model_config.h"

namespace booth {

struct TrainProgress {
  // Steps so far, resumed runs included. `iterations` is what the schedule
  // counts (both phases, TrainConfig::max_iterations); report the two kinds
  // of step separately: a generator step costs tens of face-GAN steps.
  std::int64_t iterations = 0;
  std::int64_t generator_steps = 0;
  std::int64_t face_steps = 0;
  // Steps per wall-clock second of each phase in this call (0 before it
  // ran): the phase's steps over the time spent in it, evaluation included.
  double generator_steps_per_second = 0;
  double face_steps_per_second = 0;
  double elapsed_seconds = 0;    // training seconds so far (schedule time)
  double budget_seconds = 0;     // the schedule's length
  double fraction = 0;           // 0..1 through the schedule
  std::string phase;             // "generator" or "face"
  double learning_rate = 0;
  float loss_g = 0;   // generator total (GAN + feature matching + L1), or the face generator's
  float loss_d = 0;   // discriminator (LSGAN)
  float loss_l1 = 0;  // L1 part, unweighted
  // Held-out error (mean absolute error in [0, 2] units) of the best
  // weights so far; negative before the first evaluation or without
  // held-out frames.
  double best_heldout_l1 = -1;
};

struct TrainResult {
  std::int64_t iterations = 0;  // in this call, both phases (the schedule's count)
  std::int64_t generator_steps = 0;  // in this call
  std::int64_t face_steps = 0;       // in this call
  double seconds = 0;           // wall seconds of this call
  // Over this call: all steps / seconds. Only comparable between runs of
  // one phase (face GAN off); else use last.generator_steps_per_second and
  // last.face_steps_per_second.
  double iterations_per_second = 0;
  // Seconds of this call spent in training steps (forward, backward,
  // update) and outside them (data, evaluation, checkpoints, hooks).
  double step_seconds = 0;
  // CPU threads libtorch used, averaged over the step time (see
  // TrainConfig::adapt_threads).
  double mean_threads = 0;
  TrainProgress last;
  bool finished = false;  // the schedule ran to its end (not stopped early)
};

// Consecutive frames of one clip (a visitor's session, a corpus clip).
// sticks[i], frames[i]: 8-bit BGR of the model's resolution. face_boxes:
// empty, or one per frame (nullopt where the head is not seen); every box
// of a training run has the same side. poses: the pose of each frame in
// model pixels; the warp generator needs them (a training frame's
// references are other frames of its own clip), the pose generator
// ignores them.
struct TrainClip {
  std::span<const cv::Mat> sticks;
  std::span<const cv::Mat> frames;
  std::span<const std::optional<cv::Rect>> face_boxes;
  std::span<const Pose> poses;
};

struct TrainHooks {
  // Called from the training thread about every progress_seconds and once
  // at the end.
  std::function<void(const TrainProgress&)> progress;
  double progress_seconds = 0.5;
  // Polled with progress; true ends training early (the result is still
  // ok, with finished = false). For cancellation by an operator.
  std::function<bool()> should_stop;
  // Full training state (weights, optimizers, schedule, best weights) is
  // saved here every checkpoint_seconds (atomically), for resume(). Empty:
  // no checkpoints.
  std::string checkpoint_path;
  double checkpoint_seconds = 30;
  // The clock, in seconds; steady_clock when empty. Tests inject one.
  std::function<double()> now_seconds;
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

  // Checkpoints (format and atomic write: checkpoint.h). save() writes
  // everything; load() restores everything, so that train() continues an
  // interrupted run where it stopped; loadWeights() takes only the networks
  // (a base model to fine-tune from) and starts a fresh schedule. A
  // checkpoint of another ModelConfig fails with both configs named.
  Status save(const std::string& path) const;
  Status load(const std::string& path);
  Status loadWeights(const std::string& path);
  // A warp model from a pose generator's base (checkpoint.h,
  // LoadMode::kWeightsFromPoseBase): the warped reference's input channels
  // start at zero, so it first draws what the base draws. For using an
  // existing pose base with --generator warp until a warp base is made.
  Status loadWeightsFromPoseBase(const std::string& path);
  // The ModelConfig stored in a checkpoint, without loading it.
  static Result<ModelConfig> checkpointConfig(const std::string& path);

  // Trains on the clips (pairs of consecutive frames are sampled from all
  // of them) following config's time-based schedule, continuing where a
  // loaded checkpoint's schedule stood. With held_out frames, the
  // generator (and face GAN) are evaluated on them periodically and the
  // best weights are kept and restored at the end (the warp generator
  // draws the held-out frames' references from all training clips). Stops at the schedule's
  // end, when `stop` is requested or hooks.should_stop() says so. Bad input
  // and torch failures come back as Error.
  Result<TrainResult> train(std::span<const TrainClip> clips, const TrainClip* held_out,
                            const TrainConfig& config, const TrainHooks& hooks,
                            std::stop_token stop = {});

  // Rendering, one frame at a time in clip order: startSequence() begins a
  // clip; nextFrame() draws the frame for this stick figure from the
  // previous raw output and, with a face box, adds the face GAN's residual
  // there. Returns 8-bit BGR of the resolution. A clip's first frame has no
  // previous output: it is drawn from the generator's own drawing of it
  // from zeros (two passes), as training feeds a first drawing to the
  // second of its unrolled frames; prime_first_frame = false draws it from
  // zeros in one pass (the old behaviour, for comparison: a clearly worse
  // frame).
  //
  // The warp generator needs the target pose (model pixels) and the frames
  // set by setReferences(); it warps the nearest reference, keeping the
  // previous frame's while it is still nearly the best (warp_references.h).
  // The pose generator ignores both; the overload without a pose fails for
  // the warp generator.
  void startSequence(bool prime_first_frame = true);
  Result<cv::Mat> nextFrame(const cv::Mat& stick, const Pose& pose,
                            const std::optional<cv::Rect>& face_box = std::nullopt);
  Result<cv::Mat> nextFrame(const cv::Mat& stick,
                            const std::optional<cv::Rect>& face_box = std::nullopt);

  // The visitor's frames (8-bit BGR of the model's resolution) and their
  // poses (model pixels) that the warp generator renders from: the whole
  // session. Pixels are shared, not copied. Fails on mismatched counts,
  // wrong images, or when no pose shows a torso.
  Status setReferences(std::span<const cv::Mat> frames, std::span<const Pose> poses);

  // Parameter counts (generator, discriminator) and the generator's
  // multiply-adds x 2 per forward pass at the model's resolution: for
  // GFLOP/s figures.
  std::int64_t generatorParameters() const;
  std::int64_t discriminatorParameters() const;
  double generatorForwardFlops() const;
  double discriminatorForwardFlops() const;

 private:
  struct Impl;
  explicit PoseToImageModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace booth
