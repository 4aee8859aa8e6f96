#pragma once
// CameraWorker: one camera's acquisition thread. Owns its FrameSource and
// the std::jthread that drains it. The thread only copies: each frame goes
// straight to the sink, which must not block (a BoundedQueue::tryPush); a
// frame the sink refuses is counted as dropped, never waited for. So
// acquisition never waits on disk, pose or network.
//
// A watchdog on the same thread turns "no frame for stall_after" into a
// Stalled event (once; Resumed when frames come back), and a source error
// (unplugged, end of a non-looping file) into an Ended event, after which
// the thread stops and the other cameras go on.
//
// Lifecycle: construct -> start(sink, events) -> ... -> stop() (or the
// destructor). Restartable. Events are called on the camera thread and
// must be cheap (hand them to a queue).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "capture_node/source/frame_source.h"
#include "common/core/clock.h"
#include "common/core/result.h"

namespace booth {

struct CameraWorkerConfig {
  // How long one next() may wait: bounds how late stop() and the watchdog
  // are noticed.
  std::chrono::milliseconds poll{50};
  // No frame for this long while running: the camera is stalled.
  std::chrono::milliseconds stall_after{2000};
};

struct CameraEvent {
  enum class Kind { kStalled, kResumed, kEnded };
  Kind kind;
  std::string camera_id;
  std::string reason;
};

enum class CameraState { kIdle, kCapturing, kStalled, kGone };
const char* cameraStateName(CameraState state);  // "idle", "capturing", "stalled", "gone"

struct CameraWorkerStats {
  CameraState state = CameraState::kIdle;
  std::uint64_t delivered = 0;      // frames handed to the sink and taken
  std::uint64_t sink_dropped = 0;   // frames the sink had no room for
  std::uint64_t source_gaps = 0;    // frames lost before the node: the source's
                                    // SourceStats::lost() (sequence gaps), not recounted
  std::uint64_t error_frames = 0;   // of those, buffers the driver flagged corrupt
  std::uint64_t stalls = 0;
  double measured_fps = 0;          // over the last second or so
  double busy_us_per_frame = 0;     // thread CPU time per frame outside next()'s wait
  double max_block_ms = 0;          // longest hand-over of one frame
};

class CameraWorker {
 public:
  // Takes a frame; false when there is no room (the frame is dropped).
  using Sink = std::function<bool(CapturedFrame&)>;
  using EventHandler = std::function<void(const CameraEvent&)>;

  CameraWorker(std::unique_ptr<FrameSource> source, const Clock& clock,
               CameraWorkerConfig config = {});
  ~CameraWorker();
  CameraWorker(const CameraWorker&) = delete;
  CameraWorker& operator=(const CameraWorker&) = delete;

  // Starts the source (its error is returned, naming the camera) and the
  // thread.
  Status start(Sink sink, EventHandler events);
  // Stops the thread, then the source. Idempotent.
  void stop();
  bool running() const { return running_.load(); }

  const CameraDescription& description() const { return source_->description(); }
  const std::string& cameraId() const { return source_->description().camera_id; }
  CameraWorkerStats stats() const;

 private:
  void run(std::stop_token stop, Sink sink, EventHandler events);

  std::unique_ptr<FrameSource> source_;
  const Clock& clock_;
  CameraWorkerConfig config_;
  std::atomic<bool> running_{false};

  mutable std::mutex stats_mutex_;  // guards stats_
  CameraWorkerStats stats_;
  std::jthread thread_;
};

}  // namespace booth
