#pragma once
// V4l2Camera: a USB (UVC) or other V4L2 capture device as a FrameSource.
//
// start() opens the device node, checks it is a single-planar video capture
// device with streaming I/O, negotiates the format (MJPEG preferred, YUYV as
// fallback), the frame rate, and maps kBufferCount driver buffers. next()
// waits for one filled buffer, copies it out and hands the buffer straight
// back to the driver, so acquisition never waits on anything downstream.
// MJPEG frames are passed on as captured; YUYV frames are encoded to JPEG
// (quality 90) on the calling thread, which costs a few ms per frame.
//
// Timestamps: the driver's buffer timestamp is converted to microseconds once,
// here, when the driver says it is CLOCK_MONOTONIC (same clock as
// steadyMicros()); otherwise the dequeue time is used.
// Dropped frames: gaps in the driver's sequence numbers are counted
// (dropped()) and kept as gaps in CapturedFrame::sequence.
//
// Threading: start/next/stop from the one camera thread that owns the
// object; dropped() may be read from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "capture_node/source/frame_source.h"
#include "common/os/mapped_buffer.h"
#include "capture_node/v4l2/sequence_tracker.h"
#include "common/os/unique_fd.h"
#include "common/core/result.h"

namespace booth {

struct V4l2Config {
  std::string camera_id;
  std::string device = "/dev/video0";
  int width = 640;  // requested; the driver may pick the nearest it supports
  int height = 480;
  double fps = 30;
};

class V4l2Camera final : public FrameSource {
 public:
  // Enough to absorb one slow next() call at 120 fps without the driver
  // running out of buffers; more only adds latency and locked memory.
  static constexpr unsigned kBufferCount = 4;

  explicit V4l2Camera(V4l2Config config);
  ~V4l2Camera() override;
  V4l2Camera(const V4l2Camera&) = delete;
  V4l2Camera& operator=(const V4l2Camera&) = delete;

  const CameraDescription& description() const override { return description_; }
  Status start() override;
  Result<std::optional<CapturedFrame>> next(std::chrono::milliseconds timeout) override;
  void stop() override;

  // Frames the driver skipped since start() (sequence-number gaps).
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  // Negotiated V4L2 fourcc (V4L2_PIX_FMT_MJPEG or V4L2_PIX_FMT_YUYV); 0 before start().
  std::uint32_t pixelFormat() const { return pixel_format_; }

 private:
  Status openAndCheckCapabilities();
  Status negotiateFormat();
  void negotiateFrameRate();
  Status mapAndQueueBuffers();
  Result<std::string> encodeFrame(const MappedBuffer& buffer, std::uint32_t bytes_used);
  std::string deviceError(const std::string& what, int err) const;

  V4l2Config config_;
  CameraDescription description_;
  UniqueFd fd_;
  std::vector<MappedBuffer> buffers_;  // index = V4L2 buffer index
  bool streaming_ = false;
  std::uint32_t pixel_format_ = 0;
  std::uint32_t bytes_per_line_ = 0;
  SequenceTracker sequence_;
  std::atomic<std::uint64_t> dropped_{0};  // mirror of sequence_.dropped() for other threads
};

}  // namespace booth
