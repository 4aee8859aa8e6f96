#pragma once
// The typed configuration of the pose-to-image model and of its training,
// parsed once at the edge (trainer_options.cpp) and handed to the model.
// libtorch-free: every component may include it.
#include <cstdint>
#include <string>

#include "common/core/result.h"

namespace booth {

// What the generator sees beside the stick figure of frame t and its own
// frame t-1:
// - kPose: nothing more (Everybody Dance Now): the visitor's look is in the
//   weights only, learnt from the poses they made;
// - kWarp: one of the visitor's own frames, the nearest by limb orientation,
//   carried part by part to the target pose, and its coverage mask
//   (part_warp.h, warp_references.h): the look travels to poses the visitor
//   never made.
enum class GeneratorKind { kPose = 0, kWarp = 1 };
const char* generatorKindName(GeneratorKind kind);  // "pose", "warp"
Result<GeneratorKind> parseGeneratorKind(const std::string& name);

// Architecture. Every field is stored by name in a checkpoint; a checkpoint
// loads only into a model whose ModelConfig is equal.
struct ModelConfig {
  int resolution = 128;  // square side of stick figures and frames
  GeneratorKind generator = GeneratorKind::kPose;
  // Generator (pix2pixHD global generator). ngf 16: on 2 CPU cores the
  // cheapest width that still draws hands and faces once warm-started;
  // 32 costs 3x per step.
  int ngf = 16;
  int downsamples = 2;
  int blocks = 4;  // residual blocks at the bottleneck
  // Multi-scale PatchGAN (pix2pixHD): d_scales discriminators on the frame
  // pair at 1, 1/2, ... resolution, each with d_layers stride-2 layers.
  int ndf = 32;
  int d_scales = 2;
  int d_layers = 3;
  // Face GAN (Everybody Dance Now): a small residual generator and a
  // PatchGAN on a square head crop. Always part of the model (it is small);
  // whether it is trained and used is TrainConfig/RenderConfig's face_gan.
  int face_ngf = 16;
  int face_blocks = 2;
  int face_ndf = 32;
  int face_d_layers = 2;

  bool operator==(const ModelConfig&) const = default;
};

// "{resolution=128, ngf=16, ...}": every field by name, for error messages.
std::string describe(const ModelConfig& config);
// Ranges and the divisibility the architecture needs; the message names the
// field and its value.
Status validate(const ModelConfig& config);

// Numeric precision of training. kBf16 runs the training step's networks
// under autocast with bfloat16 (weights and optimizer stay float32);
// held-out evaluation and rendering always run in float32.
enum class Precision { kFloat32, kBfloat16 };
const char* precisionName(Precision precision);  // "fp32", "bf16"

struct TrainConfig {
  // Wall-clock seconds of training. The learning-rate schedule and the
  // phases (generator, then face GAN) are fractions of it, so a job's
  // budget is honoured whatever the machine's speed.
  double budget_seconds = 120;
  // Stop after this many steps (0 = no limit). When set, progress through
  // the schedule is max(time fraction, iteration fraction): pretraining with
  // an iteration count is reproducible on any machine.
  std::int64_t max_iterations = 0;
  // Pairs of consecutive frames per step. 1 as in pix2pixHD/EDN: on CPU a
  // step costs about batch_size times as much, and within a wall-clock
  // budget more, smaller steps reached clearly better held-out PSNR.
  int batch_size = 1;
  float learning_rate = 2e-4f;
  // The learning rate stays constant for this fraction of the schedule,
  // then decays linearly to zero at its end (pix2pixHD, in time).
  double constant_lr_fraction = 0.5;
  float lambda_l1 = 50.f;    // L1 reconstruction
  float lambda_feat = 10.f;  // discriminator feature matching (pix2pixHD's 10)
  float lambda_gan = 1.f;    // LSGAN
  // L2-SP (Li et al. 2018), against forgetting what the base knew: the
  // generator's loss gets (lambda_l2sp / 2) * |w - w_base|^2 over its
  // weights, w_base being the weights the schedule started from (the base
  // model, kept with the training state so a resumed job keeps it). 0: off.
  float lambda_l2sp = 0.f;
  // Against a discriminator that wins outright (pretraining's LSGAN loss
  // sat at 0.003-0.02, where 0.25 means it cannot tell): the
  // discriminator's learning rate is d_learning_rate_scale times the
  // generator's (two time-scale update rule, Heusel et al. 2017), and
  // every frame it sees, real or generated, gets Gaussian noise of
  // standard deviation instance_noise (pixels in [-1, 1]), fading linearly
  // to zero over the generator phase (instance noise, Sonderby et al.
  // 2016). 1 and 0: off. A quarter kept the discriminator's loss in a
  // healthy range and improved the yardstick (trainer_node/README.md, "The
  // discriminator in pretrain"); instance noise of 0.1 hardly changed it.
  float d_learning_rate_scale = 0.25f;
  float instance_noise = 0.f;
  // Face GAN: trained after the generator, on this last fraction of the
  // budget (the generator is frozen then).
  bool face_gan = true;
  double face_fraction = 0.15;
  float face_lambda_l1 = 50.f;
  // Held-out evaluation: every eval_seconds the generator renders the
  // held-out frames (feeding its output back, as a clip does); the weights
  // with the lowest error are kept and restored at the end.
  double eval_seconds = 20;
  std::uint64_t seed = 1;
  Precision precision = Precision::kFloat32;
  // CPU only: while training, switch libtorch between all its threads and
  // one thread, whichever makes steps faster right now (see ThreadTuner in
  // cpu_runtime.h). Off when the thread count was given explicitly.
  bool adapt_threads = true;
  // CUDA only: capture one training step in a CUDA graph and replay it
  // (removes per-kernel launch cost, which dominates small models on a GPU).
  bool cuda_graph = false;
};

Status validate(const TrainConfig& config);

}  // namespace booth
