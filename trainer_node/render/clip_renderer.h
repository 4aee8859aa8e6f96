#pragma once
// ClipRenderer: the visitor dancing a reference choreography. The
// choreography's poses are mapped onto the visitor's body and floor with
// global pose normalization, drawn as stick figures, and fed frame by frame
// through the generator with its previous output fed back. Each clip frame
// has three panels: the professional (reference performer), the mapped
// stick figure, and the generated visitor.
#include <cstdint>
#include <functional>
#include <string>

#include "common/pose/pose_normalization.h"
#include "common/core/result.h"
#include "trainer_node/train/pose_to_image_model.h"

namespace booth {

struct RenderConfig {
  std::string choreography = "disco";
  std::string reference_performer = "ben";
  double seconds = 8;
  double fps = 15;
  int panel_size = 256;  // each of the three panels, pixels (even)
  std::uint64_t seed = 7;
};

struct ClipInfo {
  int frames = 0;
  int width = 0;
  int height = 0;
  std::int64_t bytes = 0;
};

// Frames in a clip of this config.
int clipFrameCount(const RenderConfig& config);

// Renders into `path` (an .mp4). `progress` gets 0..1 after each frame.
Result<ClipInfo> renderClip(PoseToImageModel& model, const FloorStats& visitor_floor,
                            const RenderConfig& config, const std::string& path,
                            const std::function<void(double)>& progress);

}  // namespace booth
