// FakeV4l2Driver: the model the camera tests and the capture benchmark rely
// on (rate, overruns, substitution, disconnect), checked at the ioctl level.
#include "capture_node/v4l2/fake/fake_v4l2_driver.h"

#include <poll.h>

#include <gtest/gtest.h>

#include "capture_node/v4l2/fake/simulated_clock.h"

namespace booth {
namespace {

// A handle configured for streaming: `buffers` mmap buffers, all queued.
struct Streaming {
  Streaming(FakeV4l2Driver& driver, std::uint32_t fps, std::uint32_t buffers)
      : device(driver.device()) {
    EXPECT_EQ(device->open(), 0);
    v4l2_streamparm parm{};
    parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    parm.parm.capture.timeperframe = {1, fps};
    EXPECT_EQ(device->setParam(parm), 0);
    v4l2_requestbuffers req{};
    req.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    req.memory = V4L2_MEMORY_MMAP;
    req.count = buffers;
    EXPECT_EQ(device->requestBuffers(req), 0);
    for (std::uint32_t i = 0; i < req.count; ++i) {
      v4l2_buffer buf = emptyBuffer();
      buf.index = i;
      EXPECT_EQ(device->queueBuffer(buf), 0);
    }
    EXPECT_EQ(device->streamOn(), 0);
  }

  static v4l2_buffer emptyBuffer() {
    v4l2_buffer buf{};
    buf.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buf.memory = V4L2_MEMORY_MMAP;
    return buf;
  }

