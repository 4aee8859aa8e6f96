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
  // What the source delivers: the granted (negotiated) size and rate after
  // start(), the request before.
  int width = 0;
  int height = 0;
  double fps = 0;
  // What was asked for (configuration); equal to the above for sources that
  // always deliver what they are asked (synthetic).
  int requested_width = 0;
  int requested_height = 0;
  double requested_fps = 0;
  // The camera's pixel format as a V4L2 fourcc text ("MJPG", "YUYV"); empty
  // for sources that are not cameras.
  std::string pixel_format = {};
};

// What a source has seen since its last start(), so that no consumer ever
// counts losses again from sequence gaps. Every frame slot of the camera
// (every frame it produced, by its own numbering) is exactly one of:
//   delivered       returned by next()
//   driver_dropped  lost at or before the driver (no free buffer, USB
//                   errors, bandwidth): never seen by the source
//   error_frames    seen but unusable (the driver flagged it corrupt, or it
//                   was empty or short) and skipped
// CapturedFrame::sequence numbers these slots, so the gaps between delivered
// frames are exactly the dropped and error frames:
//   delivered + driver_dropped + error_frames == 1 + the last slot's sequence
// (slots lost after the last delivered one count as soon as the source sees
// a later slot). Counted from the first slot the source sees.
struct SourceStats {
  std::uint64_t delivered = 0;
  std::uint64_t driver_dropped = 0;
  std::uint64_t error_frames = 0;

  std::uint64_t lost() const { return driver_dropped + error_frames; }
};

struct CapturedFrame {
  std::string camera_id;
  std::uint64_t sequence = 0;        // frame slot from 0 per start(); gaps: frames lost at or
                                     // before the source (see SourceStats), never counted again
  std::int64_t capture_time_us = 0;  // CLOCK_MONOTONIC (steady_clock) microseconds
  FrameEncoding encoding = FrameEncoding::kJpeg;
  int width = 0;
  int height = 0;
  std::string data;                  // pixels as `encoding` says (JPEG, raw BGR, raw YUYV)
  std::optional<Pose> ground_truth;  // only sources that know it (synthetic)
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Valid after construction; width/height/fps are the negotiated values
  // after start().
  virtual const CameraDescription& description() const = 0;
  virtual Status start() = 0;
  // Waits up to `timeout` for the next frame, and never longer (a camera
  // that stalls comes back as nullopt, every `timeout`). nullopt: no frame
  // yet (a normal non-event; transient conditions such as EAGAIN and EINTR
  // are handled inside); Error: the source failed (unplugged, end of file
  // without looping) and should be stopped. A V4L2 camera that was unplugged
  // says so with a message starting "<device> disconnected".
  virtual Result<std::optional<CapturedFrame>> next(std::chrono::milliseconds timeout) = 0;
  virtual void stop() = 0;
  // Counts since the last start(); zero before. Thread-safe: any thread may
  // read them while the camera thread calls next().
  virtual SourceStats stats() const = 0;
};

inline std::int64_t steadyMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace booth
