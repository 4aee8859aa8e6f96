// V4l2Camera against a fake V4L2 driver, so the whole start/next/stop path
// runs without a camera. The "device" is a memfd opened through
// /proc/self/fd/N: mmap and poll work on it natively (a regular file always
// polls readable), and this executable defines ioctl() so that calls on that
// file are answered by FakeDriver below; every other ioctl goes to libc.
// The definition interposes process-wide, which is why this is its own test
// executable.
#include <dlfcn.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "capture_node/v4l2/v4l2_camera.h"

namespace booth {
namespace {

using std::chrono::milliseconds;

struct FakeFrame {
  std::string bytes;
  std::uint32_t sequence = 0;
  timeval timestamp{};
  std::uint32_t flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC;
};

// A single-planar capture driver with a scripted sequence of frames.
struct FakeDriver {
  // What the "hardware" offers; tests change these before start().
  std::uint32_t caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING;
  std::vector<std::uint32_t> formats = {V4L2_PIX_FMT_MJPEG, V4L2_PIX_FMT_YUYV};
  std::uint32_t max_width = 640;
  std::uint32_t max_height = 480;
  std::uint32_t max_fps = 30;
  std::uint32_t max_buffers = 4;
  std::deque<FakeFrame> frames;  // delivered in order, one per DQBUF
  int dqbuf_errno = 0;           // nonzero: DQBUF fails with it (e.g. ENODEV)

  // State, as set through ioctls.
  int memfd = -1;
  ino_t inode = 0;
  std::uint32_t width = 0, height = 0, pixelformat = 0;
  v4l2_fract timeperframe{1, 30};
  std::uint32_t buffer_count = 0;
  std::deque<std::uint32_t> queued;
  bool streaming = false;
  int streamon_calls = 0;
  int streamoff_calls = 0;

  static constexpr std::uint32_t kBufferSize = 1 << 20;

  bool owns(int fd) const {
    struct stat st {};
    return memfd >= 0 && ::fstat(fd, &st) == 0 && st.st_ino == inode;
  }

  int handle(unsigned long request, void* arg) {
    switch (request) {
      case VIDIOC_QUERYCAP: {
        auto* cap = static_cast<v4l2_capability*>(arg);
        *cap = {};
        std::strcpy(reinterpret_cast<char*>(cap->driver), "fake");
        std::strcpy(reinterpret_cast<char*>(cap->card), "Fake Camera");
        cap->capabilities = caps | V4L2_CAP_DEVICE_CAPS;
        cap->device_caps = caps;
        return 0;
      }
      case VIDIOC_ENUM_FMT: {
        auto* desc = static_cast<v4l2_fmtdesc*>(arg);
        if (desc->index >= formats.size()) return fail(EINVAL);
        desc->pixelformat = formats[desc->index];
        return 0;
      }
      case VIDIOC_S_FMT: {
        auto& pix = static_cast<v4l2_format*>(arg)->fmt.pix;
        if (std::find(formats.begin(), formats.end(), pix.pixelformat) == formats.end()) {
          pix.pixelformat = formats.front();
        }
        pix.width = std::min(pix.width, max_width);
        pix.height = std::min(pix.height, max_height);
        pix.bytesperline = pix.pixelformat == V4L2_PIX_FMT_YUYV ? pix.width * 2 : 0;
        pix.sizeimage = pix.width * pix.height * 2;
        width = pix.width;
        height = pix.height;
        pixelformat = pix.pixelformat;
        return 0;
      }
      case VIDIOC_G_PARM: {
        auto* parm = static_cast<v4l2_streamparm*>(arg);
        parm->parm.capture.capability = V4L2_CAP_TIMEPERFRAME;
        parm->parm.capture.timeperframe = timeperframe;
        return 0;
      }
      case VIDIOC_S_PARM: {
        auto& tpf = static_cast<v4l2_streamparm*>(arg)->parm.capture.timeperframe;
        const double fps = static_cast<double>(tpf.denominator) / tpf.numerator;
        timeperframe = {1, std::min(max_fps, static_cast<std::uint32_t>(std::lround(fps)))};
        tpf = timeperframe;
        return 0;
      }
      case VIDIOC_REQBUFS: {
        auto* req = static_cast<v4l2_requestbuffers*>(arg);
        if (req->memory != V4L2_MEMORY_MMAP) return fail(EINVAL);
        buffer_count = req->count = std::min(req->count, max_buffers);
        queued.clear();
        return ::ftruncate(memfd, static_cast<off_t>(buffer_count) * kBufferSize);
      }
      case VIDIOC_QUERYBUF: {
        auto* buf = static_cast<v4l2_buffer*>(arg);
        if (buf->index >= buffer_count) return fail(EINVAL);
        buf->length = kBufferSize;
        buf->m.offset = buf->index * kBufferSize;
        return 0;
      }
      case VIDIOC_QBUF: {
        auto* buf = static_cast<v4l2_buffer*>(arg);
        if (buf->index >= buffer_count) return fail(EINVAL);
        queued.push_back(buf->index);
        return 0;
      }
      case VIDIOC_DQBUF: {
        if (dqbuf_errno != 0) return fail(dqbuf_errno);
        if (!streaming || queued.empty() || frames.empty()) return fail(EAGAIN);
        auto* buf = static_cast<v4l2_buffer*>(arg);
        const std::uint32_t index = queued.front();
        queued.pop_front();
        const FakeFrame frame = frames.front();
        frames.pop_front();
        ::pwrite(memfd, frame.bytes.data(), frame.bytes.size(),
                 static_cast<off_t>(index) * kBufferSize);
        buf->index = index;
        buf->bytesused = static_cast<std::uint32_t>(frame.bytes.size());
        buf->sequence = frame.sequence;
        buf->timestamp = frame.timestamp;
        buf->flags = frame.flags;
        return 0;
      }
      case VIDIOC_STREAMON:
        streaming = true;
        ++streamon_calls;
        return 0;
      case VIDIOC_STREAMOFF:
        streaming = false;
        ++streamoff_calls;
        return 0;
      default:
        return fail(ENOTTY);
    }
  }

