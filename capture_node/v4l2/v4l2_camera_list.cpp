#include "capture_node/v4l2/v4l2_camera_list.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <system_error>

#include "capture_node/v4l2/v4l2_video_device.h"

namespace booth {
namespace {

std::string fpsText(double fps) {
  if (std::abs(fps - std::round(fps)) < 0.005) return std::to_string(std::lround(fps));
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", fps);
  return text;
}

std::string intervalText(v4l2_fract f) {
  if (f.denominator == 1) return std::to_string(f.numerator);
  if (f.numerator == 1) return "1/" + std::to_string(f.denominator);
  return std::to_string(f.numerator) + "/" + std::to_string(f.denominator);
}

std::string sizeText(std::uint32_t width, std::uint32_t height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

std::string intervalsText(const V4l2FrameIntervals& intervals) {
  if (intervals.type == V4L2_FRMIVAL_TYPE_DISCRETE) {
    std::string fps, fractions;
    for (const v4l2_fract& f : intervals.discrete) {
      if (!fps.empty()) {
        fps += ", ";
        fractions += ", ";
      }
      fps += fpsText(fractionFps(f));
      fractions += intervalText(f);
    }
    return fps + " fps (intervals " + fractions + " s)";
  }
  if (intervals.type == V4L2_FRMIVAL_TYPE_STEPWISE ||
      intervals.type == V4L2_FRMIVAL_TYPE_CONTINUOUS) {
    const v4l2_frmival_stepwise& s = intervals.stepwise;
    std::string text = fpsText(fractionFps(s.min)) + " to " + fpsText(fractionFps(s.max)) +
                       " fps (intervals " + intervalText(s.min) + " to " + intervalText(s.max) +
                       " s";
    if (intervals.type == V4L2_FRMIVAL_TYPE_STEPWISE) {
      text += ", step " + intervalText(s.step) + " s, stepwise)";
    } else {
      text += ", continuous)";
    }
    return text;
  }
  return "rates not enumerated by the driver";
}

std::string versionText(std::uint32_t v) {
  return std::to_string((v >> 16) & 0xff) + "." + std::to_string((v >> 8) & 0xff) + "." +
         std::to_string(v & 0xff);
}

// "video10" -> 10; names without a number sort first.
long nodeNumber(const std::string& name) {
  const std::string digits = name.substr(std::string("video").size());
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
  return std::stol(digits);
}

}  // namespace

std::vector<std::string> findVideoNodes(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("video", 0) == 0 && nodeNumber(name) >= 0) names.push_back(name);
  }
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return nodeNumber(a) < nodeNumber(b);
  });
  std::vector<std::string> paths;
  paths.reserve(names.size());
  for (const std::string& name : names) paths.push_back((dir / name).string());
  return paths;
}

std::string formatDeviceInfo(const V4l2DeviceInfo& info) {
  std::string out = info.path + ": " + info.card + "\n";
  out +=
      "  driver " + info.driver + " " + versionText(info.version) + ", bus " + info.bus_info + "\n";
  if (const std::string why = info.whyNotCapture(); !why.empty()) {
    out += "  not a camera to capture from: " + why + "\n";
    return out;
  }
  if (!info.canStream()) out += "  no streaming I/O (mmap): the booth cannot capture from it\n";
  if (info.formats.empty()) out += "  no pixel formats enumerated\n";
  for (const V4l2FormatInfo& format : info.formats) {
    out += "  " + fourccText(format.fourcc) + "  " + format.description;
    if (format.compressed) out += ", compressed";
    if (format.emulated) out += ", emulated in software";
    out += "\n";
    if (format.sizes.empty()) out += "    sizes not enumerated by the driver\n";
    for (const V4l2FrameSize& size : format.sizes) {
      if (size.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
        std::string name = sizeText(size.width, size.height);
        name.resize(std::max<std::size_t>(name.size(), 10), ' ');
        out += "    " + name + "  " + intervalsText(size.intervals) + "\n";
      } else {
        const v4l2_frmsize_stepwise& s = size.stepwise;
        out += "    " + sizeText(s.min_width, s.min_height) + " to " +
               sizeText(s.max_width, s.max_height);
        out += size.type == V4L2_FRMSIZE_TYPE_STEPWISE
                   ? ", step " + sizeText(s.step_width, s.step_height) + " (stepwise)"
                   : " (continuous)";
        out += "; at " + sizeText(size.width, size.height) + ": " + intervalsText(size.intervals) +
               "\n";
      }
    }
  }
  return out;
}

int listV4l2Cameras(std::ostream& out, const std::vector<std::string>& paths,
                    const V4l2DeviceFactory& open_device) {
  if (paths.empty()) {
    out << "no V4L2 devices (no /dev/video* nodes): is a camera plugged in, and does this "
           "container or VM have /dev/video* passed through?\n";
    return 0;
  }
  int cameras = 0;
  for (const std::string& path : paths) {
    std::unique_ptr<V4l2Device> device = open_device(path);
    if (const int err = device->open(); err != 0) {
      out << path << ": cannot open: " << errnoText(err)
          << (err == EACCES || err == EPERM ? " (add the user to the 'video' group)" : "")
          << (err == EBUSY ? " (is another program using it?)" : "") << "\n";
      continue;
    }
    auto info = queryDeviceInfo(*device);
    device->close();
    if (!info.ok()) {
      out << info.error() << "\n";
      continue;
    }
    out << formatDeviceInfo(info.value());
    if (info->isVideoCapture() && info->canStream()) ++cameras;
  }
  return cameras;
}

int listV4l2Cameras(std::ostream& out) {
  return listV4l2Cameras(out, findVideoNodes("/dev"), [](const std::string& path) {
    return std::make_unique<V4l2VideoDevice>(path);
  });
}

}  // namespace booth
