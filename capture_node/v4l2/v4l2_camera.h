#pragma once
// V4l2Camera: a USB (UVC) or other V4L2 capture device as a FrameSource.
// It talks to the device only through V4l2Device (v4l2/v4l2_device.h): the
// kernel's /dev/videoN in the booth, a FakeV4l2Driver in tests and the
// benchmark.
//
// start(): opens the node, checks it is a single-planar capture device with
// streaming I/O, enumerates formats, sizes and frame intervals and chooses a
// mode that reaches the requested rate (v4l2/v4l2_mode_chooser.h: MJPEG for
// high rates), sets it (S_FMT, S_PARM), reads back what the driver granted
// into description(), logs "requested 640x480@120 MJPG, granted
// 640x480@60 MJPG" (once per change), maps kBufferCount buffers and starts
// streaming.
//
// next(timeout): waits for one filled buffer, copies it out and hands the
// buffer straight back to the driver, so acquisition never waits on
// anything downstream; nothing is decoded or encoded here. MJPEG frames go
// on as captured (FrameEncoding::kJpeg); YUYV frames go on raw
// (FrameEncoding::kYuyv, rows packed), for encodeFrameJpeg() on another
// thread. Never waits longer than `timeout` on the device's clock: a stalled
// camera returns nullopt every `timeout`.
//
// Losses are counted here, once (stats(), see SourceStats): sequence gaps
// from the driver are driver_dropped; buffers flagged V4L2_BUF_FLAG_ERROR,
// empty or short are error_frames, skipped (their slot stays a gap in
// CapturedFrame::sequence).
//
// Failures: EAGAIN and EINTR are retried inside next() and never surface.
// An unplugged camera (ENODEV, or POLLHUP/POLLERR with a dead queue) fails
// next() with "<device> disconnected (...)"; every later next() returns the
// same error until stop(). Other device errors name the device, the ioctl
// and the errno text.
//
// Timestamps: the driver's buffer timestamp when it is CLOCK_MONOTONIC (the
// clock of steadyMicros()), converted once at dequeue; otherwise the
// dequeue time on the device's clock.
//
// Threading: start/next/stop from the one camera thread that owns the
// object; stats() from any thread.
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "capture_node/source/frame_source.h"
#include "capture_node/v4l2/sequence_tracker.h"
#include "capture_node/v4l2/v4l2_device.h"
#include "common/core/result.h"
#include "common/os/mapped_buffer.h"

namespace booth {

struct V4l2Config {
  std::string camera_id;
  std::string device = "/dev/video0";
  int width = 640;  // requested; the mode chooser and the driver may grant another
  int height = 480;
  double fps = 30;
};

class V4l2Camera final : public FrameSource {
 public:
  // Enough to absorb one slow next() call at 120 fps (33 ms) without the
  // driver running out of buffers; more only adds latency and locked memory.
  static constexpr unsigned kBufferCount = 4;

  // The kernel device at config.device.
  explicit V4l2Camera(V4l2Config config);
  // Any V4l2Device (a fake one in tests); config.device is only a label then.
  V4l2Camera(V4l2Config config, std::unique_ptr<V4l2Device> device);
  ~V4l2Camera() override;
  V4l2Camera(const V4l2Camera&) = delete;
  V4l2Camera& operator=(const V4l2Camera&) = delete;

  const CameraDescription& description() const override { return description_; }
  Status start() override;
  Result<std::optional<CapturedFrame>> next(std::chrono::milliseconds timeout) override;
  void stop() override;
  SourceStats stats() const override;

  // Granted V4L2 fourcc (V4L2_PIX_FMT_MJPEG, _JPEG or _YUYV); 0 before start().
  std::uint32_t pixelFormat() const { return pixel_format_; }

 private:
  Status openAndCheck();
  Status negotiateMode();
  void negotiateFrameRate();
  Status mapAndQueueBuffers();
  // One dequeued buffer: a frame, nullopt for a skipped error frame, or an
  // Error. Always requeues the buffer.
  Result<std::optional<CapturedFrame>> takeBuffer(const v4l2_buffer& buffer);
  std::optional<std::string> copyPixels(const v4l2_buffer& buffer);
  Error disconnected(const std::string& how);
  std::string deviceError(const std::string& what, int err) const;

  V4l2Config config_;
  std::unique_ptr<V4l2Device> device_;
  CameraDescription description_;
  std::vector<MappedBuffer> buffers_;  // index = V4L2 buffer index
  bool streaming_ = false;
  std::optional<std::string> failure_;  // sticky fatal error of the stream (e.g. unplugged)
  std::uint32_t pixel_format_ = 0;
  std::uint32_t bytes_per_line_ = 0;
  std::uint32_t image_size_ = 0;  // bytes of one raw frame; 0 for compressed formats
  std::string last_grant_logged_;
  bool short_frame_logged_ = false;
  SequenceTracker sequence_;

  mutable std::mutex stats_mutex_;  // guards stats_ (written by next(), read by stats())
  SourceStats stats_;
};

}  // namespace booth
