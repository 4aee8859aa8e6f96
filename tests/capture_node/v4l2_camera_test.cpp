#include "capture_node/v4l2/v4l2_camera.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

namespace booth {
namespace {

using std::chrono::milliseconds;

V4l2Config configFor(const std::string& device) {
  V4l2Config config;
  config.camera_id = "cam0";
  config.device = device;
  return config;
}

TEST(V4l2Camera, MissingDeviceErrorNamesThePathAndAHint) {
  V4l2Camera camera(configFor("/dev/video-does-not-exist"));
  const Status status = camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("/dev/video-does-not-exist"), std::string::npos) << status.error();
  EXPECT_NE(status.error().find("No such file or directory"), std::string::npos) << status.error();
  EXPECT_NE(status.error().find("capture_node --list-cameras"), std::string::npos)
      << status.error();
}

TEST(V4l2Camera, NonV4l2FileIsRejectedClearly) {
  V4l2Camera camera(configFor("/dev/null"));
  const Status status = camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("/dev/null is not a V4L2 device"), std::string::npos)
      << status.error();
}

TEST(V4l2Camera, FailedStartLeavesTheCameraStoppedAndRestartable) {
  V4l2Camera camera(configFor("/dev/null"));
  ASSERT_FALSE(camera.start().ok());
  // Not "already started": the failed start released the fd.
  const Status again = camera.start();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().find("already started"), std::string::npos) << again.error();
}

TEST(V4l2Camera, NextBeforeStartIsAnError) {
  V4l2Camera camera(configFor("/dev/video-does-not-exist"));
  auto frame = camera.next(milliseconds(1));
  ASSERT_FALSE(frame.ok());
  EXPECT_NE(frame.error().find("not started"), std::string::npos) << frame.error();
}

TEST(V4l2Camera, InvalidRequestIsRejectedWithTheValues) {
  V4l2Config config = configFor("/dev/null");
  config.fps = 0;
  V4l2Camera camera(config);
  const Status status = camera.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find("640x480"), std::string::npos) << status.error();
}

TEST(V4l2Camera, DescriptionBeforeStartIsTheRequest) {
  V4l2Camera camera(configFor("/dev/video-does-not-exist"));
  EXPECT_EQ(camera.description().camera_id, "cam0");
  EXPECT_EQ(camera.description().kind, "v4l2");
  EXPECT_EQ(camera.description().width, 640);
  EXPECT_EQ(camera.description().height, 480);
  EXPECT_EQ(camera.pixelFormat(), 0u);
}

TEST(V4l2Camera, RealCameraDeliversTenJpegFramesWithIncreasingSequence) {
  if (!std::filesystem::exists("/dev/video0")) {
    std::cout << "SKIP: needs a camera at /dev/video0\n";
    std::exit(77);
  }
  V4l2Camera camera(configFor("/dev/video0"));
  const Status started = camera.start();
  ASSERT_TRUE(started.ok()) << started.error();
  int got = 0;
  std::uint64_t last_sequence = 0;
  std::int64_t last_time = 0;
  for (int attempt = 0; got < 10 && attempt < 100; ++attempt) {
    auto frame = camera.next(milliseconds(500));
    ASSERT_TRUE(frame.ok()) << frame.error();
    if (!frame.value()) continue;
    const CapturedFrame& f = **frame;
    if (got > 0) {
      EXPECT_GT(f.sequence, last_sequence);
      EXPECT_GE(f.capture_time_us, last_time);
    } else {
      EXPECT_EQ(f.sequence, 0u);
    }
    EXPECT_EQ(f.camera_id, "cam0");
    const cv::Mat decoded = decodeFrameImage(f.encoding, f.width, f.height, f.data);
    EXPECT_EQ(decoded.cols, camera.description().width);
    EXPECT_EQ(decoded.rows, camera.description().height);
    last_sequence = f.sequence;
    last_time = f.capture_time_us;
    ++got;
  }
  EXPECT_EQ(got, 10);
  EXPECT_EQ(last_sequence, 9u + camera.stats().lost());
  camera.stop();
}

}  // namespace
}  // namespace booth
