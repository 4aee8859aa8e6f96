#include "capture_node/v4l2/v4l2_camera.h"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <system_error>
#include <utility>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

constexpr int kJpegQuality = 90;
constexpr const char* kListHint =
    "list cameras with v4l2-ctl --list-devices, or use --camera synthetic";

int xioctl(int fd, unsigned long request, void* arg) {
  int r;
  do {
    r = ::ioctl(fd, request, arg);
  } while (r == -1 && errno == EINTR);
  return r;
}

std::string errnoText(int err) { return std::system_category().message(err); }

std::string fourccText(std::uint32_t f) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>((f >> (8 * i)) & 0xff);
    if (c != ' ' && c != '\0') s += c;
  }
  return s;
}

bool isJpegFourcc(std::uint32_t f) { return f == V4L2_PIX_FMT_MJPEG || f == V4L2_PIX_FMT_JPEG; }

// What the device offers, for error messages ("YUYV MJPG").
std::string offeredFormats(int fd) {
  std::string list;
  v4l2_fmtdesc desc{};
  desc.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  while (xioctl(fd, VIDIOC_ENUM_FMT, &desc) == 0) {
    if (!list.empty()) list += ' ';
    list += fourccText(desc.pixelformat);
    ++desc.index;
  }
  return list.empty() ? "none" : list;
}

std::int64_t timevalMicros(const timeval& tv) {
  return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000 + tv.tv_usec;
}

}  // namespace

V4l2Camera::V4l2Camera(V4l2Config config) : config_(std::move(config)) {
  description_.camera_id = config_.camera_id;
  description_.kind = "v4l2";
  description_.width = config_.width;
  description_.height = config_.height;
  description_.fps = config_.fps;
}

V4l2Camera::~V4l2Camera() { stop(); }

std::string V4l2Camera::deviceError(const std::string& what, int err) const {
  return "camera " + config_.device + ": " + what + ": " + errnoText(err);
}

Status V4l2Camera::start() {
  if (fd_) return fail("camera " + config_.device + " is already started");
  if (config_.width <= 0 || config_.height <= 0 || !(config_.fps > 0)) {
    return fail("camera " + config_.device + ": invalid request " + std::to_string(config_.width) +
                "x" + std::to_string(config_.height) + " at " + std::to_string(config_.fps) +
                " fps (width, height and fps must be positive)");
  }
  sequence_.reset();
  dropped_.store(0, std::memory_order_relaxed);

  Status status = openAndCheckCapabilities();
  if (status) status = negotiateFormat();
  if (status) {
    negotiateFrameRate();
    status = mapAndQueueBuffers();
  }
  if (status) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(fd_.get(), VIDIOC_STREAMON, &type) != 0) {
      const int err = errno;
      status = fail(deviceError("cannot start streaming (VIDIOC_STREAMON)", err) +
                    " (is the USB bandwidth shared with another camera? try a lower "
                    "resolution or MJPEG)");
    } else {
      streaming_ = true;
    }
  }
  if (!status) stop();
  return status;
}

Status V4l2Camera::openAndCheckCapabilities() {
  const int fd = ::open(config_.device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    std::string hint = std::string("(is it plugged in? ") + kListHint + ")";
    if (err == EACCES || err == EPERM) {
      hint = "(add the user to the 'video' group, or run with access to the device)";
    } else if (err == EBUSY) {
      hint = "(is another program using it?)";
    }
    return fail("cannot open camera " + config_.device + ": " + errnoText(err) + " " + hint);
  }
  fd_.reset(fd);

  v4l2_capability cap{};
  if (xioctl(fd_.get(), VIDIOC_QUERYCAP, &cap) != 0) {
    const int err = errno;
    return fail(config_.device + " is not a V4L2 device (VIDIOC_QUERYCAP: " + errnoText(err) +
                "); pass a /dev/videoN capture node (" + kListHint + ")");
  }
  // device_caps describes this node; capabilities the whole physical device.
  const std::uint32_t caps =
      (cap.capabilities & V4L2_CAP_DEVICE_CAPS) != 0 ? cap.device_caps : cap.capabilities;
  const std::string card(reinterpret_cast<const char*>(cap.card),
                         strnlen(reinterpret_cast<const char*>(cap.card), sizeof(cap.card)));
  if ((caps & V4L2_CAP_VIDEO_CAPTURE) == 0) {
    std::string why = (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE) != 0
                          ? "is a multi-planar capture device, which is not supported"
                      : (caps & V4L2_CAP_META_CAPTURE) != 0
                          ? "is a metadata node, not the video node (UVC cameras expose both)"
                          : "is not a video capture device";
    return fail("camera " + config_.device + " (" + card + ") " + why + "; " + kListHint);
  }
  if ((caps & V4L2_CAP_STREAMING) == 0) {
    return fail("camera " + config_.device + " (" + card +
                ") does not support streaming I/O (mmap buffers), which the booth needs");
  }
  return okStatus();
}

