#pragma once
// V4l2VideoDevice: a kernel V4L2 device node (/dev/videoN) behind the
// V4l2Device interface: plain ioctl() on a non-blocking fd (libv4l2's format
// emulation is not wanted: frames go on as the camera made them), mmap and
// ppoll. EINTR is retried here, so callers never see it from this class.
// The fd is a UniqueFd: closed by close() or the destructor.
#include <string>

#include "capture_node/v4l2/v4l2_device.h"
#include "common/os/unique_fd.h"

namespace booth {

class V4l2VideoDevice final : public V4l2Device {
 public:
  explicit V4l2VideoDevice(std::string path);

  const std::string& path() const override { return path_; }
  int open() override;
  void close() override { fd_.reset(); }
  bool isOpen() const override { return fd_.isValid(); }

  int queryCapability(v4l2_capability& capability) override;
  int enumFormat(v4l2_fmtdesc& format) override;
  int enumFrameSizes(v4l2_frmsizeenum& size) override;
  int enumFrameIntervals(v4l2_frmivalenum& interval) override;
  int getFormat(v4l2_format& format) override;
  int setFormat(v4l2_format& format) override;
  int getParam(v4l2_streamparm& param) override;
  int setParam(v4l2_streamparm& param) override;
  int requestBuffers(v4l2_requestbuffers& request) override;
  int queryBuffer(v4l2_buffer& buffer) override;
  int queueBuffer(v4l2_buffer& buffer) override;
  int dequeueBuffer(v4l2_buffer& buffer) override;
  int streamOn() override;
  int streamOff() override;
  int map(std::uint32_t length, std::uint32_t offset, MappedBuffer& mapped) override;
  int poll(std::chrono::microseconds timeout, short& revents) override;
  std::int64_t nowMicros() const override;

 private:
  int control(unsigned long request, void* argument);

  std::string path_;
  UniqueFd fd_;
};

}  // namespace booth
