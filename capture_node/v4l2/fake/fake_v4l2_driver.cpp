#include "capture_node/v4l2/fake/fake_v4l2_driver.h"

#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace booth {
namespace {

constexpr std::uint32_t kCompressedDefaultPayload = 4096;

bool isCompressedFourcc(std::uint32_t fourcc) {
  return fourcc == V4L2_PIX_FMT_MJPEG || fourcc == V4L2_PIX_FMT_JPEG;
}

double fps(v4l2_fract interval) {
  return interval.numerator == 0 || interval.denominator == 0
             ? 0.0
             : static_cast<double>(interval.denominator) / interval.numerator;
}

std::uint32_t roundToPage(std::uint32_t bytes) {
  const auto page = static_cast<std::uint32_t>(::sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

template <std::size_t N>
void copyName(std::uint8_t (&out)[N], const std::string& in) {
  std::memset(out, 0, N);
  std::memcpy(out, in.data(), std::min(in.size(), N - 1));
}

bool inRanges(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& ranges,
              std::uint64_t slot) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const auto& r) { return slot >= r.first && slot - r.first < r.second; });
}

}  // namespace

std::vector<FakeFormat> FakeV4l2Config::defaultFormats() {
  FakeFormat mjpeg;
  mjpeg.fourcc = V4L2_PIX_FMT_MJPEG;
  mjpeg.description = "Motion-JPEG";
  mjpeg.sizes = {{640, 480, {{1, 120}, {1, 60}, {1, 30}}},
                 {1280, 720, {{1, 60}, {1, 30}}},
                 {320, 240, {{1, 120}, {1, 60}, {1, 30}}}};
  FakeFormat yuyv;
  yuyv.fourcc = V4L2_PIX_FMT_YUYV;
  yuyv.description = "YUYV 4:2:2";
  yuyv.sizes = {{640, 480, {{1, 30}, {1, 15}}}, {320, 240, {{1, 60}, {1, 30}}}};
  return {mjpeg, yuyv};
}

// One open of the device node: what an fd is to the kernel.
class FakeV4l2Driver::Handle final : public V4l2Device {
 public:
  Handle(FakeV4l2Driver& driver, int id) : driver_(driver), id_(id) {}
  ~Handle() override { close(); }

  const std::string& path() const override { return driver_.config_.path; }
  int open() override {
    if (open_) return EBUSY;
    const int err = driver_.open(id_);
    open_ = err == 0;
    return err;
  }
  void close() override {
    if (open_) driver_.close(id_);
    open_ = false;
  }
  bool isOpen() const override { return open_; }

  int queryCapability(v4l2_capability& c) override {
    return open_ ? driver_.queryCapability(id_, c) : EBADF;
  }
  int enumFormat(v4l2_fmtdesc& f) override { return open_ ? driver_.enumFormat(id_, f) : EBADF; }
  int enumFrameSizes(v4l2_frmsizeenum& s) override {
    return open_ ? driver_.enumFrameSizes(id_, s) : EBADF;
  }
  int enumFrameIntervals(v4l2_frmivalenum& i) override {
    return open_ ? driver_.enumFrameIntervals(id_, i) : EBADF;
  }
  int getFormat(v4l2_format& f) override { return open_ ? driver_.getFormat(id_, f) : EBADF; }
  int setFormat(v4l2_format& f) override { return open_ ? driver_.setFormat(id_, f) : EBADF; }
  int getParam(v4l2_streamparm& p) override { return open_ ? driver_.getParam(id_, p) : EBADF; }
  int setParam(v4l2_streamparm& p) override { return open_ ? driver_.setParam(id_, p) : EBADF; }
  int requestBuffers(v4l2_requestbuffers& r) override {
    return open_ ? driver_.requestBuffers(id_, r) : EBADF;
  }
  int queryBuffer(v4l2_buffer& b) override { return open_ ? driver_.queryBuffer(id_, b) : EBADF; }
  int queueBuffer(v4l2_buffer& b) override { return open_ ? driver_.queueBuffer(id_, b) : EBADF; }
  int dequeueBuffer(v4l2_buffer& b) override {
    return open_ ? driver_.dequeueBuffer(id_, b) : EBADF;
  }
  int streamOn() override { return open_ ? driver_.streamOn(id_) : EBADF; }
  int streamOff() override { return open_ ? driver_.streamOff(id_) : EBADF; }
  int map(std::uint32_t length, std::uint32_t offset, MappedBuffer& mapped) override {
    return open_ ? driver_.map(id_, length, offset, mapped) : EBADF;
  }
  int poll(std::chrono::microseconds timeout, short& revents) override {
    revents = 0;
    return open_ ? driver_.poll(id_, timeout, revents) : EBADF;
  }
  std::int64_t nowMicros() const override { return driver_.clock_.nowMicros(); }

