// V4l2Camera against FakeV4l2Driver on a simulated clock: the whole
// start/next/stop path, format choice, loss accounting and failure handling
// without a camera and without waiting (a 5 s stall takes no time).
#include <linux/videodev2.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "capture_node/v4l2/fake/fake_v4l2_driver.h"
#include "capture_node/v4l2/fake/simulated_clock.h"
#include "capture_node/v4l2/v4l2_camera.h"

namespace booth {
namespace {

using std::chrono::milliseconds;

V4l2Config request(int width, int height, double fps) {
  V4l2Config config;
  config.camera_id = "cam0";
  config.device = FakeV4l2Config{}.path;
  config.width = width;
  config.height = height;
  config.fps = fps;
  return config;
}

// A camera on a fake driver on a simulated clock. Members are destroyed in
// reverse: the camera (and its device handle) before the driver.
struct Rig {
  explicit Rig(FakeV4l2Config fake = {}, V4l2Config config = request(640, 480, 30))
      : driver(std::move(fake), clock), camera(std::move(config), driver.device()) {}

  CapturedFrame mustRead() {
    auto f = camera.next(milliseconds(1000));
    EXPECT_TRUE(f.ok()) << f.error();
    if (!f.ok() || !f.value()) {
      ADD_FAILURE() << "no frame";
      return {};
    }
    return std::move(*f.value());
  }

  void mustStart() {
    const Status started = camera.start();
    ASSERT_TRUE(started.ok()) << started.error();
  }

  SimulatedClock clock;
  FakeV4l2Driver driver;
  V4l2Camera camera;
};

FakeFormat format(std::uint32_t fourcc, std::vector<FakeFrameSize> sizes) {
  FakeFormat f;
  f.fourcc = fourcc;
  f.description = fourcc == V4L2_PIX_FMT_YUYV ? "YUYV 4:2:2" : "Motion-JPEG";
  f.sizes = std::move(sizes);
  return f;
}

FakeV4l2Config yuyvOnly(std::uint32_t width, std::uint32_t height) {
  FakeV4l2Config fake;
  fake.formats = {format(V4L2_PIX_FMT_YUYV, {{width, height, {{1, 30}}}})};
  return fake;
}

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// --- format choice and what was granted ---

TEST(V4l2CameraOnFake, MjpegFramesArePassedOnByteForByte) {
  Rig rig;
  rig.driver.setPayloads({"\xff\xd8 first frame \xff\xd9"});
  rig.mustStart();
  const CapturedFrame f = rig.mustRead();
  EXPECT_EQ(f.data, "\xff\xd8 first frame \xff\xd9");
  EXPECT_EQ(f.encoding, FrameEncoding::kJpeg);
  EXPECT_EQ(f.camera_id, "cam0");
}

TEST(V4l2CameraOnFake, HighRateRequestChoosesMjpeg) {
  FakeV4l2Config fake;  // YUYV first in the list, and only MJPEG does 120 fps
  fake.formats = {format(V4L2_PIX_FMT_YUYV, {{640, 480, {{1, 30}}}}),
                  format(V4L2_PIX_FMT_MJPEG, {{640, 480, {{1, 120}, {1, 30}}}})};
  Rig rig(fake, request(640, 480, 120));
  rig.mustStart();
  EXPECT_EQ(rig.camera.pixelFormat(), V4L2_PIX_FMT_MJPEG);
  EXPECT_EQ(rig.camera.description().pixel_format, "MJPG");
  EXPECT_DOUBLE_EQ(rig.camera.description().fps, 120.0);
}

TEST(V4l2CameraOnFake, SizeThatReachesTheRateWinsOverTheRequestedSize) {
  FakeV4l2Config fake;
  fake.formats = {format(V4L2_PIX_FMT_MJPEG, {{640, 480, {{1, 60}}}, {320, 240, {{1, 120}}}})};
  Rig rig(fake, request(640, 480, 120));
  rig.mustStart();
  EXPECT_EQ(rig.camera.description().width, 320);
  EXPECT_EQ(rig.camera.description().height, 240);
  EXPECT_DOUBLE_EQ(rig.camera.description().fps, 120.0);
}

TEST(V4l2CameraOnFake, DescriptionHasRequestedAndGrantedRate) {
  FakeV4l2Config fake;
  fake.granted_interval = v4l2_fract{1, 60};  // enumerates 120, grants 60
  Rig rig(fake, request(640, 480, 120));
  rig.mustStart();
  EXPECT_DOUBLE_EQ(rig.camera.description().requested_fps, 120.0);
  EXPECT_DOUBLE_EQ(rig.camera.description().fps, 60.0);
}

TEST(V4l2CameraOnFake, DriverSubstitutedSizeIsWhatFramesCarry) {
  FakeV4l2Config fake;
  fake.granted_size = std::make_pair(320u, 240u);
  Rig rig(fake, request(640, 480, 30));
  rig.mustStart();
  EXPECT_EQ(rig.camera.description().requested_width, 640);
  EXPECT_EQ(rig.camera.description().width, 320);
  const CapturedFrame f = rig.mustRead();
  EXPECT_EQ(f.width, 320);
  EXPECT_EQ(f.height, 240);
}

TEST(V4l2CameraOnFake, DriverSubstitutedYuyvIsDeliveredAsYuyv) {
  FakeV4l2Config fake;
  fake.granted_fourcc = V4L2_PIX_FMT_YUYV;
  Rig rig(fake, request(640, 480, 30));
  rig.mustStart();
  EXPECT_EQ(rig.camera.description().pixel_format, "YUYV");
  EXPECT_EQ(rig.mustRead().encoding, FrameEncoding::kYuyv);
}

TEST(V4l2CameraOnFake, DriverSubstitutingAnUnusableFormatIsAnError) {
  FakeV4l2Config fake;
  fake.granted_fourcc = V4L2_PIX_FMT_GREY;
  Rig rig(fake);
  const Status status = rig.camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("asked for MJPG, the driver granted GREY"), std::string::npos)
      << status.error();
  EXPECT_EQ(rig.driver.openHandles(), 0);  // the failed start closed the device
}

TEST(V4l2CameraOnFake, GrantIsLoggedOnceWithRequestAndGrant) {
  std::ostringstream log;
  const auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_st>(log)));
  FakeV4l2Config fake;
  fake.granted_interval = v4l2_fract{1, 60};
  Rig rig(fake, request(640, 480, 120));
  rig.mustStart();
  rig.camera.stop();
  rig.mustStart();
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  const std::string line = "requested 640x480@120 MJPG, granted 640x480@60 MJPG";
  const auto first = text.find(line);
  ASSERT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find(line, first + 1), std::string::npos) << text;
}