  static int fail(int err) {
    errno = err;
    return -1;
  }
};

FakeDriver* g_driver = nullptr;

}  // namespace
}  // namespace booth

extern "C" int ioctl(int fd, unsigned long request, ...) noexcept {
  va_list args;
  va_start(args, request);
  void* arg = va_arg(args, void*);
  va_end(args);
  if (booth::g_driver != nullptr && booth::g_driver->owns(fd)) {
    return booth::g_driver->handle(request, arg);
  }
  using Real = int (*)(int, unsigned long, ...);
  static const auto real = reinterpret_cast<Real>(::dlsym(RTLD_NEXT, "ioctl"));
  return real(fd, request, arg);
}

namespace booth {
namespace {

class FakeCamera : public ::testing::Test {
 protected:
  void SetUp() override {
    driver_.memfd = ::memfd_create("fake_video", MFD_CLOEXEC);
    ASSERT_GE(driver_.memfd, 0) << std::strerror(errno);
    struct stat st {};
    ASSERT_EQ(::fstat(driver_.memfd, &st), 0);
    driver_.inode = st.st_ino;
    g_driver = &driver_;
    config_.camera_id = "cam0";
    config_.device = "/proc/self/fd/" + std::to_string(driver_.memfd);
  }
  void TearDown() override {
    g_driver = nullptr;
    ::close(driver_.memfd);
  }

  static std::string jpeg(int width, int height, int level) {
    std::vector<unsigned char> bytes;
    cv::imencode(".jpg", cv::Mat(height, width, CV_8UC3, cv::Scalar::all(level)), bytes);
    return {bytes.begin(), bytes.end()};
  }

  static FakeFrame frame(std::string bytes, std::uint32_t sequence) {
    FakeFrame f;
    f.bytes = std::move(bytes);
    f.sequence = sequence;
    f.timestamp = {100, static_cast<suseconds_t>(sequence)};
    return f;
  }

  static cv::Mat decode(const CapturedFrame& f) {
    return cv::imdecode(
        cv::Mat(1, static_cast<int>(f.data.size()), CV_8UC1, const_cast<char*>(f.data.data())),
        cv::IMREAD_COLOR);
  }

  CapturedFrame mustRead(V4l2Camera& camera) {
    auto f = camera.next(milliseconds(100));
    EXPECT_TRUE(f.ok()) << f.error();
    if (!f.ok() || !f.value()) {
      ADD_FAILURE() << "no frame";
      return {};
    }
    return std::move(*f.value());
  }

  FakeDriver driver_;
  V4l2Config config_;
};

TEST_F(FakeCamera, MjpegFramesArePassedOnByteForByte) {
  const std::string bytes = jpeg(640, 480, 90);
  driver_.frames.push_back(frame(bytes, 0));
  V4l2Camera camera(config_);
  const Status started = camera.start();
  ASSERT_TRUE(started.ok()) << started.error();
  EXPECT_EQ(camera.pixelFormat(), V4L2_PIX_FMT_MJPEG);
  const CapturedFrame f = mustRead(camera);
  EXPECT_EQ(f.data, bytes);
  EXPECT_EQ(f.encoding, FrameEncoding::kJpeg);
  EXPECT_EQ(f.camera_id, "cam0");
}

TEST_F(FakeCamera, DescriptionHasTheNegotiatedSizeAndRate) {
  driver_.max_width = 320;
  driver_.max_height = 240;
  driver_.max_fps = 25;
  config_.fps = 60;
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  EXPECT_EQ(camera.description().width, 320);
  EXPECT_EQ(camera.description().height, 240);
  EXPECT_DOUBLE_EQ(camera.description().fps, 25.0);
}

TEST_F(FakeCamera, YuyvOnlyCameraFramesAreEncodedToJpeg) {
  driver_.formats = {V4L2_PIX_FMT_YUYV};
  // Mid grey: Y = 128, U = V = 128 for every pixel pair.
  const std::string yuyv(std::size_t{640} * 480 * 2, static_cast<char>(128));
  driver_.frames.push_back(frame(yuyv, 0));
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  EXPECT_EQ(camera.pixelFormat(), V4L2_PIX_FMT_YUYV);
  const cv::Mat image = decode(mustRead(camera));
  ASSERT_EQ(image.cols, 640);
  ASSERT_EQ(image.rows, 480);
  EXPECT_NEAR(cv::mean(image)[0], 128, 4);
}

TEST_F(FakeCamera, ShortYuyvFrameIsAnErrorWithTheSizes) {
  driver_.formats = {V4L2_PIX_FMT_YUYV};
  driver_.frames.push_back(frame(std::string(1000, '\x80'), 0));
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  auto f = camera.next(milliseconds(100));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find("1000 bytes, expected 614400"), std::string::npos) << f.error();
}

TEST_F(FakeCamera, CameraWithoutMjpegOrYuyvListsWhatItOffers) {
  driver_.formats = {V4L2_PIX_FMT_GREY};
  V4l2Camera camera(config_);
  const Status status = camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("offers neither MJPEG nor YUYV (it offers: GREY)"),
            std::string::npos)
      << status.error();
}

