// queryDeviceInfo: what a device node says about itself, through the fake.
#include "capture_node/v4l2/v4l2_device_info.h"

#include <gtest/gtest.h>

#include "capture_node/v4l2/fake/fake_v4l2_driver.h"
#include "capture_node/v4l2/fake/simulated_clock.h"

namespace booth {
namespace {

V4l2DeviceInfo query(const FakeV4l2Config& config) {
  SimulatedClock clock;
  FakeV4l2Driver driver(config, clock);
  auto device = driver.device();
  EXPECT_EQ(device->open(), 0);
  auto info = queryDeviceInfo(*device);
  EXPECT_TRUE(info.ok()) << info.error();
  return info.ok() ? info.value() : V4l2DeviceInfo{};
}

TEST(V4l2DeviceInfo, HasCardDriverAndBus) {
  const V4l2DeviceInfo info = query({});
  EXPECT_EQ(info.path, "/dev/video-fake0");
  EXPECT_EQ(info.card, "Fake Camera");
  EXPECT_EQ(info.driver, "fake");
  EXPECT_EQ(info.bus_info, "fake:usb-1");
  EXPECT_TRUE(info.isVideoCapture());
  EXPECT_TRUE(info.canStream());
}

TEST(V4l2DeviceInfo, EnumeratesFormatsSizesAndIntervals) {
  const V4l2DeviceInfo info = query({});
  ASSERT_EQ(info.formats.size(), 2u);
  const V4l2FormatInfo& mjpeg = info.formats[0];
  EXPECT_EQ(mjpeg.fourcc, static_cast<std::uint32_t>(V4L2_PIX_FMT_MJPEG));
  EXPECT_EQ(mjpeg.description, "Motion-JPEG");
  EXPECT_TRUE(mjpeg.compressed);
  ASSERT_EQ(mjpeg.sizes.size(), 3u);
  EXPECT_EQ(mjpeg.sizes[1].width, 1280u);
  EXPECT_EQ(mjpeg.sizes[0].intervals.type, static_cast<std::uint32_t>(V4L2_FRMIVAL_TYPE_DISCRETE));
  ASSERT_EQ(mjpeg.sizes[0].intervals.discrete.size(), 3u);
  EXPECT_EQ(mjpeg.sizes[0].intervals.discrete[0].denominator, 120u);
  EXPECT_DOUBLE_EQ(mjpeg.sizes[0].intervals.maxFps(), 120.0);
  EXPECT_FALSE(info.formats[1].compressed);
}

TEST(V4l2DeviceInfo, StepwiseSizesAreOneRangeWithIntervalsAtTheLargestSize) {
  FakeV4l2Config config;
  FakeFormat yuyv;
  yuyv.fourcc = V4L2_PIX_FMT_YUYV;
  yuyv.description = "YUYV 4:2:2";
  yuyv.stepwise_sizes = {16, 1920, 8, 16, 1080, 8};
  yuyv.stepwise_intervals = {{1, 60}, {1, 1}, {1, 60}};
  config.formats = {yuyv};
  const V4l2DeviceInfo info = query(config);
  ASSERT_EQ(info.formats.size(), 1u);
  ASSERT_EQ(info.formats[0].sizes.size(), 1u);
  const V4l2FrameSize& size = info.formats[0].sizes[0];
  EXPECT_EQ(size.type, static_cast<std::uint32_t>(V4L2_FRMSIZE_TYPE_STEPWISE));
  EXPECT_EQ(size.width, 1920u);
  EXPECT_EQ(size.stepwise.min_width, 16u);
  EXPECT_EQ(size.intervals.type, static_cast<std::uint32_t>(V4L2_FRMIVAL_TYPE_STEPWISE));
  EXPECT_DOUBLE_EQ(size.intervals.maxFps(), 60.0);
}

TEST(V4l2DeviceInfo, DriverWithoutSizeEnumerationListsFormatsWithoutSizes) {
  FakeV4l2Config config;
  config.enum_frame_sizes = false;
  const V4l2DeviceInfo info = query(config);
  ASSERT_EQ(info.formats.size(), 2u);
  EXPECT_TRUE(info.formats[0].sizes.empty());
}

TEST(V4l2DeviceInfo, MetadataNodeHasNoFormatsAndSaysWhat) {
  FakeV4l2Config config;
  config.device_caps = V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING;
  const V4l2DeviceInfo info = query(config);
  EXPECT_TRUE(info.formats.empty());
  EXPECT_NE(info.whyNotCapture().find("metadata node"), std::string::npos);
}

TEST(V4l2DeviceInfo, FourccTextIsTheFourCharacters) {
  EXPECT_EQ(fourccText(V4L2_PIX_FMT_MJPEG), "MJPG");
  EXPECT_EQ(fourccText(V4L2_PIX_FMT_YUYV), "YUYV");
  EXPECT_EQ(fourccText(V4L2_PIX_FMT_GREY), "GREY");
}

}  // namespace
}  // namespace booth
