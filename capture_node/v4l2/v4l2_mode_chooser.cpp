#include "capture_node/v4l2/v4l2_mode_chooser.h"

#include <algorithm>
#include <cstdlib>
#include <tuple>

namespace booth {
namespace {

std::uint32_t fitToRange(int wanted, std::uint32_t lo, std::uint32_t hi, std::uint32_t step) {
  const std::uint32_t v = std::clamp(static_cast<std::uint32_t>(std::max(wanted, 0)), lo, hi);
  return step > 1 ? lo + (v - lo) / step * step : v;
}

bool isJpeg(std::uint32_t fourcc) {
  return fourcc == V4L2_PIX_FMT_MJPEG || fourcc == V4L2_PIX_FMT_JPEG;
}

}  // namespace

bool isSupportedCaptureFormat(std::uint32_t fourcc) {
  return isJpeg(fourcc) || fourcc == V4L2_PIX_FMT_YUYV;
}

std::vector<V4l2Mode> captureModes(const std::vector<V4l2FormatInfo>& formats,
                                   const V4l2ModeRequest& request) {
  std::vector<V4l2Mode> modes;
  for (const V4l2FormatInfo& format : formats) {
    if (!isSupportedCaptureFormat(format.fourcc)) continue;
    if (format.sizes.empty()) {
      modes.push_back({format.fourcc, static_cast<std::uint32_t>(request.width),
                       static_cast<std::uint32_t>(request.height), 0});
      continue;
    }
    for (const V4l2FrameSize& size : format.sizes) {
      V4l2Mode mode{format.fourcc, size.width, size.height, size.intervals.maxFps()};
      if (size.type != V4L2_FRMSIZE_TYPE_DISCRETE) {
        const v4l2_frmsize_stepwise& r = size.stepwise;
        mode.width = fitToRange(request.width, r.min_width, r.max_width, r.step_width);
        mode.height = fitToRange(request.height, r.min_height, r.max_height, r.step_height);
      }
      modes.push_back(mode);
    }
  }
  return modes;
}

std::optional<V4l2Mode> chooseCaptureMode(const std::vector<V4l2Mode>& modes,
                                          const V4l2ModeRequest& request) {
  const double wanted_fps = request.fps * (1.0 - kFpsTolerance);
  const std::int64_t wanted_area = static_cast<std::int64_t>(request.width) * request.height;
  // Smaller key is better, compared in the order of the rule.
  auto key = [&](const V4l2Mode& m) {
    const int rate_class = m.max_fps >= wanted_fps ? 0 : m.max_fps == 0 ? 1 : 2;
    const double shortfall = rate_class == 2 ? -m.max_fps : 0.0;
    const bool exact =
        static_cast<int>(m.width) == request.width && static_cast<int>(m.height) == request.height;
    const std::int64_t area = static_cast<std::int64_t>(m.width) * m.height;
    return std::make_tuple(rate_class, shortfall, exact ? 0 : 1, std::llabs(area - wanted_area),
                           -area, isJpeg(m.fourcc) ? 0 : 1);
  };
  const auto best =
      std::min_element(modes.begin(), modes.end(),
                       [&](const V4l2Mode& a, const V4l2Mode& b) { return key(a) < key(b); });
  if (best == modes.end()) return std::nullopt;
  return *best;
}

}  // namespace booth