 private:
  FakeV4l2Driver& driver_;
  const int id_;
  bool open_ = false;
};

FakeV4l2Driver::FakeV4l2Driver(FakeV4l2Config config, FakeClock& clock)
    : config_(std::move(config)), clock_(clock) {
  // Power-on state: the first size of the first format at its first interval.
  v4l2_pix_format pix{};
  if (!config_.formats.empty()) {
    const FakeFormat& first = config_.formats.front();
    pix.pixelformat = first.fourcc;
    if (!first.sizes.empty()) {
      pix.width = first.sizes.front().width;
      pix.height = first.sizes.front().height;
    } else {
      pix.width = first.stepwise_sizes.max_width;
      pix.height = first.stepwise_sizes.max_height;
    }
  }
  std::lock_guard lock(mutex_);
  interval_ = {1, 30};
  applyFormat(pix);
  format_ = pix;
  if (const FakeFormat* format = findFormat(pix.pixelformat)) {
    const std::vector<v4l2_fract> intervals = intervalsFor(*format, pix.width, pix.height);
    if (!intervals.empty()) interval_ = intervals.front();
  }
  if (config_.granted_interval) interval_ = *config_.granted_interval;
}

FakeV4l2Driver::~FakeV4l2Driver() = default;

std::unique_ptr<V4l2Device> FakeV4l2Driver::device() {
  std::lock_guard lock(mutex_);
  return std::make_unique<Handle>(*this, next_handle_++);
}

// --- script ---

void FakeV4l2Driver::setPayloads(std::vector<std::string> payloads) {
  std::lock_guard lock(mutex_);
  payloads_ = std::move(payloads);
  for (Buffer& b : buffers_) b.payload_key.reset();
}

void FakeV4l2Driver::dropFrames(std::uint32_t first, std::uint32_t count) {
  std::lock_guard lock(mutex_);
  drops_.emplace_back(first, count);
}

void FakeV4l2Driver::failFrames(std::uint32_t first, std::uint32_t count) {
  std::lock_guard lock(mutex_);
  failures_.emplace_back(first, count);
}

void FakeV4l2Driver::stall(std::uint32_t frame, std::chrono::microseconds length) {
  std::lock_guard lock(mutex_);
  stalls_[frame] += length.count();
}

void FakeV4l2Driver::disconnectAt(std::uint32_t frame) {
  std::lock_guard lock(mutex_);
  disconnect_at_ = frame;
}

void FakeV4l2Driver::unplug() {
  std::lock_guard lock(mutex_);
  unplugged_ = true;
  queued_.clear();
  done_.clear();
}

void FakeV4l2Driver::failQueue() {
  std::lock_guard lock(mutex_);
  queue_failed_ = true;
}

void FakeV4l2Driver::interruptPolls(int count) {
  std::lock_guard lock(mutex_);
  interrupt_polls_ += count;
}

void FakeV4l2Driver::failDequeues(int count, int error) {
  std::lock_guard lock(mutex_);
  failing_dequeues_ += count;
  failing_dequeue_error_ = error;
}

// --- inspection ---

