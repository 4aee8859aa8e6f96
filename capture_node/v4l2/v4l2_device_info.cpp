#include "capture_node/v4l2/v4l2_device_info.h"

#include <algorithm>
#include <cstring>
#include <system_error>

namespace booth {
namespace {

template <std::size_t N>
std::string fixedString(const std::uint8_t (&bytes)[N]) {
  const char* text = reinterpret_cast<const char*>(bytes);
  return std::string(text, strnlen(text, N));
}

// Enumerations end with EINVAL; a driver that never answers with success
// is capped so a broken one cannot loop forever.
constexpr std::uint32_t kMaxEntries = 256;

std::vector<V4l2FrameSize> queryFrameSizes(V4l2Device& device, std::uint32_t fourcc) {
  std::vector<V4l2FrameSize> sizes;
  for (std::uint32_t index = 0; index < kMaxEntries; ++index) {
    v4l2_frmsizeenum e{};
    e.index = index;
    e.pixel_format = fourcc;
    if (device.enumFrameSizes(e) != 0) break;
    V4l2FrameSize size;
    size.type = e.type;
    if (e.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
      size.width = e.discrete.width;
      size.height = e.discrete.height;
    } else {
      size.stepwise = e.stepwise;
      size.width = e.stepwise.max_width;
      size.height = e.stepwise.max_height;
    }
    size.intervals = queryFrameIntervals(device, fourcc, size.width, size.height);
    sizes.push_back(size);
    if (e.type != V4L2_FRMSIZE_TYPE_DISCRETE) break;  // a range is the only entry
  }
  return sizes;
}

}  // namespace

double fractionFps(v4l2_fract interval) {
  return interval.numerator == 0 || interval.denominator == 0
             ? 0.0
             : static_cast<double>(interval.denominator) / interval.numerator;
}

double V4l2FrameIntervals::maxFps() const {
  if (type == V4L2_FRMIVAL_TYPE_DISCRETE) {
    double best = 0;
    for (const v4l2_fract& f : discrete) best = std::max(best, fractionFps(f));
    return best;
  }
  if (type == V4L2_FRMIVAL_TYPE_STEPWISE || type == V4L2_FRMIVAL_TYPE_CONTINUOUS) {
    return fractionFps(stepwise.min);  // the shortest interval
  }
  return 0;
}

std::string V4l2DeviceInfo::whyNotCapture() const {
  if (isVideoCapture()) return {};
  if ((capabilities & V4L2_CAP_VIDEO_CAPTURE_MPLANE) != 0) {
    return "a multi-planar capture device, which is not supported";
  }
  if ((capabilities & V4L2_CAP_META_CAPTURE) != 0) {
    return "a metadata node, not the video node (UVC cameras expose both)";
  }
  if ((capabilities & (V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_VIDEO_OUTPUT_MPLANE)) != 0) {
    return "an output device, not a capture device";
  }
  if ((capabilities & V4L2_CAP_VIDEO_M2M) != 0 || (capabilities & V4L2_CAP_VIDEO_M2M_MPLANE) != 0) {
    return "a memory-to-memory device (a codec or converter), not a camera";
  }
  return "not a video capture device";
}

V4l2FrameIntervals queryFrameIntervals(V4l2Device& device, std::uint32_t fourcc,
                                       std::uint32_t width, std::uint32_t height) {
  V4l2FrameIntervals intervals;
  for (std::uint32_t index = 0; index < kMaxEntries; ++index) {
    v4l2_frmivalenum e{};
    e.index = index;
    e.pixel_format = fourcc;
    e.width = width;
    e.height = height;
    if (device.enumFrameIntervals(e) != 0) break;
    intervals.type = e.type;
    if (e.type != V4L2_FRMIVAL_TYPE_DISCRETE) {
      intervals.stepwise = e.stepwise;
      break;
    }
    intervals.discrete.push_back(e.discrete);
  }
  return intervals;
}

Result<V4l2DeviceInfo> queryDeviceInfo(V4l2Device& device) {
  V4l2DeviceInfo info;
  info.path = device.path();
  v4l2_capability cap{};
  if (const int err = device.queryCapability(cap); err != 0) {
    return fail(device.path() + " is not a V4L2 device (VIDIOC_QUERYCAP: " + errnoText(err) + ")");
  }
  info.driver = fixedString(cap.driver);
  info.card = fixedString(cap.card);
  info.bus_info = fixedString(cap.bus_info);
  info.version = cap.version;
  // device_caps describes this node; capabilities the whole physical device.
  info.capabilities =
      (cap.capabilities & V4L2_CAP_DEVICE_CAPS) != 0 ? cap.device_caps : cap.capabilities;
  if (!info.isVideoCapture()) return info;

  for (std::uint32_t index = 0; index < kMaxEntries; ++index) {
    v4l2_fmtdesc desc{};
    desc.index = index;
    desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (device.enumFormat(desc) != 0) break;
    V4l2FormatInfo format;
    format.fourcc = desc.pixelformat;
    format.description = fixedString(desc.description);
    format.compressed = (desc.flags & V4L2_FMT_FLAG_COMPRESSED) != 0;
    format.emulated = (desc.flags & V4L2_FMT_FLAG_EMULATED) != 0;
    format.sizes = queryFrameSizes(device, desc.pixelformat);
    info.formats.push_back(std::move(format));
  }
  return info;
}

std::string fourccText(std::uint32_t fourcc) {
  std::string s;
  const std::uint32_t code = fourcc & ~(1u << 31);
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>((code >> (8 * i)) & 0xff);
    if (c != ' ' && c != '\0') s += c;
  }
  // Big-endian variants set the top bit.
  if ((fourcc & (1u << 31)) != 0) s += "-BE";
  return s;
}

std::string errnoText(int error) { return std::system_category().message(error); }

}  // namespace booth