  std::unique_ptr<V4l2Device> device;
};

TEST(FakeV4l2Driver, FirstFrameIsDueOneIntervalAfterStreamOn) {
  SimulatedClock clock;
  FakeV4l2Driver driver({}, clock);
  Streaming s(driver, 60, 2);
  const std::int64_t streamon = clock.nowMicros();
  short revents = 0;
  ASSERT_EQ(s.device->poll(std::chrono::seconds(1), revents), 0);
  EXPECT_TRUE(revents & POLLIN);
  EXPECT_EQ(clock.nowMicros() - streamon, 16667);
}

TEST(FakeV4l2Driver, FramesCarryConsecutiveSequenceAndTheirDueTime) {
  SimulatedClock clock;
  FakeV4l2Driver driver({}, clock);
  Streaming s(driver, 30, 2);
  const std::int64_t streamon = clock.nowMicros();
  clock.advance(std::chrono::microseconds(70'000));  // two slots due
  v4l2_buffer a = Streaming::emptyBuffer(), b = Streaming::emptyBuffer();
  ASSERT_EQ(s.device->dequeueBuffer(a), 0);
  ASSERT_EQ(s.device->dequeueBuffer(b), 0);
  EXPECT_EQ(a.sequence, 0u);
  EXPECT_EQ(b.sequence, 1u);
  EXPECT_EQ(b.timestamp.tv_sec * 1'000'000 + b.timestamp.tv_usec, streamon + 66667);
}

TEST(FakeV4l2Driver, FrameWithoutAQueuedBufferIsAnOverrun) {
  SimulatedClock clock;
  FakeV4l2Driver driver({}, clock);
  Streaming s(driver, 30, 2);
  clock.advance(std::chrono::microseconds(5 * 33'334));  // 5 slots, 2 buffers
  EXPECT_EQ(driver.frameSlots(), 0u);                    // nothing happens until someone calls in
  v4l2_buffer buf = Streaming::emptyBuffer();
  ASSERT_EQ(s.device->dequeueBuffer(buf), 0);
  EXPECT_EQ(driver.frameSlots(), 5u);
  EXPECT_EQ(driver.overruns(), 3u);
}

TEST(FakeV4l2Driver, PollWaitsNoLongerThanItsTimeout) {
  SimulatedClock clock;
  FakeV4l2Driver driver({}, clock);
  Streaming s(driver, 30, 2);
  const std::int64_t before = clock.nowMicros();
  short revents = 1;
  ASSERT_EQ(s.device->poll(std::chrono::microseconds(10'000), revents), 0);
  EXPECT_EQ(revents, 0);
  EXPECT_EQ(clock.nowMicros() - before, 10'000);
}

TEST(FakeV4l2Driver, SetFormatSubstitutesTheNearestSizeItHas) {
  SimulatedClock clock;
  FakeV4l2Driver driver({}, clock);
  auto device = driver.device();
  ASSERT_EQ(device->open(), 0);
  v4l2_format fmt{};
  fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_MJPEG;
  fmt.fmt.pix.width = 700;
  fmt.fmt.pix.height = 500;
  ASSERT_EQ(device->setFormat(fmt), 0);
  EXPECT_EQ(fmt.fmt.pix.width, 640u);
  EXPECT_EQ(fmt.fmt.pix.height, 480u);
}

TEST(FakeV4l2Driver, SetFormatSubstitutesAFormatItLacks) {
  SimulatedClock clock;
  FakeV4l2Driver driver({}, clock);
  auto device = driver.device();
  ASSERT_EQ(device->open(), 0);
  v4l2_format fmt{};
  fmt.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  fmt.fmt.pix.pixelformat = V4L2_PIX_FMT_NV12;
  fmt.fmt.pix.width = 640;
  fmt.fmt.pix.height = 480;
  ASSERT_EQ(device->setFormat(fmt), 0);
  EXPECT_EQ(fmt.fmt.pix.pixelformat, static_cast<std::uint32_t>(V4L2_PIX_FMT_MJPEG));
}

TEST(FakeV4l2Driver, SetParamPicksTheNearestIntervalOfTheSize) {
  SimulatedClock clock;
  FakeV4l2Driver driver({}, clock);
  auto device = driver.device();
  ASSERT_EQ(device->open(), 0);
  v4l2_streamparm parm{};
  parm.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
  parm.parm.capture.timeperframe = {1, 100};  // 640x480 MJPEG has 120, 60, 30
  ASSERT_EQ(device->setParam(parm), 0);
  EXPECT_EQ(parm.parm.capture.timeperframe.denominator, 120u);
}

TEST(FakeV4l2Driver, UnpluggedDeviceHangsUpAndAnswersEnodev) {
  SimulatedClock clock;
  FakeV4l2Driver driver({}, clock);
  Streaming s(driver, 30, 2);
  driver.unplug();
  short revents = 0;
  ASSERT_EQ(s.device->poll(std::chrono::seconds(1), revents), 0);
  EXPECT_TRUE(revents & POLLHUP);
  v4l2_buffer buf = Streaming::emptyBuffer();
  EXPECT_EQ(s.device->dequeueBuffer(buf), ENODEV);
}

TEST(FakeV4l2Driver, OwnersCloseStopsStreamingAndFreesBuffers) {
  SimulatedClock clock;
  FakeV4l2Driver driver({}, clock);
  {
    Streaming s(driver, 30, 2);
    ASSERT_TRUE(driver.streaming());
  }
  EXPECT_FALSE(driver.streaming());
  EXPECT_EQ(driver.buffersAllocated(), 0u);
}

TEST(FakeV4l2Driver, PayloadLargerThanTheBufferIsCutAndFlagged) {
  SimulatedClock clock;
  FakeV4l2Config config;
  FakeFormat mjpeg;
  mjpeg.fourcc = V4L2_PIX_FMT_MJPEG;
  mjpeg.description = "Motion-JPEG";
  mjpeg.sizes = {{16, 16, {{1, 30}}}};  // 512-byte frames, one page of buffer
  config.formats = {mjpeg};
  FakeV4l2Driver driver(config, clock);
  driver.setPayloads({std::string(100'000, 'x')});
  Streaming s(driver, 30, 2);
  clock.advance(std::chrono::microseconds(40'000));
  v4l2_buffer buf = Streaming::emptyBuffer();
  ASSERT_EQ(s.device->dequeueBuffer(buf), 0);
  EXPECT_TRUE(buf.flags & V4L2_BUF_FLAG_ERROR);
  EXPECT_LE(buf.bytesused, buf.length);
}

}  // namespace
}  // namespace booth
