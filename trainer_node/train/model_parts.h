#pragma once
// Everything a PoseToImageModel holds: the four networks, their
// optimizers and where training stands. Internal to trainer_node/train/
// (includes libtorch); the facade owns one, the training loop and the
// checkpoint code work on it.
#include <cstdint>
#include <limits>
#include <memory>

#include <torch/torch.h>

#include "trainer_node/train/discriminator.h"
#include "trainer_node/train/flat_adam.h"
#include "trainer_node/train/generator.h"
#include "trainer_node/train/model_config.h"

namespace booth {

// Training phases, in order. The value is stored in checkpoints.
enum class TrainPhase : int { kGenerator = 0, kFace = 1, kDone = 2 };

// Where a (possibly interrupted) training run stands; saved with the
// weights so that a resumed run continues its schedule and keeps its best.
struct TrainingState {
  double seconds = 0;            // training seconds spent on the schedule
  std::int64_t iterations = 0;   // steps of both phases (the schedule counts these)
  std::int64_t face_steps = 0;   // of those, face-GAN steps; the rest are generator steps
  TrainPhase phase = TrainPhase::kGenerator;
  double budget_seconds = 0;     // the schedule's length (0: not started)
  std::int64_t max_iterations = 0;
  // Held-out evaluation: the lowest error seen and the weights that had it
  // (flat copies of the generators' parameters; undefined before the first
  // evaluation).
  double best_generator_error = std::numeric_limits<double>::infinity();
  torch::Tensor best_generator;
  double best_face_error = std::numeric_limits<double>::infinity();
  torch::Tensor best_face_generator;
  std::int64_t evaluations = 0;
  // L2-SP's anchor: the generator's flat weights when the schedule started
  // (undefined when TrainConfig::lambda_l2sp is 0).
  torch::Tensor anchor_generator;
};

struct ModelParts {
  ModelParts(const ModelConfig& config, torch::Device device);

  ModelConfig config;
  torch::Device device;
  GlobalGenerator generator{nullptr};
  MultiscaleDiscriminator discriminator{nullptr};
  GlobalGenerator face_generator{nullptr};
  MultiscaleDiscriminator face_discriminator{nullptr};
  std::unique_ptr<FlatAdam> generator_opt;
  std::unique_ptr<FlatAdam> discriminator_opt;
  std::unique_ptr<FlatAdam> face_generator_opt;
  std::unique_ptr<FlatAdam> face_discriminator_opt;
  TrainingState state;
};

GeneratorOptions generatorOptions(const ModelConfig& config);

// The warp generator's extra input: the warped reference (3 channels) and
// its coverage mask (1), in [-1, 1].
inline constexpr std::int64_t kWarpChannels = 4;

// The generator's input for frame t: stick figure t and frame t-1 (N x 3 x
// R x R each) and, for the warp generator, `warp` (N x kWarpChannels x R x
// R). Throws std::invalid_argument when the warp generator gets no warp.
torch::Tensor generatorInput(const ModelParts& parts, const torch::Tensor& stick,
                             const torch::Tensor& previous, const torch::Tensor& warp);
DiscriminatorOptions discriminatorOptions(const ModelConfig& config);

}  // namespace booth