TEST_F(FakeCamera, MetadataNodeIsRejectedWithTheReason) {
  driver_.caps = V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING;
  V4l2Camera camera(config_);
  const Status status = camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("metadata node"), std::string::npos) << status.error();
  EXPECT_NE(status.error().find("Fake Camera"), std::string::npos) << status.error();
}

TEST_F(FakeCamera, DeviceWithoutStreamingIsRejected) {
  driver_.caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_READWRITE;
  V4l2Camera camera(config_);
  const Status status = camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("does not support streaming"), std::string::npos) << status.error();
}

TEST_F(FakeCamera, SequenceGapsAreCountedAsDropped) {
  const std::string bytes = jpeg(64, 48, 10);
  for (std::uint32_t seq : {40u, 41u, 44u, 45u}) driver_.frames.push_back(frame(bytes, seq));
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  std::vector<std::uint64_t> sequences;
  sequences.reserve(4);
  for (int i = 0; i < 4; ++i) sequences.push_back(mustRead(camera).sequence);
  EXPECT_EQ(sequences, (std::vector<std::uint64_t>{0, 1, 4, 5}));
  EXPECT_EQ(camera.dropped(), 2u);
}

TEST_F(FakeCamera, MonotonicDriverTimestampIsConvertedToMicroseconds) {
  FakeFrame f = frame(jpeg(64, 48, 10), 0);
  f.timestamp = {12, 345678};
  driver_.frames.push_back(f);
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  EXPECT_EQ(mustRead(camera).capture_time_us, 12'345'678);
}

TEST_F(FakeCamera, NonMonotonicTimestampIsReplacedByTheDequeueTime) {
  FakeFrame f = frame(jpeg(64, 48, 10), 0);
  f.timestamp = {12, 345678};
  f.flags = V4L2_BUF_FLAG_TIMESTAMP_UNKNOWN;
  driver_.frames.push_back(f);
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  const std::int64_t before = steadyMicros();
  const std::int64_t t = mustRead(camera).capture_time_us;
  EXPECT_GE(t, before);
  EXPECT_LE(t, steadyMicros());
}

TEST_F(FakeCamera, CorruptFrameIsSkippedAndItsBufferReturned) {
  FakeFrame bad = frame(jpeg(64, 48, 10), 0);
  bad.flags |= V4L2_BUF_FLAG_ERROR;
  driver_.frames.push_back(bad);
  driver_.frames.push_back(frame(jpeg(64, 48, 10), 1));
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  auto skipped = camera.next(milliseconds(100));
  ASSERT_TRUE(skipped.ok()) << skipped.error();
  EXPECT_FALSE(skipped.value().has_value());
  EXPECT_EQ(driver_.queued.size(), V4l2Camera::kBufferCount);  // requeued
  EXPECT_EQ(mustRead(camera).sequence, 0u);                    // first frame handed out
}

TEST_F(FakeCamera, NoFrameReadyIsNotAnError) {
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  auto f = camera.next(milliseconds(10));
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_FALSE(f.value().has_value());
}

TEST_F(FakeCamera, UnpluggedCameraIsAnErrorNamingTheDevice) {
  driver_.dqbuf_errno = ENODEV;
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  auto f = camera.next(milliseconds(10));
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find(config_.device), std::string::npos) << f.error();
  EXPECT_NE(f.error().find("unplugged"), std::string::npos) << f.error();
}

TEST_F(FakeCamera, StopStreamsOffAndAllowsAnotherStart) {
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  camera.stop();
  camera.stop();  // idempotent
  EXPECT_EQ(driver_.streamoff_calls, 1);
  EXPECT_FALSE(driver_.streaming);
  EXPECT_EQ(driver_.buffer_count, 0u);  // buffers released
  const Status again = camera.start();
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(driver_.streamon_calls, 2);
}

TEST_F(FakeCamera, StartTwiceIsAnError) {
  V4l2Camera camera(config_);
  ASSERT_TRUE(camera.start().ok());
  const Status again = camera.start();
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("already started"), std::string::npos) << again.error();
}

}  // namespace
}  // namespace booth