bool FakeV4l2Driver::streaming() const {
  std::lock_guard lock(mutex_);
  return streaming_;
}
int FakeV4l2Driver::streamOnCount() const {
  std::lock_guard lock(mutex_);
  return stream_on_count_;
}
int FakeV4l2Driver::streamOffCount() const {
  std::lock_guard lock(mutex_);
  return stream_off_count_;
}
int FakeV4l2Driver::openHandles() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(open_handles_.size());
}
std::uint32_t FakeV4l2Driver::buffersAllocated() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::uint32_t>(buffers_.size());
}
std::uint32_t FakeV4l2Driver::buffersQueued() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::uint32_t>(queued_.size());
}
std::uint64_t FakeV4l2Driver::frameSlots() const {
  std::lock_guard lock(mutex_);
  return next_slot_;
}
std::uint64_t FakeV4l2Driver::overruns() const {
  std::lock_guard lock(mutex_);
  return overruns_;
}
v4l2_pix_format FakeV4l2Driver::format() const {
  std::lock_guard lock(mutex_);
  return format_;
}
v4l2_fract FakeV4l2Driver::interval() const {
  std::lock_guard lock(mutex_);
  return interval_;
}
std::vector<std::string> FakeV4l2Driver::calls() const {
  std::lock_guard lock(mutex_);
  return {calls_.begin(), calls_.end()};
}

// --- the driver ---

int FakeV4l2Driver::open(int handle) {
  std::lock_guard lock(mutex_);
  calls_.push_back("open");
  if (unplugged_) return ENOENT;
  open_handles_.push_back(handle);
  return 0;
}

void FakeV4l2Driver::close(int handle) {
  std::lock_guard lock(mutex_);
  calls_.push_back("close");
  std::erase(open_handles_, handle);
  // As vb2: the owner's close stops streaming and frees the buffers (the
  // memory itself lives on while the application still maps it).
  if (handle == buffer_owner_) {
    stopStreaming();
    freeBuffers();
  }
}

int FakeV4l2Driver::call(int /*handle*/, const char* name) {
  calls_.push_back(name);
  processDueSlots(clock_.nowMicros());
  return unplugged_ ? ENODEV : 0;
}

int FakeV4l2Driver::queryCapability(int handle, v4l2_capability& c) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "QUERYCAP")) return err;
  c = {};
  copyName(c.driver, config_.driver);
  copyName(c.card, config_.card);
  copyName(c.bus_info, config_.bus_info);
  c.version = (6u << 16) | (1u << 8);
  c.device_caps = config_.device_caps;
  c.capabilities = config_.device_caps | V4L2_CAP_DEVICE_CAPS;
  return 0;
}

int FakeV4l2Driver::enumFormat(int handle, v4l2_fmtdesc& f) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "ENUM_FMT")) return err;
  if (f.type != V4L2_BUF_TYPE_VIDEO_CAPTURE || f.index >= config_.formats.size()) return EINVAL;
  const FakeFormat& format = config_.formats[f.index];
  f.pixelformat = format.fourcc;
  f.flags = isCompressedFourcc(format.fourcc) ? V4L2_FMT_FLAG_COMPRESSED : 0;
  std::memset(f.description, 0, sizeof f.description);
  std::memcpy(f.description, format.description.data(),
              std::min(format.description.size(), sizeof f.description - 1));
  return 0;
}

int FakeV4l2Driver::enumFrameSizes(int handle, v4l2_frmsizeenum& s) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "ENUM_FRAMESIZES")) return err;
  if (!config_.enum_frame_sizes) return ENOTTY;
  const FakeFormat* format = findFormat(s.pixel_format);
  if (format == nullptr) return EINVAL;
  if (!format->sizes.empty()) {
    if (s.index >= format->sizes.size()) return EINVAL;
    s.type = V4L2_FRMSIZE_TYPE_DISCRETE;
    s.discrete = {format->sizes[s.index].width, format->sizes[s.index].height};
    return 0;
  }
  if (s.index != 0) return EINVAL;
  const v4l2_frmsize_stepwise& range = format->stepwise_sizes;
  s.type = range.step_width == 1 && range.step_height == 1 ? V4L2_FRMSIZE_TYPE_CONTINUOUS
                                                           : V4L2_FRMSIZE_TYPE_STEPWISE;
  s.stepwise = range;
  return 0;
}