TEST(V4l2CameraOnFake, DriverWithoutSizeEnumerationGetsTheRequestedSize) {
  FakeV4l2Config fake;
  fake.enum_frame_sizes = false;
  Rig rig(fake, request(320, 240, 30));
  rig.mustStart();
  EXPECT_EQ(rig.camera.pixelFormat(), V4L2_PIX_FMT_MJPEG);
  EXPECT_EQ(rig.camera.description().width, 320);
}

TEST(V4l2CameraOnFake, DriverWithAFixedRateReportsItsOwnRate) {
  FakeV4l2Config fake;
  fake.settable_rate = false;  // G_PARM tells the rate, S_PARM is not there
  fake.formats = {format(V4L2_PIX_FMT_MJPEG, {{640, 480, {{1, 25}}}})};
  Rig rig(fake, request(640, 480, 60));
  rig.mustStart();
  EXPECT_DOUBLE_EQ(rig.camera.description().fps, 25.0);
}

TEST(V4l2CameraOnFake, CameraWithoutMjpegOrYuyvListsWhatItOffers) {
  FakeV4l2Config fake;
  fake.formats = {format(V4L2_PIX_FMT_GREY, {{640, 480, {{1, 30}}}})};
  Rig rig(fake);
  const Status status = rig.camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("offers neither MJPEG nor YUYV (it offers: GREY)"),
            std::string::npos)
      << status.error();
}

TEST(V4l2CameraOnFake, MetadataNodeIsRejectedWithTheReason) {
  FakeV4l2Config fake;
  fake.device_caps = V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING;
  Rig rig(fake);
  const Status status = rig.camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("(Fake Camera) is a metadata node"), std::string::npos)
      << status.error();
}

TEST(V4l2CameraOnFake, DeviceWithoutStreamingIsRejected) {
  FakeV4l2Config fake;
  fake.device_caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_READWRITE;
  Rig rig(fake);
  const Status status = rig.camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("does not support streaming"), std::string::npos) << status.error();
}

TEST(V4l2CameraOnFake, AbsentDeviceIsAnErrorWithAHint) {
  Rig rig;
  rig.driver.unplug();
  const Status status = rig.camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(startsWith(status.error(), "cannot open camera /dev/video-fake0: No such file"))
      << status.error();
  EXPECT_NE(status.error().find("--list-cameras"), std::string::npos) << status.error();
}

