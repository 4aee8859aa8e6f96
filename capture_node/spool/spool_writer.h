#pragma once
// SpoolWriter: moves one camera's frames from the camera thread into the
// spool on its own thread. The camera thread only copies a frame into the
// writer's bounded queue (offer(), never waits); this thread appends it to
// the CameraSpool and syncs the spool every sync_every. Frames that are not
// JPEG yet (raw pixels) are encoded here, off the camera thread.
//
// When the spool refuses a frame (budget used up, disk full, I/O error),
// the writer reports it once through `on_failure` and drops every later
// frame of the session (counted): what is already spooled stays intact.
//
// Lifecycle: constructed per session and camera; close() drains the queue,
// syncs and joins. Threading: offer() from the camera thread; the rest from
// the owner.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "capture_node/source/frame_source.h"
#include "capture_node/spool/camera_spool.h"
#include "common/core/bounded_queue.h"

namespace booth {

struct SpoolWriterConfig {
  std::size_t queue_frames = 240;  // 2 s at 120 fps: rides out a slow disk
  std::chrono::milliseconds sync_every{250};
  int jpeg_quality = 90;  // for frames that arrive as raw pixels
};

class SpoolWriter {
 public:
  // on_appended: after each frame is in the spool (wakes the pose stage);
  // on_failure: once, with the reason, when the spool refuses a frame.
  SpoolWriter(CameraSpool& spool, SpoolWriterConfig config, std::function<void()> on_appended,
              std::function<void(const std::string&)> on_failure);
  ~SpoolWriter();
  SpoolWriter(const SpoolWriter&) = delete;
  SpoolWriter& operator=(const SpoolWriter&) = delete;

  // From the camera thread: never waits. false: no room (the caller counts
  // the drop).
  bool offer(CapturedFrame& frame);
  // Drains what is queued, syncs, stops the thread. Idempotent.
  void close();

  std::uint64_t written() const { return written_.load(); }
  std::uint64_t refused() const { return refused_.load(); }
  std::size_t queueHighWater() const { return queue_.highWater(); }

 private:
  void run(std::stop_token stop);
  void write(CapturedFrame& frame);

  CameraSpool& spool_;
  SpoolWriterConfig config_;
  std::function<void()> on_appended_;
  std::function<void(const std::string&)> on_failure_;
  BoundedQueue<CapturedFrame> queue_;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> refused_{0};
  bool failed_ = false;  // writer thread only
  std::jthread thread_;
};

}  // namespace booth