int FakeV4l2Driver::enumFrameIntervals(int handle, v4l2_frmivalenum& i) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "ENUM_FRAMEINTERVALS")) return err;
  if (!config_.enum_frame_sizes) return ENOTTY;
  const FakeFormat* format = findFormat(i.pixel_format);
  if (format == nullptr) return EINVAL;
  if (!format->sizes.empty()) {
    const std::vector<v4l2_fract> intervals = intervalsFor(*format, i.width, i.height);
    if (i.index >= intervals.size()) return EINVAL;
    i.type = V4L2_FRMIVAL_TYPE_DISCRETE;
    i.discrete = intervals[i.index];
    return 0;
  }
  const v4l2_frmsize_stepwise& range = format->stepwise_sizes;
  if (i.index != 0 || i.width < range.min_width || i.width > range.max_width ||
      i.height < range.min_height || i.height > range.max_height) {
    return EINVAL;
  }
  i.type = V4L2_FRMIVAL_TYPE_STEPWISE;
  i.stepwise = format->stepwise_intervals;
  return 0;
}

int FakeV4l2Driver::getFormat(int handle, v4l2_format& f) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "G_FMT")) return err;
  if (f.type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
  f.fmt.pix = format_;
  return 0;
}

int FakeV4l2Driver::setFormat(int handle, v4l2_format& f) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "S_FMT")) return err;
  if (f.type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
  if (!buffers_.empty()) return EBUSY;  // vb2_is_busy
  applyFormat(f.fmt.pix);
  format_ = f.fmt.pix;
  // Keep the rate when the new size has it, else take the nearest it has.
  if (!config_.granted_interval) interval_ = nearestInterval(interval_);
  return 0;
}

int FakeV4l2Driver::getParam(int handle, v4l2_streamparm& p) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "G_PARM")) return err;
  if (p.type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
  p.parm.capture = {};
  p.parm.capture.capability = config_.settable_rate ? V4L2_CAP_TIMEPERFRAME : 0;
  p.parm.capture.timeperframe = interval_;
  return 0;
}

int FakeV4l2Driver::setParam(int handle, v4l2_streamparm& p) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "S_PARM")) return err;
  if (!config_.settable_rate) return ENOTTY;
  if (p.type != V4L2_BUF_TYPE_VIDEO_CAPTURE) return EINVAL;
  if (streaming_) return EBUSY;
  interval_ = config_.granted_interval ? *config_.granted_interval
                                       : nearestInterval(p.parm.capture.timeperframe);
  p.parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
  p.parm.capture.timeperframe = interval_;
  return 0;
}

int FakeV4l2Driver::requestBuffers(int handle, v4l2_requestbuffers& r) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "REQBUFS")) return err;
  if (r.type != V4L2_BUF_TYPE_VIDEO_CAPTURE || r.memory != V4L2_MEMORY_MMAP) return EINVAL;
  if (buffer_owner_ != 0 && buffer_owner_ != handle) return EBUSY;
  if (streaming_) return EBUSY;
  freeBuffers();
  r.capabilities = V4L2_BUF_CAP_SUPPORTS_MMAP;
  if (r.count == 0) return 0;
  r.count = std::min(r.count, config_.max_buffers);
  buffer_length_ = roundToPage(std::max<std::uint32_t>(format_.sizeimage, 1));
  const int fd = ::memfd_create("fake-v4l2-buffers", MFD_CLOEXEC);
  if (fd < 0) return errno;
  memory_fd_.reset(fd);
  if (::ftruncate(fd, static_cast<off_t>(r.count) * buffer_length_) != 0) {
    const int err = errno;
    memory_fd_.reset();
    return err;
  }
  buffers_.resize(r.count);
  buffer_owner_ = handle;
  return 0;
}