TEST(V4l2CameraOnFake, StartIssuesTheStreamingIoctlSequence) {
  Rig rig;
  rig.mustStart();
  std::vector<std::string> calls = rig.driver.calls();
  // Enumeration is checked elsewhere; here the order of what configures and starts.
  std::erase_if(calls, [](const std::string& c) { return c.rfind("ENUM_", 0) == 0; });
  const std::vector<std::string> expected = {
      "open", "QUERYCAP", "S_FMT",    "G_PARM", "S_PARM",  "REQBUFS",  "QUERYBUF",
      "mmap", "QBUF",     "QUERYBUF", "mmap",   "QBUF",    "QUERYBUF", "mmap",
      "QBUF", "QUERYBUF", "mmap",     "QBUF",   "STREAMON"};
  EXPECT_EQ(calls, expected);
}

TEST(V4l2CameraOnFake, NextPollsDequeuesAndRequeues) {
  Rig rig;
  rig.mustStart();
  const std::size_t before = rig.driver.calls().size();
  rig.mustRead();
  const std::vector<std::string> calls = rig.driver.calls();
  EXPECT_EQ(
      std::vector<std::string>(calls.begin() + static_cast<std::ptrdiff_t>(before), calls.end()),
      (std::vector<std::string>{"poll", "DQBUF", "QBUF"}));
}

TEST(V4l2CameraOnFake, StopStreamsOffFreesBuffersAndCloses) {
  Rig rig;
  rig.mustStart();
  const std::size_t before = rig.driver.calls().size();
  rig.camera.stop();
  const std::vector<std::string> calls = rig.driver.calls();
  EXPECT_EQ(
      std::vector<std::string>(calls.begin() + static_cast<std::ptrdiff_t>(before), calls.end()),
      (std::vector<std::string>{"STREAMOFF", "REQBUFS", "close"}));
}

// --- raw YUYV ---

TEST(V4l2CameraOnFake, YuyvFramesAreDeliveredRaw) {
  Rig rig(yuyvOnly(64, 48), request(64, 48, 30));
  const std::string yuyv(64 * 48 * 2, '\x80');
  rig.driver.setPayloads({yuyv});
  rig.mustStart();
  const CapturedFrame f = rig.mustRead();
  EXPECT_EQ(f.encoding, FrameEncoding::kYuyv);
  EXPECT_EQ(f.width, 64);
  EXPECT_EQ(f.height, 48);
  EXPECT_EQ(f.data, yuyv);
}

TEST(V4l2CameraOnFake, YuyvRowPaddingIsRemoved) {
  FakeV4l2Config fake = yuyvOnly(4, 2);
  fake.line_padding = 8;  // bytesperline 16 for 8 bytes of pixels
  Rig rig(fake, request(4, 2, 30));
  rig.driver.setPayloads({"ABCDEFGH--------IJKLMNOP--------"});
  rig.mustStart();
  EXPECT_EQ(rig.mustRead().data, "ABCDEFGHIJKLMNOP");
}

TEST(V4l2CameraOnFake, ShortYuyvFrameIsSkippedAsAnErrorFrame) {
  Rig rig(yuyvOnly(64, 48), request(64, 48, 30));
  rig.driver.setPayloads({std::string(1000, '\x80'), std::string(64 * 48 * 2, '\x80')});
  rig.mustStart();
  EXPECT_EQ(rig.mustRead().sequence, 1u);
  EXPECT_EQ(rig.camera.stats().error_frames, 1u);
}

// --- losses, counted once ---

TEST(V4l2CameraOnFake, ErrorFlaggedFrameIsSkippedAndCounted) {
  Rig rig;
  rig.driver.failFrames(1);
  rig.mustStart();
  EXPECT_EQ(rig.mustRead().sequence, 0u);
  EXPECT_EQ(rig.mustRead().sequence, 2u);  // slot 1 stays a gap
  EXPECT_EQ(rig.camera.stats().error_frames, 1u);
  EXPECT_EQ(rig.camera.stats().driver_dropped, 0u);
}

TEST(V4l2CameraOnFake, SequenceGapsAreCountedAsDriverDrops) {
  Rig rig;
  rig.driver.dropFrames(2, 2);
  rig.mustStart();
  std::vector<std::uint64_t> sequences;
  for (int i = 0; i < 3; ++i) sequences.push_back(rig.mustRead().sequence);
  EXPECT_EQ(sequences, (std::vector<std::uint64_t>{0, 1, 4}));
  EXPECT_EQ(rig.camera.stats().driver_dropped, 2u);
  EXPECT_EQ(rig.camera.stats().error_frames, 0u);
}

