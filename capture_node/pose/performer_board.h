#pragma once
// PerformerBoard: where each camera's tracker last saw the performer, for
// the operator page's countdown. The pose finalizers post every tracked
// frame (cheap: a box under a mutex); the node's control thread reads the
// board and sends it to the trainer (PerformerStatus) at most
// `CaptureNodeConfig::performer_status_interval` apart, and only when it
// changed.
//
// Threading: post() from any pose worker, the rest from any thread.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "common/core/keypoints.h"
#include "common/core/performer_status.h"

namespace booth {

class PerformerBoard {
 public:
  // Camera `camera_id`'s frame `sequence` (frame size `frame`) was tracked;
  // `performer`: the performer's pose in it, nullopt when not seen. `zone`:
  // the camera's performance zone (normalised; empty: none).
  void post(const std::string& camera_id, std::uint64_t sequence, cv::Size frame,
            const std::optional<Pose>& performer, const cv::Rect2f& zone);
  // Forget everything (a new session: the last one's boxes are not shown).
  void clear();

  // Goes up with every change; equal versions mean nothing changed.
  std::uint64_t version() const;
  // Every camera posted since clear(), by camera id.
  std::vector<CameraPerformer> snapshot() const;

  // The pose's keypoints' box as fractions of `frame`, clamped to it;
  // nullopt without usable joints or frame size.
  static std::optional<NormalisedBox> normalisedBoxOf(const Pose& pose, cv::Size frame);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, CameraPerformer> cameras_;
  std::uint64_t version_ = 0;
};

}  // namespace booth