int FakeV4l2Driver::queryBuffer(int handle, v4l2_buffer& b) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "QUERYBUF")) return err;
  if (b.type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b.memory != V4L2_MEMORY_MMAP ||
      b.index >= buffers_.size()) {
    return EINVAL;
  }
  const Buffer& buffer = buffers_[b.index];
  b.length = buffer_length_;
  b.m.offset = b.index * buffer_length_;
  b.flags = V4L2_BUF_FLAG_MAPPED |
            (buffer.state == BufferState::kQueued ? V4L2_BUF_FLAG_QUEUED : 0u) |
            (buffer.state == BufferState::kDone ? V4L2_BUF_FLAG_DONE : 0u);
  return 0;
}

int FakeV4l2Driver::queueBuffer(int handle, v4l2_buffer& b) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "QBUF")) return err;
  if (handle != buffer_owner_) return EBUSY;
  if (b.type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b.memory != V4L2_MEMORY_MMAP ||
      b.index >= buffers_.size() || buffers_[b.index].state != BufferState::kDequeued) {
    return EINVAL;
  }
  buffers_[b.index].state = BufferState::kQueued;
  queued_.push_back(b.index);
  b.flags |= V4L2_BUF_FLAG_QUEUED;
  return 0;
}

int FakeV4l2Driver::dequeueBuffer(int handle, v4l2_buffer& b) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "DQBUF")) return err;
  if (handle != buffer_owner_) return EBUSY;
  if (b.type != V4L2_BUF_TYPE_VIDEO_CAPTURE || b.memory != V4L2_MEMORY_MMAP || !streaming_) {
    return EINVAL;
  }
  if (queue_failed_) return EIO;
  if (failing_dequeues_ > 0) {
    --failing_dequeues_;
    return failing_dequeue_error_;
  }
  if (done_.empty()) return EAGAIN;
  const std::uint32_t index = done_.front();
  done_.pop_front();
  buffers_[index].state = BufferState::kDequeued;
  b = buffers_[index].done;
  return 0;
}

int FakeV4l2Driver::streamOn(int handle) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "STREAMON")) return err;
  if (handle != buffer_owner_ || buffers_.empty()) return EINVAL;
  if (streaming_) return 0;
  streaming_ = true;
  queue_failed_ = false;
  stream_start_us_ = clock_.nowMicros();
  next_slot_ = 0;
  overruns_ = 0;
  ++stream_on_count_;
  return 0;
}

int FakeV4l2Driver::streamOff(int handle) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "STREAMOFF")) return err;
  if (handle != buffer_owner_) return EINVAL;
  stopStreaming();
  return 0;
}

int FakeV4l2Driver::map(int handle, std::uint32_t length, std::uint32_t offset,
                        MappedBuffer& mapped) {
  std::lock_guard lock(mutex_);
  if (const int err = call(handle, "mmap")) return err;
  if (buffer_length_ == 0 || offset % buffer_length_ != 0 ||
      offset / buffer_length_ >= buffers_.size() || length == 0 || length > buffer_length_) {
    return EINVAL;
  }
  mapped = MappedBuffer::map(memory_fd_.get(), length, static_cast<off_t>(offset));
  return mapped.isValid() ? 0 : errno;
}

int FakeV4l2Driver::poll(int handle, std::chrono::microseconds timeout, short& revents) {
  std::unique_lock lock(mutex_);
  call(handle, "poll");
  if (interrupt_polls_ > 0) {
    --interrupt_polls_;
    return EINTR;
  }
  const std::int64_t deadline = clock_.nowMicros() + std::max<std::int64_t>(0, timeout.count());
  for (;;) {
    const std::int64_t now = clock_.nowMicros();
    processDueSlots(now);
    revents = pollEvents();
    if (revents != 0 || now >= deadline) return 0;
    // Sleep (or jump) to the next slot, which may fill a buffer or be the
    // disconnect, but never past the caller's deadline.
    const std::int64_t wake = std::min(deadline, slotDue(next_slot_));
    lock.unlock();
    clock_.waitUntil(wake);
    lock.lock();
  }
}

// --- under mutex_ ---

