#include "capture_node/live/live_preview.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include "common/os/durable_file.h"
#include "common/pose/stick_figure.h"

namespace booth {
namespace {

void drawOverlays(cv::Mat& canvas, const LiveFrame& f) {
  const int thickness = std::max(1, canvas.cols / 320);
  if (f.zone.width > 0 && f.zone.height > 0) {
    const cv::Rect2f z(f.zone.x * static_cast<float>(canvas.cols),
                       f.zone.y * static_cast<float>(canvas.rows),
                       f.zone.width * static_cast<float>(canvas.cols),
                       f.zone.height * static_cast<float>(canvas.rows));
    cv::rectangle(canvas, z, cv::Scalar(0, 200, 0), thickness);
  }
  if (f.crop.width > 0) cv::rectangle(canvas, f.crop, cv::Scalar(0, 220, 255), thickness);
}

}  // namespace

LivePreview::LivePreview(LivePreviewConfig config, LiveTap<LiveFrame>& tap)
    : config_(std::move(config)), tap_(tap) {
  if (auto st = makeDirectories(config_.dir); !st.ok()) {
    spdlog::error("live preview: {}", st.error());
  }
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

LivePreview::~LivePreview() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
}

void LivePreview::run(std::stop_token stop) {
  const auto period = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / std::max(0.1, config_.fps)));
  auto next_write = std::chrono::steady_clock::now();
  while (!stop.stop_requested()) {
    auto item = tap_.take(std::chrono::milliseconds(200));
    if (!item) continue;
    LiveFrame& f = *item;
    auto [it, fresh] = filters_.try_emplace(f.camera_id, config_.filter);
    OneEuroPoseFilter& filter = it->second;
    std::optional<Pose> shown;
    if (f.performer) {
      shown = filter.filter(*f.performer, static_cast<double>(f.capture_time_us) / 1e6);
    } else {
      filter.reset();  // the performer is lost: start afresh when found again
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_write && !f.image.empty()) {
      next_write = now + period;
      try {
        cv::Mat canvas = f.image.clone();
        drawOverlays(canvas, f);
        if (shown) drawStickFigure(canvas, *shown);
        std::vector<uchar> jpeg;
        cv::imencode(".jpg", canvas, jpeg, {cv::IMWRITE_JPEG_QUALITY, 80});
        const auto st = replaceFile(config_.dir / (f.camera_id + ".jpg"),
                                    std::string_view(reinterpret_cast<const char*>(jpeg.data()),
                                                     jpeg.size()));
        if (st.ok()) {
          ++written_;
        } else {
          spdlog::warn("live preview: {}", st.error());
        }
      } catch (const std::exception& e) {  // last resort: this frame is not shown
        spdlog::warn("live preview: {}", e.what());
      }
    }
    tap_.done();
  }
}

}  // namespace booth
