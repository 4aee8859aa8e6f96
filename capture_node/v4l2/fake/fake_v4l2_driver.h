#pragma once
// FakeV4l2Driver: a single-planar V4L2 capture driver in user space, for
// tests and benchmarks. It plays the hardware and the kernel driver; the
// V4l2Device handles it hands out (device()) are what V4l2Camera and the
// camera list talk to, exactly as they talk to /dev/videoN.
//
// Model (vb2 and uvcvideo semantics where they matter):
// - Formats, discrete or stepwise frame sizes and frame intervals are
//   configured (FakeV4l2Config) and enumerated like a real driver's.
//   S_FMT never fails on an unknown format or size: it substitutes the
//   nearest it has (or what `granted_*` forces), as drivers do; S_PARM picks
//   the nearest interval.
// - After STREAMON a frame slot comes due every granted interval on the
//   FakeClock (the first one interval after STREAMON). At each slot the
//   driver fills the oldest queued buffer; with no queued buffer the frame is
//   lost (an overrun). The driver's sequence counter counts every slot, so
//   losses show up as sequence gaps, as with uvcvideo.
// - Time moves lazily: slots are processed when a handle calls in, so the
//   driver needs no thread. poll() waits on the clock for the next slot (a
//   jump on a SimulatedClock, a sleep on a RealTimeClock).
// - Payloads are written into the mmap buffers (a memfd) before the buffer
//   is handed over. A buffer that already holds the same payload is not
//   rewritten: on hardware the DMA is free for the CPU, so the benchmark must
//   not charge the copy to the camera thread.
//
// Scripting (any time, from any thread; frame numbers count slots from
// STREAMON, 0-based): dropFrames, failFrames, stall, disconnectAt, unplug,
// interruptPolls, failDequeues. Inspection: frameSlots, overruns, calls, ...
//
// Threading: every member is thread-safe (one mutex); clock waits happen
// outside it. Lifetime: the driver must outlive every handle from device().
#include <linux/videodev2.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capture_node/v4l2/fake/fake_clock.h"
#include "capture_node/v4l2/v4l2_device.h"
#include "common/os/mapped_buffer.h"
#include "common/os/unique_fd.h"

namespace booth {

// A discrete frame size with the discrete intervals it supports (shortest
// interval, i.e. highest rate, first by convention).
struct FakeFrameSize {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<v4l2_fract> intervals;
};

struct FakeFormat {
  std::uint32_t fourcc = 0;
  std::string description;
  // Discrete sizes; or, when empty, the stepwise range below, where every
  // size supports every interval of `stepwise_intervals`.
  std::vector<FakeFrameSize> sizes;
  v4l2_frmsize_stepwise stepwise_sizes{};
  v4l2_frmival_stepwise stepwise_intervals{};
};

struct FakeV4l2Config {
  std::string path = "/dev/video-fake0";
  std::string driver = "fake";
  std::string card = "Fake Camera";
  std::string bus_info = "fake:usb-1";
  std::uint32_t device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
  // A UVC-like camera: MJPEG up to 120 fps at 640x480, YUYV slower.
  std::vector<FakeFormat> formats = defaultFormats();
  std::uint32_t max_buffers = 8;
  std::uint32_t line_padding = 0;  // extra bytes per row of raw formats (bytesperline > width * 2)
  bool enum_frame_sizes = true;    // false: ENUM_FRAMESIZES answers ENOTTY (old drivers)
  bool settable_rate = true;       // false: no V4L2_CAP_TIMEPERFRAME, S_PARM answers ENOTTY
  std::uint32_t timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC | V4L2_BUF_FLAG_TSTAMP_SRC_SOE;
  std::uint32_t first_sequence = 0;  // the driver's sequence number of slot 0
  // The driver substitutes these whatever was asked (a driver that grants
  // something else than it enumerates).
  std::optional<std::uint32_t> granted_fourcc;
  std::optional<std::pair<std::uint32_t, std::uint32_t>> granted_size;
  std::optional<v4l2_fract> granted_interval;

  static std::vector<FakeFormat> defaultFormats();
};

class FakeV4l2Driver {
 public:
  FakeV4l2Driver(FakeV4l2Config config, FakeClock& clock);
  ~FakeV4l2Driver();
  FakeV4l2Driver(const FakeV4l2Driver&) = delete;
  FakeV4l2Driver& operator=(const FakeV4l2Driver&) = delete;

  // A new handle on the device node (not yet open), like a fresh fd.
  std::unique_ptr<V4l2Device> device();
  const std::string& path() const { return config_.path; }

  // --- script ---
  // Frame payloads, used in turn (slot k gets payloads[k % n]). Without
  // payloads a slot is filled with its own number: 4 little-endian bytes of
  // k, then the low byte of k repeated up to the format's frame size
  // (4096 bytes for compressed formats). A payload longer than the buffer
  // is cut and the buffer flagged V4L2_BUF_FLAG_ERROR, as drivers do.
  void setPayloads(std::vector<std::string> payloads);
  // Slots lost before reaching a buffer (USB errors, bandwidth).
  void dropFrames(std::uint32_t first, std::uint32_t count = 1);
  // Slots delivered with V4L2_BUF_FLAG_ERROR (corrupt data).
  void failFrames(std::uint32_t first, std::uint32_t count = 1);
  // Slot `frame` and every later one come `length` later than their rate
  // says (the camera stops delivering for a while).
  void stall(std::uint32_t frame, std::chrono::microseconds length);
  // The device disappears when slot `frame` would be due: poll() reports
  // POLLERR | POLLHUP, every call fails with ENODEV, buffers not yet
  // dequeued are lost. unplug(): the same, now; open() then fails with ENOENT.
  void disconnectAt(std::uint32_t frame);
  void unplug();
  // The queue fails but the node stays (vb2_queue_error(), what uvcvideo
  // does first on unplug): poll() reports POLLERR only, DQBUF fails with EIO.
  void failQueue();
  // The next `count` poll() calls fail with EINTR (a signal).
  void interruptPolls(int count);
  // The next `count` DQBUF calls fail with `error` although poll() reported
  // a buffer ready (EAGAIN: another reader took it, or a spurious wakeup).
  void failDequeues(int count, int error = EAGAIN);

