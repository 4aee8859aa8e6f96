#pragma once
// FrameSource: one camera-like producer of frames. Implementations: the
// V4L2 camera (v4l2/v4l2_camera.h), a video file (source/video_file_source.h)
// and the synthetic performer (source/synthetic_source.h).
//
// Lifecycle: construct (cheap, no I/O) -> start() (opens the device, may
// fail with a clear error) -> next() repeatedly from ONE thread (the camera
// thread that owns the source) -> stop() (idempotent; also done by the
// destructor). A source may be started again after stop().
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "common/image/frame_image.h"
#include "common/core/keypoints.h"
#include "common/core/result.h"

namespace booth {

struct CameraDescription {
  std::string camera_id;  // unique within the node, e.g. "cam0"
  std::string kind;       // "v4l2", "video", "synthetic"
  int width = 0;
  int height = 0;
  double fps = 0;
};

struct CapturedFrame {
  std::string camera_id;
  std::uint64_t sequence = 0;        // from 0 per start(); gaps mean dropped frames
  std::int64_t capture_time_us = 0;  // CLOCK_MONOTONIC (steady_clock) microseconds
  FrameEncoding encoding = FrameEncoding::kJpeg;
  int width = 0;
  int height = 0;
  std::string data;                  // encoded bytes (JPEG) or raw BGR
  std::optional<Pose> ground_truth;  // only sources that know it (synthetic)
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Valid after construction; width/height/fps are the negotiated values
  // after start().
  virtual const CameraDescription& description() const = 0;
  virtual Status start() = 0;
  // Waits up to `timeout` for the next frame. nullopt: no frame yet (a
  // normal non-event); Error: the source failed (unplugged, end of file
  // without looping) and should be stopped.
  virtual Result<std::optional<CapturedFrame>> next(std::chrono::milliseconds timeout) = 0;
  virtual void stop() = 0;
};

inline std::int64_t steadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace booth
