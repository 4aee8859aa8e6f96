#pragma once
// ClipRenderer: the visitor dancing a reference choreography. The
// choreography's poses are mapped onto the visitor's body and floor with
// global pose normalization, drawn as stick figures, and fed frame by frame
// through the generator with its previous output fed back; the face GAN
// refines the head crop of each frame. A warp generator renders from the
// visitor frames the model was given (PoseToImageModel::setReferences). Each clip frame has three panels:
// the professional (reference performer), the mapped stick figure, and the
// generated visitor.
//
// The clip is written to "<path>.partial" and renamed to `path` when
// complete: a clip at `path` is always whole. On failure or cancellation
// the partial file is removed.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/core/keypoints.h"
#include "common/core/result.h"
#include "common/pose/pose_normalization.h"
#include "trainer_node/train/pose_to_image_model.h"

namespace booth {

struct RenderConfig {
  // A built-in choreography, or one imported with `capture_node
  // import-choreography` and found as "<choreography_dir>/<name>.json".
  std::string choreography = "disco";
  std::filesystem::path choreography_dir;
  std::string reference_performer = "ben";
  double seconds = 8;
  double fps = 15;
  int panel_size = 256;  // each of the three panels, pixels (even)
  std::uint64_t seed = 7;
  bool face_gan = true;  // refine the head crop with the face GAN
};

// What the renderer knows about the visitor, in model pixels.
struct VisitorFrame {
  FloorStats floor;
  int face_side = 0;  // side of the face box (0: no face refinement)
};

struct ClipInfo {
  int frames = 0;
  int width = 0;
  int height = 0;
  std::int64_t bytes = 0;
};

struct RenderHooks {
  std::function<void(double)> progress;  // 0..1 after each frame
  std::function<bool()> should_stop;     // polled each frame; true cancels
};

// Frames in a clip of this config.
int clipFrameCount(const RenderConfig& config);

// The reference choreography's poses (in its own 640x480 stage) and the
// same poses mapped onto the visitor (model pixels, resolution `res`).
struct ClipPoses {
  std::vector<Pose> reference;
  std::vector<Pose> mapped;
};
Result<ClipPoses> clipPoses(const RenderConfig& config, const FloorStats& visitor_floor);

// Seconds per clip frame on this machine (stick figure, generator with the
// face GAN, the professional's panel), measured over the first `frames`
// frames of the clip without writing anything. For budgeting a job. `now`
// (seconds) is the caller's clock, so a job runner on an injected clock
// budgets with the same clock it charges; empty = steady_clock.
Result<double> measureRenderFrameSeconds(PoseToImageModel& model, const VisitorFrame& visitor,
                                         const RenderConfig& config, int frames,
                                         const std::function<double()>& now = {});

// Suffix of a clip being written.
inline constexpr const char* kPartialClipSuffix = ".partial";

// Renders into `path` (an .mp4). Fails naming the frame and the reason;
// a cancelled render fails with "cancelled".
Result<ClipInfo> renderClip(PoseToImageModel& model, const VisitorFrame& visitor,
                            const RenderConfig& config, const std::string& path,
                            const RenderHooks& hooks = {});

}  // namespace booth
