#include "capture_node/camera/camera_worker.h"

#include <time.h>

#include <spdlog/spdlog.h>

namespace booth {
namespace {

double threadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

}  // namespace

const char* cameraStateName(CameraState state) {
  switch (state) {
    case CameraState::kIdle:
      return "idle";
    case CameraState::kCapturing:
      return "capturing";
    case CameraState::kStalled:
      return "stalled";
    case CameraState::kGone:
      return "gone";
  }
  return "unknown";
}

CameraWorker::CameraWorker(std::unique_ptr<FrameSource> source, const Clock& clock,
                           CameraWorkerConfig config)
    : source_(std::move(source)), clock_(clock), config_(config) {}

CameraWorker::~CameraWorker() { stop(); }

Status CameraWorker::start(Sink sink, EventHandler events) {
  stop();
  if (auto st = source_->start(); !st.ok()) {
    std::lock_guard lock(stats_mutex_);
    stats_.state = CameraState::kGone;
    return fail("camera " + cameraId() + ": " + st.error());
  }
  {
    std::lock_guard lock(stats_mutex_);
    stats_ = {};
    stats_.state = CameraState::kCapturing;
  }
  running_ = true;
  thread_ = std::jthread([this, sink = std::move(sink), events = std::move(events)](
                             std::stop_token st) { run(st, sink, events); });
  return okStatus();
}

void CameraWorker::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  source_->stop();
  running_ = false;
  std::lock_guard lock(stats_mutex_);
  if (stats_.state != CameraState::kGone) stats_.state = CameraState::kIdle;
  stats_.measured_fps = 0;
}

CameraWorkerStats CameraWorker::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

void CameraWorker::run(std::stop_token stop, Sink sink, EventHandler events) {
  const std::string camera = cameraId();
  auto last_frame = clock_.steady();
  bool stalled = false;
  auto window_start = clock_.steady();
  std::uint64_t window_frames = 0;
  const double cpu_start = threadCpuMicros();
  std::uint64_t frames = 0;

  while (!stop.stop_requested()) {
    auto next = source_->next(config_.poll);
    const auto now = clock_.steady();
    if (!next.ok()) {
      {
        std::lock_guard lock(stats_mutex_);
        stats_.state = CameraState::kGone;
      }
      spdlog::error("camera {}: stream ended: {}", camera, next.error());
      if (events) events({CameraEvent::Kind::kEnded, camera, next.error()});
      break;
    }
    if (!next.value()) {
      if (!stalled && now - last_frame >= config_.stall_after) {
        stalled = true;
        const std::string why = "no frame for " +
                                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   now - last_frame)
                                                   .count()) +
                                " ms";
        {
          std::lock_guard lock(stats_mutex_);
          stats_.state = CameraState::kStalled;
          ++stats_.stalls;
        }
        spdlog::warn("camera {}: stalled ({})", camera, why);
        if (events) events({CameraEvent::Kind::kStalled, camera, why});
      }
      continue;
    }
    CapturedFrame& frame = *next.value();
    // Losses are counted once, by the source (driver drops and error frames).
    const SourceStats source_stats = source_->stats();
    const std::uint64_t source_lost = source_stats.lost();
    const bool taken = sink(frame);
    const auto handed = clock_.steady();
    ++frames;
    ++window_frames;
    last_frame = now;
    if (stalled) {
      stalled = false;
      spdlog::info("camera {}: frames flow again", camera);
      if (events) events({CameraEvent::Kind::kResumed, camera, {}});
    }
    std::lock_guard lock(stats_mutex_);
    stats_.state = CameraState::kCapturing;
    stats_.source_gaps = source_lost;
    stats_.error_frames = source_stats.error_frames;
    if (taken) {
      ++stats_.delivered;
    } else {
      ++stats_.sink_dropped;
    }
    stats_.max_block_ms =
        std::max(stats_.max_block_ms, std::chrono::duration<double, std::milli>(handed - now).count());
    stats_.busy_us_per_frame = (threadCpuMicros() - cpu_start) / static_cast<double>(frames);
    const double window = secondsBetween(window_start, now);
    if (window >= 1.0) {
      stats_.measured_fps = static_cast<double>(window_frames) / window;
      window_frames = 0;
      window_start = now;
    }
  }
}

}  // namespace booth
