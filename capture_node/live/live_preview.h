#pragma once
// LivePreview: the live view of what the pose stage sees, for whoever
// stands at the booth: each camera's newest posed frame with the
// performer's stick figure drawn over it, written to
// <dir>/<camera>.jpg (replaced atomically) at most `fps` times a second.
// It reads from a LiveTap, so it can never slow capture, pose or
// streaming: when it falls behind it skips to the newest frame. The
// performer's raw keypoints go through a causal One Euro filter per camera
// (reset when the performer is lost), as any live display should. The
// camera's performance zone (the floor mark the performer stands on when
// capture starts) is drawn in green, the crop around the performer (top-down
// pose) in yellow.
//
// Lifecycle: constructed with the tap it drains; its thread runs until
// destruction. Off unless --preview-dir is set.
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include <opencv2/core.hpp>

#include "capture_node/live/live_tap.h"
#include "common/core/keypoints.h"
#include "common/pose/one_euro_filter.h"

namespace booth {

struct LiveFrame {
  std::string camera_id;
  std::uint64_t sequence = 0;
  std::int64_t capture_time_us = 0;
  cv::Mat image;                // decoded BGR; may be empty (ground-truth pose stage)
  std::optional<Pose> performer;  // raw, as estimated
  cv::Rect2f zone;  // the camera's performance zone, normalised (empty: none)
  cv::Rect2f crop;  // top-down pose: the crop network's square, in pixels (empty: none)
};

struct LivePreviewConfig {
  std::filesystem::path dir;
  double fps = 5;
  OneEuroConfig filter;
};

class LivePreview {
 public:
  LivePreview(LivePreviewConfig config, LiveTap<LiveFrame>& tap);
  ~LivePreview();
  LivePreview(const LivePreview&) = delete;
  LivePreview& operator=(const LivePreview&) = delete;
  std::uint64_t written() const { return written_.load(); }

 private:
  void run(std::stop_token stop);

  LivePreviewConfig config_;
  LiveTap<LiveFrame>& tap_;
  std::map<std::string, OneEuroPoseFilter> filters_;  // preview thread only
  std::atomic<std::uint64_t> written_{0};
  std::jthread thread_;
};

}  // namespace booth
