#include "capture_node/v4l2/v4l2_video_device.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <ctime>
#include <utility>

namespace booth {

V4l2VideoDevice::V4l2VideoDevice(std::string path) : path_(std::move(path)) {}

int V4l2VideoDevice::open() {
  if (fd_) return EBUSY;  // a second open() of the same object is a caller bug
  const int fd = ::open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return errno;
  fd_.reset(fd);
  return 0;
}

int V4l2VideoDevice::control(unsigned long request, void* argument) {
  if (!fd_) return EBADF;
  for (;;) {
    if (::ioctl(fd_.get(), request, argument) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

int V4l2VideoDevice::queryCapability(v4l2_capability& c) { return control(VIDIOC_QUERYCAP, &c); }
int V4l2VideoDevice::enumFormat(v4l2_fmtdesc& f) { return control(VIDIOC_ENUM_FMT, &f); }
int V4l2VideoDevice::enumFrameSizes(v4l2_frmsizeenum& s) {
  return control(VIDIOC_ENUM_FRAMESIZES, &s);
}
int V4l2VideoDevice::enumFrameIntervals(v4l2_frmivalenum& i) {
  return control(VIDIOC_ENUM_FRAMEINTERVALS, &i);
}
int V4l2VideoDevice::getFormat(v4l2_format& f) { return control(VIDIOC_G_FMT, &f); }
int V4l2VideoDevice::setFormat(v4l2_format& f) { return control(VIDIOC_S_FMT, &f); }
int V4l2VideoDevice::getParam(v4l2_streamparm& p) { return control(VIDIOC_G_PARM, &p); }
int V4l2VideoDevice::setParam(v4l2_streamparm& p) { return control(VIDIOC_S_PARM, &p); }
int V4l2VideoDevice::requestBuffers(v4l2_requestbuffers& r) { return control(VIDIOC_REQBUFS, &r); }
int V4l2VideoDevice::queryBuffer(v4l2_buffer& b) { return control(VIDIOC_QUERYBUF, &b); }
int V4l2VideoDevice::queueBuffer(v4l2_buffer& b) { return control(VIDIOC_QBUF, &b); }
int V4l2VideoDevice::dequeueBuffer(v4l2_buffer& b) { return control(VIDIOC_DQBUF, &b); }

int V4l2VideoDevice::streamOn() {
  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  return control(VIDIOC_STREAMON, &type);
}

int V4l2VideoDevice::streamOff() {
  int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  return control(VIDIOC_STREAMOFF, &type);
}

int V4l2VideoDevice::map(std::uint32_t length, std::uint32_t offset, MappedBuffer& mapped) {
  if (!fd_) return EBADF;
  mapped = MappedBuffer::map(fd_.get(), length, static_cast<off_t>(offset));
  return mapped.isValid() ? 0 : errno;
}

int V4l2VideoDevice::poll(std::chrono::microseconds timeout, short& revents) {
  revents = 0;
  if (!fd_) return EBADF;
  // ppoll, not poll: microsecond deadlines, and a remaining time that is
  // recomputed after EINTR instead of restarting the full timeout.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) left = std::chrono::nanoseconds(0);
    const timespec ts{static_cast<time_t>(left.count() / 1'000'000'000),
                      static_cast<long>(left.count() % 1'000'000'000)};
    pollfd pfd{fd_.get(), POLLIN, 0};
    const int ready = ::ppoll(&pfd, 1, &ts, nullptr);
    if (ready >= 0) {
      revents = ready == 0 ? 0 : pfd.revents;
      return 0;
    }
    if (errno != EINTR) return errno;
  }
}

std::int64_t V4l2VideoDevice::nowMicros() const {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

}  // namespace booth
