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
#include <random>
#include <span>
#include <stop_token>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "common/core/result.h"
#include "trainer_node/train/model_parts.h"
#include "trainer_node/train/pose_to_image_model.h"
#include "trainer_node/train/warp_references.h"

namespace booth {

// Clips on the device: every frame of every clip in one uint8 tensor.
struct DeviceClips {
  torch::Tensor sticks;  // uint8 N x 3 x R x R
  torch::Tensor frames;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;  // [begin, end) of each clip
  std::vector<std::int64_t> pair_ends;  // i: frames (i-1, i) are consecutive in one clip
  std::vector<std::optional<cv::Rect>> face_boxes;  // one per frame, or empty
  int face_side = 0;                               // side of every box (0: no boxes)
  // The warp generator's references (all empty for the pose generator):
  // each frame's pose, the pool its references come from, and its own
  // place in that pool (nullopt: not one of the pool's frames, as a
  // held-out frame). The pools hold the host frames' pixels (shared).
  std::vector<Pose> poses;
  std::vector<ReferencePool> pools;
  std::vector<std::size_t> pool_of;
  std::vector<std::optional<std::size_t>> place_in_pool;
};

// Validates and uploads. `what` names the clips in errors ("train",
// "held-out"). For the warp generator every clip needs a pose per frame;
// each clip is its own reference pool, unless `reference_clips` is given:
// then all frames draw their references from those clips together (the
// held-out frames from the training frames).
Result<DeviceClips> uploadClips(std::span<const TrainClip> clips, const ModelConfig& config,
                                torch::Device device, const std::string& what,
                                std::span<const TrainClip> reference_clips = {});

// The warp generator draws a training frame's reference at random among
// its this many nearest candidates (ReferencePool::trainingCandidates): the
// generator learns from imperfect warps, as a clip's unseen poses give it.
inline constexpr std::size_t kTrainingReferenceCandidates = 4;

// The warp input of frame i of `clips` (float 1 x kWarpChannels x R x R in
// [-1, 1], on `device`): with `rng`, a reference drawn among the
// kTrainingReferenceCandidates nearest; without, the nearest. A frame of
// its own pool never gets itself or its neighbours in time.
torch::Tensor warpInput(const DeviceClips& clips, std::int64_t i, torch::Device device,
                        std::mt19937_64* rng);

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
// `warp`: the frame's warp input (undefined for the pose generator).
torch::Tensor primeFirstFrame(ModelParts& parts, const torch::Tensor& stick,
                              const torch::Tensor& warp);

// Draws frames [begin, end) of `clips` in order, each fed the previous
// output (primeFirstFrame for `begin`) and, for the warp generator, its
// nearest reference, with the generator in inference mode. Returns float
// N x 3 x R x R in [-1, 1].
torch::Tensor renderSequence(ModelParts& parts, const DeviceClips& clips, std::int64_t begin,
                             std::int64_t end);

}  // namespace booth
