#pragma once
// Checkpoints of a PoseToImageModel. Internal to trainer_node/train/
// (includes libtorch).
//
// One torch archive (format version kCheckpointFormat) holding:
//   format_version                      int64 (3; 2 is read as a pose generator)
//   config.<field>                      int64 per ModelConfig field, by name
//                                       (config.generator: 0 pose, 1 warp)
//   generator, discriminator,           each network's parameters by
//   face_generator, face_discriminator  submodule name ("res2.conv1.weight")
//   optim.<network>.{exp_avg,exp_avg_sq,steps}
//   state.<field>                       where training stands, best weights
// Files are written to "<path>.tmp" and renamed: a crash never leaves a
// truncated checkpoint where the previous good one was.
#include <string>

#include "common/core/result.h"
#include "trainer_node/train/model_parts.h"

namespace booth {

// 3: config.generator (the generator's kind and so its input channels).
// A format-2 file has no such record: it is a pose generator, and loads
// as one.
inline constexpr std::int64_t kCheckpointFormat = 3;

Status saveCheckpoint(const ModelParts& parts, const std::string& path);

enum class LoadMode {
  kWeights,  // the four networks only; optimizers and training state reset
  kResume,   // everything: continue an interrupted run
  // As kWeights, a pose generator's checkpoint into a warp generator: the
  // head's extra input channels (the warped reference and its mask) start
  // at zero, so the model first draws exactly what the pose base draws and
  // fine-tuning learns to use the reference. Refused for anything else.
  kWeightsFromPoseBase,
};
// Fails naming the path and the reason; on a config mismatch the message
// holds both configs. On failure `parts` is unchanged.
Status loadCheckpoint(ModelParts& parts, const std::string& path, LoadMode mode);

// The ModelConfig stored in a checkpoint (for start-up checks and tools).
Result<ModelConfig> readCheckpointConfig(const std::string& path);

}  // namespace booth
