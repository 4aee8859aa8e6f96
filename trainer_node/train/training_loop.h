#pragma once
// The time-budgeted training loop behind PoseToImageModel::train().
// Internal to trainer_node/train/ (includes libtorch).
//
// Schedule (all in fractions of TrainConfig's budget, or of max_iterations
// when that is reached first): the generator and multi-scale discriminator
// train until 1 - face_fraction, then the face GAN until the end (the
// generator frozen, its outputs for the training frames rendered once, in
// clip order, as a clip renders them). In each phase the learning rate is
// constant for constant_lr_fraction of the phase, then decays linearly to
// zero. Held-out evaluation runs every eval_seconds; the best weights are
// restored at the end of each phase. Where the schedule stands is kept in
// ModelParts::state, so a run resumed from a checkpoint continues it.
#include <optional>
#include <span>
#include <stop_token>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "common/core/result.h"
#include "trainer_node/train/model_parts.h"
#include "trainer_node/train/pose_to_image_model.h"

namespace booth {

// Clips on the device: every frame of every clip in one uint8 tensor.
struct DeviceClips {
  torch::Tensor sticks;  // uint8 N x 3 x R x R
  torch::Tensor frames;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;  // [begin, end) of each clip
  std::vector<std::int64_t> pair_ends;  // i: frames (i-1, i) are consecutive in one clip
  std::vector<std::optional<cv::Rect>> face_boxes;  // one per frame, or empty
  int face_side = 0;                               // side of every box (0: no boxes)
};

// Validates and uploads. `what` names the clips in errors ("train",
// "held-out").
Result<DeviceClips> uploadClips(std::span<const TrainClip> clips, int resolution,
                                torch::Device device, const std::string& what);

// Runs (or continues) the schedule. `save_checkpoint` is called every
// hooks.checkpoint_seconds when hooks.checkpoint_path is set.
Result<TrainResult> runTraining(ModelParts& parts, const DeviceClips& train,
                                const DeviceClips* held_out, const TrainConfig& config,
                                const TrainHooks& hooks, std::stop_token stop,
                                const std::function<Status()>& save_checkpoint);

// The "previous frame" a clip's first frame is drawn from: the generator's
// drawing of that frame from zeros (float 1 x 3 x R x R in [-1, 1]; `stick`
// float in [-1, 1]). Training only ever draws from zeros the first of its
// two unrolled frames, whose output then feeds the second: drawn straight
// from zeros, frame 0 was the worst of every clip (background PSNR about
// 10 dB below the frames after it).
torch::Tensor primeFirstFrame(ModelParts& parts, const torch::Tensor& stick);

// Draws frames [begin, end) of `clips` in order, each fed the previous
// output (primeFirstFrame for `begin`), with the generator in inference
// mode. Returns float N x 3 x R x R in [-1, 1].
torch::Tensor renderSequence(ModelParts& parts, const torch::Tensor& sticks, std::int64_t begin,
                             std::int64_t end);

}  // namespace booth
