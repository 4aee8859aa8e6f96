#pragma once
// V4l2Device: the boundary between the booth and one V4L2 device node, at
// the level of the kernel's API (the ioctls, mmap and poll that a
// single-planar streaming capture needs), so that everything above it
// (V4l2Camera, the camera list) runs against a fake device in tests and
// benchmarks (v4l2/fake/fake_v4l2_driver.h) and against the kernel in the
// booth (v4l2/v4l2_video_device.h).
//
// Conventions, the kernel's: every operation takes the V4L2 structure the
// ioctl takes, fills it in the same way, and returns 0 or an errno value
// (never -1, never throws). EAGAIN from dequeueBuffer() means no filled
// buffer yet; EINTR may come back from any call and means "try again".
// Error text is the caller's job: it knows what it was doing.
//
// Threading: one thread at a time (the camera thread that owns the object).
#include <linux/videodev2.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "common/os/mapped_buffer.h"

namespace booth {

class V4l2Device {
 public:
  virtual ~V4l2Device() = default;

  // The device node, for messages ("/dev/video0").
  virtual const std::string& path() const = 0;

  // open() opens the node (non-blocking); close() releases it and with it
  // any buffers still allocated. close() is idempotent.
  virtual int open() = 0;
  virtual void close() = 0;
  virtual bool isOpen() const = 0;

  virtual int queryCapability(v4l2_capability& capability) = 0;    // VIDIOC_QUERYCAP
  virtual int enumFormat(v4l2_fmtdesc& format) = 0;                // VIDIOC_ENUM_FMT
  virtual int enumFrameSizes(v4l2_frmsizeenum& size) = 0;          // VIDIOC_ENUM_FRAMESIZES
  virtual int enumFrameIntervals(v4l2_frmivalenum& interval) = 0;  // VIDIOC_ENUM_FRAMEINTERVALS
  virtual int getFormat(v4l2_format& format) = 0;                  // VIDIOC_G_FMT
  virtual int setFormat(v4l2_format& format) = 0;                  // VIDIOC_S_FMT
  virtual int getParam(v4l2_streamparm& param) = 0;                // VIDIOC_G_PARM
  virtual int setParam(v4l2_streamparm& param) = 0;                // VIDIOC_S_PARM
  virtual int requestBuffers(v4l2_requestbuffers& request) = 0;    // VIDIOC_REQBUFS
  virtual int queryBuffer(v4l2_buffer& buffer) = 0;                // VIDIOC_QUERYBUF
  virtual int queueBuffer(v4l2_buffer& buffer) = 0;                // VIDIOC_QBUF
  virtual int dequeueBuffer(v4l2_buffer& buffer) = 0;              // VIDIOC_DQBUF
  virtual int streamOn() = 0;                                      // VIDIOC_STREAMON
  virtual int streamOff() = 0;                                     // VIDIOC_STREAMOFF

  // Maps the buffer that VIDIOC_QUERYBUF described (`length` bytes at
  // `offset`) into `mapped`, shared and read-write.
  virtual int map(std::uint32_t length, std::uint32_t offset, MappedBuffer& mapped) = 0;

  // Waits up to `timeout` for a filled buffer: returns 0 with `revents` set
  // as poll(2) sets it (0: the timeout passed; POLLIN: a buffer is ready;
  // POLLERR / POLLHUP: the queue or the device failed, e.g. unplugged), or
  // an errno value. Never waits longer than `timeout`.
  virtual int poll(std::chrono::microseconds timeout, short& revents) = 0;

  // Now, in microseconds, on the clock the device timestamps buffers with
  // when they carry V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC: CLOCK_MONOTONIC for a
  // kernel device (the same clock as steadyMicros()), the simulated clock
  // for a fake one. Deadlines and fallback timestamps use it too.
  virtual std::int64_t nowMicros() const = 0;
};

}  // namespace booth