TEST(V4l2CameraOnFake, CountsAddUpToTheSequenceGaps) {
  Rig rig;
  rig.driver.dropFrames(3, 2);
  rig.driver.failFrames(7);
  rig.driver.dropFrames(9);
  rig.driver.failFrames(12, 3);
  rig.mustStart();
  std::uint64_t gaps = 0, last = 0;
  for (int i = 0; i < 20; ++i) {
    const std::uint64_t sequence = rig.mustRead().sequence;
    if (i > 0) gaps += sequence - last - 1;
    last = sequence;
  }
  const SourceStats stats = rig.camera.stats();
  EXPECT_EQ(stats.delivered, 20u);
  EXPECT_EQ(stats.driver_dropped, 3u);
  EXPECT_EQ(stats.error_frames, 4u);
  EXPECT_EQ(stats.lost(), gaps);
  EXPECT_EQ(stats.delivered + stats.lost(), last + 1);
}

TEST(V4l2CameraOnFake, ErrorFrameFirstKeepsTheAccounting) {
  Rig rig;
  rig.driver.failFrames(0);
  rig.mustStart();
  EXPECT_EQ(rig.mustRead().sequence, 1u);
  const SourceStats stats = rig.camera.stats();
  EXPECT_EQ(stats.delivered + stats.lost(), 2u);
}

TEST(V4l2CameraOnFake, LateConsumerLosesFramesAsDriverDrops) {
  Rig rig(FakeV4l2Config{}, request(640, 480, 120));
  rig.mustStart();
  // 20 frame periods without a dequeue: 4 buffers fill, 16 frames are lost.
  rig.clock.advance(std::chrono::microseconds(20 * 1'000'000 / 120 + 100));
  for (int i = 0; i < 5; ++i) rig.mustRead();
  EXPECT_EQ(rig.driver.overruns(), 16u);
  EXPECT_EQ(rig.camera.stats().driver_dropped, 16u);
}

TEST(V4l2CameraOnFake, DriverSequenceWrapIsNotALoss) {
  FakeV4l2Config fake;
  fake.first_sequence = 0xffff'fffeu;
  Rig rig(fake);
  rig.mustStart();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(rig.mustRead().sequence, static_cast<std::uint64_t>(i));
  EXPECT_EQ(rig.camera.stats().lost(), 0u);
}

TEST(V4l2CameraOnFake, StartResetsTheCounts) {
  Rig rig;
  rig.driver.dropFrames(1);
  rig.mustStart();
  rig.mustRead();
  rig.mustRead();
  ASSERT_EQ(rig.camera.stats().driver_dropped, 1u);
  rig.camera.stop();
  rig.mustStart();
  EXPECT_EQ(rig.camera.stats().delivered, 0u);
  EXPECT_EQ(rig.camera.stats().driver_dropped, 0u);
}

// --- time ---

TEST(V4l2CameraOnFake, MonotonicDriverTimestampIsConvertedToMicroseconds) {
  Rig rig(FakeV4l2Config{}, request(640, 480, 120));
  rig.mustStart();
  const std::int64_t streamon = rig.clock.nowMicros();
  EXPECT_EQ(rig.mustRead().capture_time_us, streamon + 8333);  // one period of 120 fps
}

