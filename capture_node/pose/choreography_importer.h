#pragma once
// ChoreographyImporter: a dance video in, a reference choreography out
// (common/pose/choreography_file.h). Every frame goes through the same
// stages as a booth session: top-down pose (the multi-person finder at
// TopDownConfig::finder_hz and the crop network on every frame) when a crop
// model is given, else the multi-person network alone with the performer
// tracker; then the fixed-lag smoother. The finder's input is at the
// video's aspect ratio, so an imported choreography is what the booth would
// have recorded of that dancer.
//
// Failure modes, each naming the video (and frame where there is one): the
// video missing or not decodable; a name operators could not pick (see
// ChoreographyFile::isValidName); a pose model that does not load; no
// dancer found in any frame. A frame the estimator fails on counts as a
// frame without the dancer and the import goes on.
//
// Lifecycle: construct (no I/O), run() once. Threading: run() on one
// thread; it uses OpenCV's threads as configured process-wide.
#include <filesystem>
#include <functional>
#include <string>

#include "capture_node/pose/openpose_estimator.h"
#include "capture_node/pose/top_down_pose.h"
#include "common/pose/choreography_file.h"

namespace booth {

struct ImportConfig {
  std::filesystem::path video;
  std::string name;
  // The model manifest and settings; an input of 0x0 means the manifest's
  // default pixel count at the video's aspect ratio.
  OpenPoseConfig pose;
  // Top-down: the crop network's manifest (empty: the finder alone) and
  // its settings; the dancer is chosen in `zone` (normalised; empty: any).
  std::string crop_model;
  TopDownConfig top_down;
  cv::Rect2f zone;
  std::size_t max_frames = ChoreographyFile::kMaxFrames;  // longer videos are cut here
};

struct ImportSummary {
  std::size_t frames = 0;
  std::size_t frames_with_dancer = 0;
  std::size_t frames_failed = 0;  // the estimator's errors
  cv::Size input;                 // the network input used
};

class ChoreographyImporter {
 public:
  explicit ChoreographyImporter(ImportConfig config);
  // `progress(frames_done, frames_total)` after each frame (total 0 when the
  // container does not say). `on_frame(index, image)` sees each decoded
  // frame (BGR, the video's size) before it is posed, for callers that keep
  // the pictures beside the poses (`trainer_node pretrain --videos`); the
  // pose of frame `index` is the returned file's frames[index].
  using FrameObserver = std::function<void(std::size_t index, const cv::Mat& image)>;
  Result<ChoreographyFile> run(const std::function<void(std::size_t, std::size_t)>& progress = {},
                               const FrameObserver& on_frame = {});
  const ImportSummary& summary() const { return summary_; }

 private:
  ImportConfig config_;
  ImportSummary summary_;
};

}  // namespace booth
