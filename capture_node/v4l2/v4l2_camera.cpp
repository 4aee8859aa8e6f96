#include "capture_node/v4l2/v4l2_camera.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>

#include "capture_node/v4l2/v4l2_device_info.h"
#include "capture_node/v4l2/v4l2_mode_chooser.h"
#include "capture_node/v4l2/v4l2_video_device.h"

namespace booth {
namespace {

constexpr const char* kListHint =
    "list cameras with capture_node --list-cameras, or use --camera synthetic";

bool isJpegFourcc(std::uint32_t f) { return f == V4L2_PIX_FMT_MJPEG || f == V4L2_PIX_FMT_JPEG; }

std::int64_t timevalMicros(const timeval& tv) {
  return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000 + tv.tv_usec;
}

std::string fpsText(double fps) {
  if (fps <= 0) return "?";
  if (std::abs(fps - std::round(fps)) < 0.005) return std::to_string(std::lround(fps));
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", fps);
  return text;
}

std::string modeText(int width, int height, double fps, std::uint32_t fourcc) {
  return std::to_string(width) + "x" + std::to_string(height) + "@" + fpsText(fps) + " " +
         fourccText(fourcc);
}

std::string offeredFormats(const V4l2DeviceInfo& info) {
  std::string list;
  for (const V4l2FormatInfo& f : info.formats) {
    if (!list.empty()) list += ' ';
    list += fourccText(f.fourcc);
  }
  return list.empty() ? "none" : list;
}

}  // namespace

V4l2Camera::V4l2Camera(V4l2Config config)
    : V4l2Camera(config, std::make_unique<V4l2VideoDevice>(config.device)) {}

V4l2Camera::V4l2Camera(V4l2Config config, std::unique_ptr<V4l2Device> device)
    : config_(std::move(config)), device_(std::move(device)) {
  description_.camera_id = config_.camera_id;
  description_.kind = "v4l2";
  description_.width = description_.requested_width = config_.width;
  description_.height = description_.requested_height = config_.height;
  description_.fps = description_.requested_fps = config_.fps;
}

V4l2Camera::~V4l2Camera() { stop(); }

std::string V4l2Camera::deviceError(const std::string& what, int err) const {
  return "camera " + device_->path() + ": " + what + ": " + errnoText(err);
}

Error V4l2Camera::disconnected(const std::string& how) {
  failure_ = device_->path() + " disconnected (" + how +
             "); the camera was unplugged or lost power, its stream has ended";
  return Error{*failure_};
}

SourceStats V4l2Camera::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

Status V4l2Camera::start() {
  if (device_->isOpen()) return fail("camera " + device_->path() + " is already started");
  if (config_.width <= 0 || config_.height <= 0 || !(config_.fps > 0)) {
    return fail("camera " + device_->path() + ": invalid request " + std::to_string(config_.width) +
                "x" + std::to_string(config_.height) + " at " + std::to_string(config_.fps) +
                " fps (width, height and fps must be positive)");
  }
  sequence_.reset();
  {
    std::lock_guard lock(stats_mutex_);
    stats_ = {};
  }
  failure_.reset();
  pixel_format_ = 0;
  description_.width = config_.width;
  description_.height = config_.height;
  description_.fps = config_.fps;
  description_.pixel_format.clear();

  Status status = openAndCheck();
  if (status) status = negotiateMode();
  if (status) status = mapAndQueueBuffers();
  if (status) {
    if (const int err = device_->streamOn(); err != 0) {
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

Status V4l2Camera::openAndCheck() {
  if (const int err = device_->open(); err != 0) {
    std::string hint = std::string("(is it plugged in? ") + kListHint + ")";
    if (err == EACCES || err == EPERM) {
      hint = "(add the user to the 'video' group, or run with access to the device)";
    } else if (err == EBUSY) {
      hint = "(is another program using it?)";
    }
    return fail("cannot open camera " + device_->path() + ": " + errnoText(err) + " " + hint);
  }
  return okStatus();
}

Status V4l2Camera::negotiateMode() {
  auto info = queryDeviceInfo(*device_);
  if (!info.ok()) {
    return fail(info.error() + "; pass a /dev/videoN capture node (" + kListHint + ")");
  }
  if (const std::string why = info->whyNotCapture(); !why.empty()) {
    return fail("camera " + device_->path() + " (" + info->card + ") is " + why + "; " + kListHint);
  }
  if (!info->canStream()) {
    return fail("camera " + device_->path() + " (" + info->card +
                ") does not support streaming I/O (mmap buffers), which the booth needs");
  }

  const V4l2ModeRequest request{config_.width, config_.height, config_.fps};
  const std::optional<V4l2Mode> mode =
      chooseCaptureMode(captureModes(info->formats, request), request);
  if (!mode) {
    return fail("camera " + device_->path() + " offers neither MJPEG nor YUYV (it offers: " +
                offeredFormats(*info) + "); use another camera or --camera synthetic");
  }

  // S_FMT never rejects: the driver substitutes what it can do. Read back.
  v4l2_format fmt{};
  fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  fmt.fmt.pix.width = mode->width;
  fmt.fmt.pix.height = mode->height;
  fmt.fmt.pix.pixelformat = mode->fourcc;
  fmt.fmt.pix.field = V4L2_FIELD_ANY;
  if (const int err = device_->setFormat(fmt); err != 0) {
    return fail(deviceError("cannot set format " + fourccText(mode->fourcc) + " " +
                                std::to_string(mode->width) + "x" + std::to_string(mode->height) +
                                " (VIDIOC_S_FMT)",
                            err) +
                (err == EBUSY ? " (is another program using the camera?)" : ""));
  }
  const v4l2_pix_format& pix = fmt.fmt.pix;
  if (!isSupportedCaptureFormat(pix.pixelformat)) {
    return fail("camera " + device_->path() + ": asked for " + fourccText(mode->fourcc) +
                ", the driver granted " + fourccText(pix.pixelformat) +
                ", which the booth cannot capture (MJPEG or YUYV only)");
  }
  if (pix.width == 0 || pix.height == 0) {
    return fail("camera " + device_->path() + ": the driver granted an empty frame size " +
                std::to_string(pix.width) + "x" + std::to_string(pix.height));
  }
  pixel_format_ = pix.pixelformat;
  description_.width = static_cast<int>(pix.width);
  description_.height = static_cast<int>(pix.height);
  description_.pixel_format = fourccText(pix.pixelformat);
  if (isJpegFourcc(pixel_format_)) {
    bytes_per_line_ = 0;
    image_size_ = 0;
  } else {
    if (pix.width % 2 != 0) {
      return fail("camera " + device_->path() + ": the driver granted YUYV at an odd width " +
                  std::to_string(pix.width));
    }
    bytes_per_line_ = std::max(pix.bytesperline, pix.width * 2);
    image_size_ = pix.width * 2 * pix.height;
  }

  negotiateFrameRate();

  const std::string grant =
      "requested " + modeText(config_.width, config_.height, config_.fps, mode->fourcc) +
      ", granted " +
      modeText(description_.width, description_.height, description_.fps, pixel_format_);
  if (grant != last_grant_logged_) {
    spdlog::info("camera {} ({}): {}", config_.camera_id, device_->path(), grant);
    last_grant_logged_ = grant;
  } else {
    spdlog::debug("camera {} ({}): {}", config_.camera_id, device_->path(), grant);
  }
  return okStatus();
}

void V4l2Camera::negotiateFrameRate() {
  // Not every driver lets the rate be set (no V4L2_CAP_TIMEPERFRAME, or
  // S_PARM fails): then the camera runs at its own rate, which G_PARM may
  // still tell; failing that, fps stays the request as a nominal figure.
  v4l2_streamparm parm{};
  parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  if (device_->getParam(parm) != 0) return;
  if ((parm.parm.capture.capability & V4L2_CAP_TIMEPERFRAME) != 0) {
    v4l2_streamparm wanted{};
    wanted.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    // 1000/30000 rather than 1/30 so fractional rates (29.97) survive.
    wanted.parm.capture.timeperframe.numerator = 1000;
    wanted.parm.capture.timeperframe.denominator =
        static_cast<std::uint32_t>(std::lround(config_.fps * 1000.0));
    if (device_->setParam(wanted) == 0) parm = wanted;  // the driver wrote its choice back
  }
  const double granted = fractionFps(parm.parm.capture.timeperframe);
  if (granted > 0) description_.fps = granted;
}

Status V4l2Camera::mapAndQueueBuffers() {
  v4l2_requestbuffers req{};
  req.count = kBufferCount;
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  if (const int err = device_->requestBuffers(req); err != 0) {
    return fail(deviceError(
        "cannot allocate " + std::to_string(kBufferCount) + " mmap buffers (VIDIOC_REQBUFS)", err));
  }
  if (req.count < 2) {
    return fail("camera " + device_->path() + ": driver granted only " + std::to_string(req.count) +
                " buffer(s), at least 2 are needed");
  }
  buffers_.reserve(req.count);
  for (std::uint32_t i = 0; i < req.count; ++i) {
    v4l2_buffer buf{};
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    buf.index = i;
    if (const int err = device_->queryBuffer(buf); err != 0) {
      return fail(
          deviceError("cannot query buffer " + std::to_string(i) + " (VIDIOC_QUERYBUF)", err));
    }
    MappedBuffer mapped;
    if (const int err = device_->map(buf.length, buf.m.offset, mapped); err != 0) {
      return fail(deviceError(
          "cannot mmap buffer " + std::to_string(i) + " (" + std::to_string(buf.length) + " bytes)",
          err));
    }
    buffers_.push_back(std::move(mapped));
    if (const int err = device_->queueBuffer(buf); err != 0) {
      return fail(deviceError("cannot queue buffer " + std::to_string(i) + " (VIDIOC_QBUF)", err));
    }
  }
  return okStatus();
}

Result<std::optional<CapturedFrame>> V4l2Camera::next(std::chrono::milliseconds timeout) {
  if (!streaming_) return fail("camera " + device_->path() + " is not started");
  if (failure_) return Error{*failure_};

  const std::int64_t deadline =
      device_->nowMicros() + std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  for (;;) {
    const std::int64_t left = deadline - device_->nowMicros();
    short revents = 0;
    const int poll_error =
        device_->poll(std::chrono::microseconds(std::max<std::int64_t>(0, left)), revents);
    if (poll_error == EINTR) {
      if (device_->nowMicros() >= deadline) return std::optional<CapturedFrame>{};
      continue;
    }
    if (poll_error != 0) return fail(deviceError("poll failed", poll_error));
    if (revents == 0) return std::optional<CapturedFrame>{};  // the timeout passed
    const bool readable = (revents & POLLIN) != 0;
    if (!readable && (revents & (POLLHUP | POLLNVAL)) != 0) {
      return disconnected((revents & POLLHUP) != 0 ? "poll: POLLHUP" : "poll: POLLNVAL");
    }

    v4l2_buffer buf{};
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    const int err = device_->dequeueBuffer(buf);
    if (err == 0) {
      auto taken = takeBuffer(buf);
      if (!taken.ok() || taken.value()) return taken;
      // An error frame was skipped: wait on for a good one.
    } else if (err == ENODEV) {
      return disconnected("VIDIOC_DQBUF: " + errnoText(err));
    } else if (!readable && (revents & POLLERR) != 0) {
      // POLLERR: vb2 has marked the queue failed (uvcvideo does on unplug,
      // before the node goes away); DQBUF says EIO. Nothing more will come.
      return disconnected("poll: POLLERR, VIDIOC_DQBUF: " + errnoText(err));
    } else if (err != EAGAIN && err != EINTR) {
      return fail(deviceError("cannot dequeue a frame (VIDIOC_DQBUF)", err));
    }
    // EAGAIN after POLLIN (a spurious wakeup), EINTR, or a skipped frame:
    // transient, try again within the same deadline.
    if (device_->nowMicros() >= deadline) return std::optional<CapturedFrame>{};
  }
}

Result<std::optional<CapturedFrame>> V4l2Camera::takeBuffer(const v4l2_buffer& dequeued) {
  if (dequeued.index >= buffers_.size()) {
    return fail("camera " + device_->path() + ": driver returned buffer index " +
                std::to_string(dequeued.index) + " of " + std::to_string(buffers_.size()));
  }
  // Take the timestamp before any copying so it stays close to capture.
  const bool monotonic =
      (dequeued.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC &&
      (dequeued.timestamp.tv_sec != 0 || dequeued.timestamp.tv_usec != 0);
  const std::int64_t capture_time_us =
      monotonic ? timevalMicros(dequeued.timestamp) : device_->nowMicros();

  std::optional<std::string> pixels;
  if ((dequeued.flags & V4L2_BUF_FLAG_ERROR) == 0) pixels = copyPixels(dequeued);

  // Hand the buffer back before anything else can fail.
  v4l2_buffer requeue = dequeued;
  if (const int err = device_->queueBuffer(requeue); err != 0) {
    if (err == ENODEV) return disconnected("VIDIOC_QBUF: " + errnoText(err));
    return fail(deviceError(
        "cannot requeue buffer " + std::to_string(dequeued.index) + " (VIDIOC_QBUF)", err));
  }

  const std::uint64_t sequence = sequence_.advance(dequeued.sequence);
  {
    std::lock_guard lock(stats_mutex_);
    stats_.driver_dropped = sequence_.dropped();
    if (pixels) {
      ++stats_.delivered;
    } else {
      ++stats_.error_frames;
    }
  }
  if (!pixels) return std::optional<CapturedFrame>{};  // skipped; its slot stays a gap

  CapturedFrame frame;
  frame.camera_id = config_.camera_id;
  frame.sequence = sequence;
  frame.capture_time_us = capture_time_us;
  frame.encoding = isJpegFourcc(pixel_format_) ? FrameEncoding::kJpeg : FrameEncoding::kYuyv;
  frame.width = description_.width;
  frame.height = description_.height;
  frame.data = std::move(*pixels);
  return std::optional<CapturedFrame>{std::move(frame)};
}

std::optional<std::string> V4l2Camera::copyPixels(const v4l2_buffer& dequeued) {
  const MappedBuffer& buffer = buffers_[dequeued.index];
  const std::size_t used = std::min<std::size_t>(dequeued.bytesused, buffer.size());
  const char* data = static_cast<const char*>(buffer.data());
  if (used == 0) return std::nullopt;
  if (image_size_ == 0) return std::string(data, used);  // compressed: as captured

  // YUYV: the last row needs only its pixels, not the padding after them.
  const std::size_t row = static_cast<std::size_t>(description_.width) * 2;
  const std::size_t needed =
      bytes_per_line_ * (static_cast<std::size_t>(description_.height) - 1) + row;
  if (used < needed) {
    if (!short_frame_logged_) {
      spdlog::warn(
          "camera {} ({}): short YUYV frame ({} bytes, expected {}), skipped as an error "
          "frame (further ones are only counted)",
          config_.camera_id, device_->path(), used, needed);
      short_frame_logged_ = true;
    }
    return std::nullopt;
  }
  if (bytes_per_line_ == row) return std::string(data, image_size_);
  std::string packed(image_size_, '\0');
  for (int y = 0; y < description_.height; ++y) {
    std::memcpy(packed.data() + row * y, data + static_cast<std::size_t>(bytes_per_line_) * y, row);
  }
  return packed;
}

void V4l2Camera::stop() {
  if (!device_->isOpen()) return;
  if (streaming_) device_->streamOff();  // best effort: may already be unplugged
  streaming_ = false;
  buffers_.clear();  // munmap before freeing the driver's buffers
  v4l2_requestbuffers req{};
  req.count = 0;
  req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  req.memory = V4L2_MEMORY_MMAP;
  device_->requestBuffers(req);  // best effort; close() frees them too
  device_->close();
  failure_.reset();
}

}  // namespace booth