const FakeFormat* FakeV4l2Driver::findFormat(std::uint32_t fourcc) const {
  for (const FakeFormat& f : config_.formats) {
    if (f.fourcc == fourcc) return &f;
  }
  return nullptr;
}

std::vector<v4l2_fract> FakeV4l2Driver::intervalsFor(const FakeFormat& format, std::uint32_t width,
                                                     std::uint32_t height) const {
  for (const FakeFrameSize& size : format.sizes) {
    if (size.width == width && size.height == height) return size.intervals;
  }
  if (format.sizes.empty()) {
    return {format.stepwise_intervals.min, format.stepwise_intervals.max};
  }
  return {};
}

bool FakeV4l2Driver::isCompressed() const { return isCompressedFourcc(format_.pixelformat); }

void FakeV4l2Driver::applyFormat(v4l2_pix_format& pix) {
  if (config_.granted_fourcc) {
    pix.pixelformat = *config_.granted_fourcc;
  } else if (findFormat(pix.pixelformat) == nullptr && !config_.formats.empty()) {
    pix.pixelformat = config_.formats.front().fourcc;
  }
  const FakeFormat* format = findFormat(pix.pixelformat);
  if (config_.granted_size) {
    pix.width = config_.granted_size->first;
    pix.height = config_.granted_size->second;
  } else if (format != nullptr && !format->sizes.empty()) {
    const FakeFrameSize* best = &format->sizes.front();
    std::int64_t best_distance = std::numeric_limits<std::int64_t>::max();
    for (const FakeFrameSize& s : format->sizes) {
      const std::int64_t d = std::abs(static_cast<std::int64_t>(s.width) - pix.width) +
                             std::abs(static_cast<std::int64_t>(s.height) - pix.height);
      if (d < best_distance) {
        best = &s;
        best_distance = d;
      }
    }
    pix.width = best->width;
    pix.height = best->height;
  } else if (format != nullptr) {
    const v4l2_frmsize_stepwise& r = format->stepwise_sizes;
    auto fit = [](std::uint32_t v, std::uint32_t lo, std::uint32_t hi, std::uint32_t step) {
      v = std::clamp(v, lo, hi);
      return step > 1 ? lo + (v - lo) / step * step : v;
    };
    pix.width = fit(pix.width, r.min_width, r.max_width, r.step_width);
    pix.height = fit(pix.height, r.min_height, r.max_height, r.step_height);
  }
  const bool compressed = isCompressedFourcc(pix.pixelformat);
  pix.field = V4L2_FIELD_NONE;
  pix.bytesperline = compressed ? 0 : pix.width * 2 + config_.line_padding;
  pix.sizeimage = compressed ? pix.width * pix.height * 2 : pix.bytesperline * pix.height;
  pix.colorspace = compressed ? V4L2_COLORSPACE_JPEG : V4L2_COLORSPACE_SRGB;
}

v4l2_fract FakeV4l2Driver::nearestInterval(v4l2_fract wanted) const {
  const FakeFormat* format = findFormat(format_.pixelformat);
  if (format == nullptr) return interval_;
  if (format->sizes.empty()) {
    // Any interval in the range: clamp the asked one.
    const double lo = 1.0 / fps(format->stepwise_intervals.min);
    const double hi = 1.0 / fps(format->stepwise_intervals.max);
    const double asked = fps(wanted) > 0 ? 1.0 / fps(wanted) : lo;
    if (asked < lo) return format->stepwise_intervals.min;
    if (asked > hi) return format->stepwise_intervals.max;
    return wanted;
  }
  const std::vector<v4l2_fract> intervals = intervalsFor(*format, format_.width, format_.height);
  if (intervals.empty()) return interval_;
  const double want = fps(wanted);
  v4l2_fract best = intervals.front();
  for (const v4l2_fract& i : intervals) {
    if (std::abs(fps(i) - want) < std::abs(fps(best) - want)) best = i;
  }
  return best;
}