  // --- inspection ---
  bool streaming() const;
  int streamOnCount() const;
  int streamOffCount() const;
  int openHandles() const;
  std::uint32_t buffersAllocated() const;
  std::uint32_t buffersQueued() const;  // queued by the application, waiting for a frame
  std::uint64_t frameSlots() const;     // slots due since the last STREAMON
  std::uint64_t overruns() const;       // slots lost for want of a queued buffer
  v4l2_pix_format format() const;       // the current (granted) format
  v4l2_fract interval() const;          // the current (granted) frame interval
  // Every call made through the handles, in order: "open", "QUERYCAP",
  // "ENUM_FMT", ..., "mmap", "poll", "close".
  std::vector<std::string> calls() const;

 private:
  class Handle;
  friend class Handle;

  enum class BufferState { kDequeued, kQueued, kDone };
  struct Buffer {
    BufferState state = BufferState::kDequeued;
    v4l2_buffer done{};                        // what DQBUF returns once kDone
    std::optional<std::uint64_t> payload_key;  // which payload the memory holds
  };

  // Handle calls (the mutex is taken inside).
  int open(int handle);
  void close(int handle);
  int call(int handle, const char* name);  // logs; ENODEV once disconnected
  int queryCapability(int handle, v4l2_capability& capability);
  int enumFormat(int handle, v4l2_fmtdesc& format);
  int enumFrameSizes(int handle, v4l2_frmsizeenum& size);
  int enumFrameIntervals(int handle, v4l2_frmivalenum& interval);
  int getFormat(int handle, v4l2_format& format);
  int setFormat(int handle, v4l2_format& format);
  int getParam(int handle, v4l2_streamparm& param);
  int setParam(int handle, v4l2_streamparm& param);
  int requestBuffers(int handle, v4l2_requestbuffers& request);
  int queryBuffer(int handle, v4l2_buffer& buffer);
  int queueBuffer(int handle, v4l2_buffer& buffer);
  int dequeueBuffer(int handle, v4l2_buffer& buffer);
  int streamOn(int handle);
  int streamOff(int handle);
  int map(int handle, std::uint32_t length, std::uint32_t offset, MappedBuffer& mapped);
  int poll(int handle, std::chrono::microseconds timeout, short& revents);

  // Under mutex_.
  const FakeFormat* findFormat(std::uint32_t fourcc) const;
  std::vector<v4l2_fract> intervalsFor(const FakeFormat& format, std::uint32_t width,
                                       std::uint32_t height) const;
  void applyFormat(v4l2_pix_format& pix);
  v4l2_fract nearestInterval(v4l2_fract wanted) const;
  void freeBuffers();
  void stopStreaming();
  void processDueSlots(std::int64_t now);
  void fillSlot(std::uint32_t index, std::uint64_t slot, std::int64_t due);
  std::int64_t slotDue(std::uint64_t slot) const;
  short pollEvents() const;
  bool isCompressed() const;

  FakeV4l2Config config_;
  FakeClock& clock_;

  mutable std::mutex mutex_;  // guards everything below
  // Script.
  std::vector<std::string> payloads_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> drops_;     // first, count
  std::vector<std::pair<std::uint32_t, std::uint32_t>> failures_;  // first, count
  std::map<std::uint32_t, std::int64_t> stalls_;                   // slot -> extra micros
  std::optional<std::uint32_t> disconnect_at_;
  bool unplugged_ = false;
  bool queue_failed_ = false;
  int interrupt_polls_ = 0;
  int failing_dequeues_ = 0;
  int failing_dequeue_error_ = EAGAIN;
  // Device state.
  int next_handle_ = 1;
  std::vector<int> open_handles_;
  int buffer_owner_ = 0;  // handle that allocated the buffers (0: none)
  v4l2_pix_format format_{};
  v4l2_fract interval_{};
  std::vector<Buffer> buffers_;
  std::uint32_t buffer_length_ = 0;
  UniqueFd memory_fd_;  // backs the buffers (the driver's DMA memory); written with pwrite
  std::deque<std::uint32_t> queued_;  // buffer indexes in QBUF order
  std::deque<std::uint32_t> done_;    // filled, in completion order
  bool streaming_ = false;
  std::int64_t stream_start_us_ = 0;
  std::uint64_t next_slot_ = 0;
  std::int64_t stalled_us_ = 0;  // sum of the stalls before next_slot_
  std::uint64_t overruns_ = 0;
  int stream_on_count_ = 0;
  int stream_off_count_ = 0;
  std::vector<const char*> calls_;  // static names, cheap to record at 120 fps
};

}  // namespace booth