Status V4l2Camera::negotiateFormat() {
  // S_FMT never rejects an unknown pixel format: the driver substitutes one
  // it supports. So ask for each in order and check what came back.
  for (std::uint32_t wanted : {V4L2_PIX_FMT_MJPEG, V4L2_PIX_FMT_YUYV}) {
    v4l2_format fmt{};
    fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    fmt.fmt.pix.width = static_cast<std::uint32_t>(config_.width);
    fmt.fmt.pix.height = static_cast<std::uint32_t>(config_.height);
    fmt.fmt.pix.pixelformat = wanted;
    fmt.fmt.pix.field = V4L2_FIELD_ANY;
    if (xioctl(fd_.get(), VIDIOC_S_FMT, &fmt) != 0) {
      const int err = errno;
      return fail(deviceError("cannot set format " + fourccText(wanted) + " " +
                                  std::to_string(config_.width) + "x" +
                                  std::to_string(config_.height) + " (VIDIOC_S_FMT)",
                              err) +
                  (err == EBUSY ? " (is another program using the camera?)" : ""));
    }
    const std::uint32_t got = fmt.fmt.pix.pixelformat;
    if (got == wanted || (wanted == V4L2_PIX_FMT_MJPEG && isJpegFourcc(got))) {
      pixel_format_ = got;
      bytes_per_line_ = fmt.fmt.pix.bytesperline;
      description_.width = static_cast<int>(fmt.fmt.pix.width);
      description_.height = static_cast<int>(fmt.fmt.pix.height);
      if (got == V4L2_PIX_FMT_YUYV && bytes_per_line_ < fmt.fmt.pix.width * 2) {
        bytes_per_line_ = fmt.fmt.pix.width * 2;
      }
      return okStatus();
    }
  }
  return fail("camera " + config_.device + " offers neither MJPEG nor YUYV (it offers: " +
              offeredFormats(fd_.get()) + "); use another camera or --camera synthetic");
}

void V4l2Camera::negotiateFrameRate() {
  // Not every driver lets the rate be set (no V4L2_CAP_TIMEPERFRAME, or
  // S_PARM fails): then the camera runs at its own rate and fps stays the
  // requested value as a nominal figure.
  v4l2_streamparm parm{};
  parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (xioctl(fd_.get(), VIDIOC_G_PARM, &parm) != 0) return;
  if ((parm.parm.capture.capability & V4L2_CAP_TIMEPERFRAME) != 0) {
    // 1000/30000 rather than 1/30 so fractional rates (29.97) survive.
    parm.parm.capture.timeperframe.numerator = 1000;
    parm.parm.capture.timeperframe.denominator =
        static_cast<std::uint32_t>(std::lround(config_.fps * 1000.0));
    if (xioctl(fd_.get(), VIDIOC_S_PARM, &parm) != 0) return;
  }
  const v4l2_fract& tpf = parm.parm.capture.timeperframe;  // read back: the driver's choice
  if (tpf.numerator != 0 && tpf.denominator != 0) {
    description_.fps = static_cast<double>(tpf.denominator) / tpf.numerator;
  }
}

Status V4l2Camera::mapAndQueueBuffers() {
  v4l2_requestbuffers req{};
  req.count = kBufferCount;
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  if (xioctl(fd_.get(), VIDIOC_REQBUFS, &req) != 0) {
    const int err = errno;
    return fail(deviceError(
        "cannot allocate " + std::to_string(kBufferCount) + " mmap buffers (VIDIOC_REQBUFS)", err));
  }
  if (req.count < 2) {
    return fail("camera " + config_.device + ": driver granted only " + std::to_string(req.count) +
                " buffer(s), at least 2 are needed");
  }
  buffers_.reserve(req.count);
  for (std::uint32_t i = 0; i < req.count; ++i) {
    v4l2_buffer buf{};
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    buf.index = i;
    if (xioctl(fd_.get(), VIDIOC_QUERYBUF, &buf) != 0) {
      const int err = errno;
      return fail(
          deviceError("cannot query buffer " + std::to_string(i) + " (VIDIOC_QUERYBUF)", err));
    }
    MappedBuffer mapped = MappedBuffer::map(fd_.get(), buf.length, buf.m.offset);
    if (!mapped.isValid()) {
      const int err = errno;
      return fail(deviceError(
          "cannot mmap buffer " + std::to_string(i) + " (" + std::to_string(buf.length) + " bytes)",
          err));
    }
    buffers_.push_back(std::move(mapped));
    if (xioctl(fd_.get(), VIDIOC_QBUF, &buf) != 0) {
      const int err = errno;
      return fail(deviceError("cannot queue buffer " + std::to_string(i) + " (VIDIOC_QBUF)", err));
    }
  }
  return okStatus();
}

