#pragma once
// StoredFrame: one frame of a visitor's session as the trainer keeps it and
// trains from: the image bytes as captured and the performer's final
// keypoints. A domain type, independent of the wire contract, so that the
// training code never sees protobuf.
#include <cstdint>
#include <optional>
#include <string>

#include "common/core/keypoints.h"
#include "common/image/frame_image.h"

namespace booth {

struct StoredFrame {
  std::uint64_t sequence = 0;        // per camera, gaps mean dropped frames
  std::int64_t capture_time_us = 0;  // capture host's CLOCK_MONOTONIC
  FrameEncoding encoding = FrameEncoding::kJpeg;
  int width = 0;
  int height = 0;
  std::string data;  // encoded bytes as captured
  // The performer's final keypoints (smoothed, gaps imputed) in frame
  // pixels; nullopt when the frame has no usable pose.
  std::optional<Pose> pose;
};

}  // namespace booth
