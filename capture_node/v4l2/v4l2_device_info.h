#pragma once
// V4l2DeviceInfo: what one V4L2 node says about itself (VIDIOC_QUERYCAP) and,
// for a single-planar capture node, every pixel format, frame size and frame
// interval it enumerates. Read once through a V4l2Device; used to choose a
// capture mode (v4l2_mode_chooser.h) and by `capture_node --list-cameras`.
#include <linux/videodev2.h>

#include <cstdint>
#include <string>
#include <vector>

#include "capture_node/v4l2/v4l2_device.h"
#include "common/core/result.h"

namespace booth {

// Frame intervals at one frame size: a discrete list, or a stepwise /
// continuous range [stepwise.min, stepwise.max].
struct V4l2FrameIntervals {
  std::uint32_t type = 0;  // V4L2_FRMIVAL_TYPE_*; 0: the driver does not enumerate intervals
  std::vector<v4l2_fract> discrete;
  v4l2_frmival_stepwise stepwise{};

  // Highest frame rate on offer; 0 when unknown.
  double maxFps() const;
};

// One frame size: discrete, or a stepwise / continuous range whose intervals
// were asked for at its largest size (the slowest one).
struct V4l2FrameSize {
  std::uint32_t type = 0;   // V4L2_FRMSIZE_TYPE_*
  std::uint32_t width = 0;  // discrete size, or the largest of the range
  std::uint32_t height = 0;
  v4l2_frmsize_stepwise stepwise{};
  V4l2FrameIntervals intervals;
};

struct V4l2FormatInfo {
  std::uint32_t fourcc = 0;
  std::string description;  // the driver's, e.g. "Motion-JPEG"
  bool compressed = false;
  bool emulated = false;             // converted in software by the driver
  std::vector<V4l2FrameSize> sizes;  // empty: the driver does not enumerate sizes
};

struct V4l2DeviceInfo {
  std::string path;
  std::string driver;    // e.g. "uvcvideo"
  std::string card;      // e.g. "HD USB Camera"
  std::string bus_info;  // e.g. "usb-0000:00:14.0-1"
  std::uint32_t version = 0;
  std::uint32_t capabilities = 0;       // of this node (device_caps when the driver gives them)
  std::vector<V4l2FormatInfo> formats;  // only for single-planar capture nodes

  bool isVideoCapture() const { return (capabilities & V4L2_CAP_VIDEO_CAPTURE) != 0; }
  bool canStream() const { return (capabilities & V4L2_CAP_STREAMING) != 0; }
  // "a multi-planar capture device", "a metadata node (UVC cameras have one
  // beside the video node)", ... ; "" for a single-planar capture node.
  std::string whyNotCapture() const;
};

// Asks an open device. Fails only when VIDIOC_QUERYCAP does (not a V4L2
// node); enumeration errors just end a list (drivers answer EINVAL at the
// end and ENOTTY when they do not implement an enumeration).
Result<V4l2DeviceInfo> queryDeviceInfo(V4l2Device& device);

// Intervals of `fourcc` at `width` x `height` (VIDIOC_ENUM_FRAMEINTERVALS).
V4l2FrameIntervals queryFrameIntervals(V4l2Device& device, std::uint32_t fourcc,
                                       std::uint32_t width, std::uint32_t height);

// "MJPG", "YUYV", ...
std::string fourccText(std::uint32_t fourcc);
// Frames per second of a frame interval; 0 for a zero fraction.
double fractionFps(v4l2_fract interval);
// The errno text ("No such device").
std::string errnoText(int error);

}  // namespace booth