TEST(V4l2CameraOnFake, NonMonotonicTimestampIsReplacedByTheDequeueTime) {
  FakeV4l2Config fake;
  fake.timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_UNKNOWN;
  Rig rig(fake);
  rig.mustStart();
  rig.clock.advance(std::chrono::microseconds(500'000));  // frames wait in their buffers
  const std::int64_t now = rig.clock.nowMicros();
  EXPECT_EQ(rig.mustRead().capture_time_us, now);
}

TEST(V4l2CameraOnFake, StalledCameraNeverBlocksLongerThanTheTimeout) {
  Rig rig;
  rig.driver.stall(0, std::chrono::seconds(5));
  rig.mustStart();
  const std::int64_t before = rig.clock.nowMicros();
  auto f = rig.camera.next(milliseconds(100));
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_FALSE(f.value().has_value());
  EXPECT_EQ(rig.clock.nowMicros() - before, 100'000);
}

TEST(V4l2CameraOnFake, CameraDeliversAgainAfterAStallWithoutAGap) {
  Rig rig;
  rig.driver.stall(3, std::chrono::seconds(2));
  rig.mustStart();
  for (int i = 0; i < 3; ++i) rig.mustRead();
  int timeouts = 0;
  for (;;) {
    auto f = rig.camera.next(milliseconds(500));
    ASSERT_TRUE(f.ok()) << f.error();
    if (f.value()) {
      EXPECT_EQ(f.value()->sequence, 3u);
      break;
    }
    ++timeouts;
  }
  EXPECT_EQ(timeouts, 4);  // 2 s of stall in 500 ms waits
}

// --- transient conditions never surface ---

TEST(V4l2CameraOnFake, SpuriousEagainIsRetriedInside) {
  Rig rig;
  rig.mustStart();
  rig.driver.failDequeues(3, EAGAIN);
  EXPECT_EQ(rig.mustRead().sequence, 0u);
}

TEST(V4l2CameraOnFake, InterruptedPollIsRetriedInside) {
  Rig rig;
  rig.mustStart();
  rig.driver.interruptPolls(3);
  EXPECT_EQ(rig.mustRead().sequence, 0u);
}

TEST(V4l2CameraOnFake, NoFrameYetIsNotAnError) {
  Rig rig;
  rig.mustStart();
  auto f = rig.camera.next(milliseconds(10));  // the first frame is due after 33 ms
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_FALSE(f.value().has_value());
}

// --- failures ---

TEST(V4l2CameraOnFake, UnpluggedCameraEndsTheStreamWithADisconnectError) {
  Rig rig;
  rig.driver.disconnectAt(2);
  rig.mustStart();
  rig.mustRead();
  rig.mustRead();
  auto f = rig.camera.next(milliseconds(1000));
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(startsWith(f.error(), "/dev/video-fake0 disconnected (poll: POLLHUP)")) << f.error();
}

TEST(V4l2CameraOnFake, DisconnectErrorStaysUntilStop) {
  Rig rig;
  rig.driver.disconnectAt(0);
  rig.mustStart();
  auto first = rig.camera.next(milliseconds(1000));
  ASSERT_FALSE(first.ok());
  const std::size_t calls = rig.driver.calls().size();
  auto again = rig.camera.next(milliseconds(1000));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), first.error());
  EXPECT_EQ(rig.driver.calls().size(), calls);  // the device was not asked again
}

TEST(V4l2CameraOnFake, DequeueEnodevIsADisconnect) {
  Rig rig;
  rig.mustStart();
  rig.driver.failDequeues(1, ENODEV);
  auto f = rig.camera.next(milliseconds(1000));
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(startsWith(f.error(), "/dev/video-fake0 disconnected (VIDIOC_DQBUF: No such device)"))
      << f.error();
}

TEST(V4l2CameraOnFake, FailedQueueIsADisconnect) {
  Rig rig;
  rig.mustStart();
  rig.driver.failQueue();
  auto f = rig.camera.next(milliseconds(1000));
  ASSERT_FALSE(f.ok());
  EXPECT_TRUE(startsWith(f.error(),
                         "/dev/video-fake0 disconnected (poll: POLLERR, VIDIOC_DQBUF: "
                         "Input/output error)"))
      << f.error();
}

TEST(V4l2CameraOnFake, OtherDequeueErrorNamesDeviceAndIoctl) {
  Rig rig;
  rig.mustStart();
  rig.driver.failDequeues(1, EIO);
  auto f = rig.camera.next(milliseconds(1000));
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error(),
            "camera /dev/video-fake0: cannot dequeue a frame (VIDIOC_DQBUF): Input/output error");
}

TEST(V4l2CameraOnFake, DisconnectedCameraStopsCleanly) {
  Rig rig;
  rig.driver.disconnectAt(0);
  rig.mustStart();
  ASSERT_FALSE(rig.camera.next(milliseconds(1000)).ok());
  rig.camera.stop();
  EXPECT_EQ(rig.driver.openHandles(), 0);
}

// --- lifecycle ---

TEST(V4l2CameraOnFake, StopStreamsOffReleasesBuffersAndAllowsAnotherStart) {
  Rig rig;
  rig.mustStart();
  rig.camera.stop();
  rig.camera.stop();  // idempotent
  EXPECT_EQ(rig.driver.streamOffCount(), 1);
  EXPECT_FALSE(rig.driver.streaming());
  EXPECT_EQ(rig.driver.buffersAllocated(), 0u);
  EXPECT_EQ(rig.driver.openHandles(), 0);
  rig.mustStart();
  EXPECT_EQ(rig.driver.streamOnCount(), 2);
}

TEST(V4l2CameraOnFake, StartTwiceIsAnError) {
  Rig rig;
  rig.mustStart();
  const Status again = rig.camera.start();
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("already started"), std::string::npos) << again.error();
}

TEST(V4l2CameraOnFake, EveryBufferIsBackWithTheDriverAfterNext) {
  Rig rig;
  rig.driver.failFrames(0);
  rig.mustStart();
  rig.mustRead();
  EXPECT_EQ(rig.driver.buffersQueued(), V4l2Camera::kBufferCount);
}

}  // namespace
}  // namespace booth
