#include "capture_node/spool/spool_writer.h"

#include <spdlog/spdlog.h>

#include "common/image/frame_image.h"

namespace booth {

SpoolWriter::SpoolWriter(CameraSpool& spool, SpoolWriterConfig config,
                         std::function<void()> on_appended,
                         std::function<void(const std::string&)> on_failure)
    : spool_(spool),
      config_(config),
      on_appended_(std::move(on_appended)),
      on_failure_(std::move(on_failure)),
      queue_(config.queue_frames) {
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

SpoolWriter::~SpoolWriter() { close(); }

bool SpoolWriter::offer(CapturedFrame& frame) { return queue_.tryPush(frame); }

void SpoolWriter::close() {
  queue_.close();
  if (thread_.joinable()) thread_.join();
}

void SpoolWriter::run(std::stop_token stop) {
  auto last_sync = std::chrono::steady_clock::now();
  bool dirty = false;
  while (true) {
    auto frame = queue_.pop(std::chrono::milliseconds(50));
    if (frame) {
      write(*frame);
      dirty = true;
    } else if (queue_.closed() || stop.stop_requested()) {
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (dirty && now - last_sync >= config_.sync_every) {
      if (auto st = spool_.sync(); !st.ok()) spdlog::warn("spool sync: {}", st.error());
      dirty = false;
      last_sync = now;
    }
  }
  if (auto st = spool_.sync(); !st.ok()) spdlog::warn("spool sync: {}", st.error());
}

void SpoolWriter::write(CapturedFrame& frame) {
  if (failed_) {
    ++refused_;
    return;
  }
  if (frame.encoding != FrameEncoding::kJpeg) {
    auto jpeg = encodeFrameJpeg(frame.encoding, frame.width, frame.height, frame.data,
                                config_.jpeg_quality);
    if (!jpeg.ok()) {
      // One bad frame is not the end of the session: count it and go on.
      ++refused_;
      spdlog::warn("camera {} frame {}: {}", frame.camera_id, frame.sequence, jpeg.error());
      return;
    }
    frame.data = std::move(jpeg.value());
    frame.encoding = FrameEncoding::kJpeg;
  }
  if (auto st = spool_.appendFrame(frame); !st.ok()) {
    failed_ = true;
    ++refused_;
    spdlog::error("camera {}: {}", frame.camera_id, st.error());
    if (on_failure_) on_failure_(st.error());
    return;
  }
  ++written_;
  if (on_appended_) on_appended_();
}

}  // namespace booth