Result<std::optional<CapturedFrame>> V4l2Camera::next(std::chrono::milliseconds timeout) {
  if (!streaming_) return fail("camera " + config_.device + " is not started");

  pollfd pfd{fd_.get(), POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int ready;
  int poll_errno = 0;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    ready = ::poll(&pfd, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    poll_errno = errno;
    if (ready >= 0 || poll_errno != EINTR) break;
  }
  if (ready < 0) return fail(deviceError("poll failed", poll_errno));
  if (ready == 0) return std::optional<CapturedFrame>{};
  if ((pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0 && (pfd.revents & POLLIN) == 0) {
    return fail("camera " + config_.device +
                " stopped delivering frames (poll error: was it unplugged?)");
  }

  v4l2_buffer buf{};
  buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  buf.memory = V4L2_MEMORY_MMAP;
  if (xioctl(fd_.get(), VIDIOC_DQBUF, &buf) != 0) {
    const int err = errno;
    if (err == EAGAIN) return std::optional<CapturedFrame>{};
    return fail(deviceError("cannot dequeue a frame (VIDIOC_DQBUF)", err) +
                (err == ENODEV ? " (camera unplugged?)" : ""));
  }
  // Take the timestamp before any copying so it stays close to capture.
  const bool monotonic =
      (buf.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC &&
      (buf.timestamp.tv_sec != 0 || buf.timestamp.tv_usec != 0);
  const std::int64_t capture_time_us = monotonic ? timevalMicros(buf.timestamp) : steadyMicros();

  Result<std::string> data = std::string{};
  const bool corrupt =
      (buf.flags & V4L2_BUF_FLAG_ERROR) != 0 || buf.bytesused == 0 || buf.index >= buffers_.size();
  if (!corrupt) data = encodeFrame(buffers_[buf.index], buf.bytesused);

  // Hand the buffer back before anything else can fail.
  if (xioctl(fd_.get(), VIDIOC_QBUF, &buf) != 0) {
    const int err = errno;
    return fail(
        deviceError("cannot requeue buffer " + std::to_string(buf.index) + " (VIDIOC_QBUF)", err));
  }
  // A corrupt frame is skipped; its sequence number shows up as a gap.
  if (corrupt) return std::optional<CapturedFrame>{};
  if (!data) return Error{data.error()};

  CapturedFrame frame;
  frame.camera_id = config_.camera_id;
  frame.sequence = sequence_.advance(buf.sequence);
  dropped_.store(sequence_.dropped(), std::memory_order_relaxed);
  frame.capture_time_us = capture_time_us;
  frame.encoding = FrameEncoding::kJpeg;
  frame.width = description_.width;
  frame.height = description_.height;
  frame.data = std::move(data.value());
  return std::optional<CapturedFrame>{std::move(frame)};
}

Result<std::string> V4l2Camera::encodeFrame(const MappedBuffer& buffer, std::uint32_t bytes_used) {
  const std::size_t n = std::min<std::size_t>(bytes_used, buffer.size());
  if (isJpegFourcc(pixel_format_)) {
    return std::string(static_cast<const char*>(buffer.data()), n);
  }
  const std::size_t needed = static_cast<std::size_t>(bytes_per_line_) * description_.height;
  if (n < needed) {
    return fail("camera " + config_.device + ": short YUYV frame (" + std::to_string(n) +
                " bytes, expected " + std::to_string(needed) + ")");
  }
  try {
    // The Mat only borrows the mapped memory; cvtColor copies it out.
    const cv::Mat yuyv(description_.height, description_.width, CV_8UC2,
                       const_cast<void*>(buffer.data()), bytes_per_line_);
    cv::Mat bgr;
    cv::cvtColor(yuyv, bgr, cv::COLOR_YUV2BGR_YUYV);
    std::vector<unsigned char> jpeg;
    if (!cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, kJpegQuality})) {
      return fail("camera " + config_.device + ": JPEG encoding of a YUYV frame failed");
    }
    return std::string(jpeg.begin(), jpeg.end());
  } catch (const cv::Exception& e) {
    return fail("camera " + config_.device +
                ": converting a YUYV frame to JPEG failed: " + e.what());
  }
}

void V4l2Camera::stop() {
  if (!fd_) return;
  if (streaming_) {
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    xioctl(fd_.get(), VIDIOC_STREAMOFF, &type);  // best effort: may already be unplugged
    streaming_ = false;
  }
  buffers_.clear();  // munmap before freeing the driver's buffers
  v4l2_requestbuffers req{};
  req.count = 0;
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  xioctl(fd_.get(), VIDIOC_REQBUFS, &req);  // best effort; close() frees them too
  fd_.reset();
}

}  // namespace booth