void FakeV4l2Driver::freeBuffers() {
  buffers_.clear();
  queued_.clear();
  done_.clear();
  memory_fd_.reset();
  buffer_length_ = 0;
  buffer_owner_ = 0;
}

void FakeV4l2Driver::stopStreaming() {
  if (streaming_) ++stream_off_count_;
  streaming_ = false;
  for (Buffer& b : buffers_) b.state = BufferState::kDequeued;
  queued_.clear();
  done_.clear();
}

std::int64_t FakeV4l2Driver::slotDue(std::uint64_t slot) const {
  const double period_us =
      1e6 * interval_.numerator / std::max<std::uint32_t>(1, interval_.denominator);
  std::int64_t stalled = 0;
  for (const auto& [frame, length] : stalls_) {
    if (frame <= slot) stalled += length;
  }
  return stream_start_us_ + std::llround(static_cast<double>(slot + 1) * period_us) + stalled;
}

void FakeV4l2Driver::processDueSlots(std::int64_t now) {
  while (streaming_ && !unplugged_) {
    const std::uint64_t slot = next_slot_;
    const std::int64_t due = slotDue(slot);
    if (due > now) return;
    if (disconnect_at_ && slot >= *disconnect_at_) {
      unplugged_ = true;  // what was filled but not dequeued is lost with the device
      queued_.clear();
      done_.clear();
      return;
    }
    ++next_slot_;
    if (inRanges(drops_, slot)) continue;
    if (queued_.empty()) {
      ++overruns_;
      continue;
    }
    const std::uint32_t index = queued_.front();
    queued_.pop_front();
    fillSlot(index, slot, due);
    done_.push_back(index);
  }
}

void FakeV4l2Driver::fillSlot(std::uint32_t index, std::uint64_t slot, std::int64_t due) {
  Buffer& buffer = buffers_[index];
  const std::uint64_t key =
      payloads_.empty() ? (std::uint64_t{1} << 63) | slot : slot % payloads_.size();
  std::size_t size;
  if (payloads_.empty()) {
    size = isCompressed() ? kCompressedDefaultPayload : format_.sizeimage;
  } else {
    size = payloads_[key].size();
  }
  const bool overflow = size > buffer_length_;
  size = std::min<std::size_t>(size, buffer_length_);
  if (buffer.payload_key != key) {
    const off_t offset = static_cast<off_t>(index) * buffer_length_;
    if (payloads_.empty()) {
      std::string bytes(size, static_cast<char>(slot & 0xff));
      for (std::size_t i = 0; i < 4 && i < size; ++i) {
        bytes[i] = static_cast<char>((slot >> (8 * i)) & 0xff);
      }
      (void)::pwrite(memory_fd_.get(), bytes.data(), size, offset);
    } else {
      (void)::pwrite(memory_fd_.get(), payloads_[key].data(), size, offset);
    }
    buffer.payload_key = key;
  }
  v4l2_buffer& b = buffer.done;
  b = {};
  b.index = index;
  b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  b.memory = V4L2_MEMORY_MMAP;
  b.length = buffer_length_;
  b.m.offset = index * buffer_length_;
  b.bytesused = static_cast<std::uint32_t>(size);
  b.field = V4L2_FIELD_NONE;
  b.flags = config_.timestamp_flags | V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_DONE;
  if (overflow || inRanges(failures_, slot)) b.flags |= V4L2_BUF_FLAG_ERROR;
  b.sequence = static_cast<std::uint32_t>(config_.first_sequence + slot);
  b.timestamp.tv_sec = static_cast<time_t>(due / 1'000'000);
  b.timestamp.tv_usec = static_cast<suseconds_t>(due % 1'000'000);
  buffer.state = BufferState::kDone;
}

short FakeV4l2Driver::pollEvents() const {
  if (unplugged_) return POLLERR | POLLHUP | POLLPRI;
  if (!streaming_ || queue_failed_) return POLLERR;  // as vb2: nothing to wait for
  if (failing_dequeues_ > 0 || !done_.empty()) return POLLIN | POLLRDNORM;
  return 0;
}

}  // namespace booth
