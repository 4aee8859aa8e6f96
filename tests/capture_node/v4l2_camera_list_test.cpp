// The camera list of `capture_node --list-cameras`, on fake devices.
#include "capture_node/v4l2/v4l2_camera_list.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "capture_node/v4l2/fake/fake_v4l2_driver.h"
#include "capture_node/v4l2/fake/simulated_clock.h"

namespace booth {
namespace {

std::string listed(const FakeV4l2Config& config) {
  SimulatedClock clock;
  FakeV4l2Driver driver(config, clock);
  std::ostringstream out;
  listV4l2Cameras(out, {driver.path()}, [&](const std::string&) { return driver.device(); });
  return out.str();
}

TEST(V4l2CameraList, ListsEveryFormatSizeAndInterval) {
  EXPECT_EQ(listed({}),
            "/dev/video-fake0: Fake Camera\n"
            "  driver fake 6.1.0, bus fake:usb-1\n"
            "  MJPG  Motion-JPEG, compressed\n"
            "    640x480     120, 60, 30 fps (intervals 1/120, 1/60, 1/30 s)\n"
            "    1280x720    60, 30 fps (intervals 1/60, 1/30 s)\n"
            "    320x240     120, 60, 30 fps (intervals 1/120, 1/60, 1/30 s)\n"
            "  YUYV  YUYV 4:2:2\n"
            "    640x480     30, 15 fps (intervals 1/30, 1/15 s)\n"
            "    320x240     60, 30 fps (intervals 1/60, 1/30 s)\n");
}

TEST(V4l2CameraList, StepwiseSizesAndIntervalsAreRanges) {
  FakeV4l2Config config;
  FakeFormat yuyv;
  yuyv.fourcc = V4L2_PIX_FMT_YUYV;
  yuyv.description = "YUYV 4:2:2";
  yuyv.stepwise_sizes = {16, 1920, 8, 16, 1080, 8};
  yuyv.stepwise_intervals = {{1, 60}, {1, 1}, {1, 60}};
  config.formats = {yuyv};
  const std::string text = listed(config);
  EXPECT_NE(text.find("    16x16 to 1920x1080, step 8x8 (stepwise); at 1920x1080: 60 to 1 fps "
                      "(intervals 1/60 to 1 s, step 1/60 s, stepwise)\n"),
            std::string::npos)
      << text;
}

TEST(V4l2CameraList, FractionalRatesKeepTheirFraction) {
  FakeV4l2Config config;
  FakeFormat mjpeg;
  mjpeg.fourcc = V4L2_PIX_FMT_MJPEG;
  mjpeg.description = "Motion-JPEG";
  mjpeg.sizes = {{640, 480, {{1001, 30000}}}};
  config.formats = {mjpeg};
  const std::string text = listed(config);
  EXPECT_NE(text.find("29.97 fps (intervals 1001/30000 s)"), std::string::npos) << text;
}

TEST(V4l2CameraList, MetadataNodeIsListedAsNotACamera) {
  FakeV4l2Config config;
  config.device_caps = V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING;
  const std::string text = listed(config);
  EXPECT_NE(text.find("  not a camera to capture from: a metadata node"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("MJPG"), std::string::npos) << text;
}

TEST(V4l2CameraList, NodeThatCannotBeOpenedGetsOneLine) {
  SimulatedClock clock;
  FakeV4l2Driver driver({}, clock);
  driver.unplug();
  std::ostringstream out;
  const int cameras =
      listV4l2Cameras(out, {driver.path()}, [&](const std::string&) { return driver.device(); });
  EXPECT_EQ(cameras, 0);
  EXPECT_EQ(out.str(), "/dev/video-fake0: cannot open: No such file or directory\n");
}

TEST(V4l2CameraList, CountsCaptureDevicesOnly) {
  SimulatedClock clock;
  FakeV4l2Config meta;
  meta.path = "/dev/video-fake1";
  meta.device_caps = V4L2_CAP_META_CAPTURE | V4L2_CAP_STREAMING;
  FakeV4l2Driver camera({}, clock);
  FakeV4l2Driver metadata(meta, clock);
  std::ostringstream out;
  const int cameras =
      listV4l2Cameras(out, {camera.path(), metadata.path()}, [&](const std::string& path) {
        return path == camera.path() ? camera.device() : metadata.device();
      });
  EXPECT_EQ(cameras, 1);
}

TEST(V4l2CameraList, NoNodesSaysSo) {
  std::ostringstream out;
  EXPECT_EQ(listV4l2Cameras(out, {}, [](const std::string&) { return nullptr; }), 0);
  EXPECT_NE(out.str().find("no V4L2 devices"), std::string::npos) << out.str();
}

TEST(V4l2CameraList, FindsVideoNodesInNaturalOrder) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("v4l2_camera_list_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const char* name : {"video10", "video2", "video0", "vbi0", "video-meta", "media0"}) {
    std::ofstream(dir / name).put('x');
  }
  const std::vector<std::string> nodes = findVideoNodes(dir);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(nodes, (std::vector<std::string>{(dir / "video0").string(), (dir / "video2").string(),
                                             (dir / "video10").string()}));
}

}  // namespace
}  // namespace booth
