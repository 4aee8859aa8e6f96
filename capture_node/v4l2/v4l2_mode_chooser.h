#pragma once
// Choosing a capture mode (pixel format, frame size) for a requested size
// and rate from what the device enumerates, before VIDIOC_S_FMT.
//
// Why not just S_FMT with the requested size: drivers never refuse, they
// substitute, and the frame rate a size allows is only visible through
// VIDIOC_ENUM_FRAMEINTERVALS. A UVC camera typically does 640x480 at 120 fps
// in MJPEG only (YUYV at 30): asking for YUYV first, or for a size the
// camera can only do slowly, silently costs the rate. So the rule, in order:
//   1. a mode that reaches the requested rate beats one whose rate is
//      unknown (the driver does not enumerate), which beats one that does
//      not; among those that do not, the faster wins;
//   2. then the size nearest the request (exact first; else the smallest
//      difference in pixel count, the larger on a tie);
//   3. then MJPEG (or JPEG) before YUYV: less USB bandwidth, and frames go
//      on as captured;
//   4. then the device's own order.
// Pure functions: unit-tested without a device.
#include <cstdint>
#include <optional>
#include <vector>

#include "capture_node/v4l2/v4l2_device_info.h"

namespace booth {

struct V4l2ModeRequest {
  int width = 640;
  int height = 480;
  double fps = 30;
};

struct V4l2Mode {
  std::uint32_t fourcc = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  double max_fps = 0;  // highest rate at this size; 0 when the driver does not say
};

// A rate "reaches" the request within this fraction (29.97 reaches 30).
inline constexpr double kFpsTolerance = 0.005;

// The formats the booth can capture: MJPEG/JPEG (passed on as captured) and
// YUYV (delivered raw, encoded later).
bool isSupportedCaptureFormat(std::uint32_t fourcc);

// One mode per enumerated discrete size of each supported format; for a
// stepwise or continuous range, the request fitted into it; for a format
// whose sizes are not enumerated, the requested size at an unknown rate.
std::vector<V4l2Mode> captureModes(const std::vector<V4l2FormatInfo>& formats,
                                   const V4l2ModeRequest& request);

// The best mode by the rule above; nullopt when `modes` is empty.
std::optional<V4l2Mode> chooseCaptureMode(const std::vector<V4l2Mode>& modes,
                                          const V4l2ModeRequest& request);

}  // namespace booth
