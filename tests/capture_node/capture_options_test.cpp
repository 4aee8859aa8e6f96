// capture_node options: typed parsing and one clear error per bad value.
#include <gtest/gtest.h>

#include "capture_node/capture_options.h"

namespace booth {
namespace {

Result<CaptureOptions> parseExactly(std::vector<const char*> args) {
  args.insert(args.begin(), "capture_node");
  return parseCaptureOptions(static_cast<int>(args.size()), args.data());
}

// Most tests are about other options: a loopback demo link without keys.
Result<CaptureOptions> parse(std::vector<const char*> args) {
  args.push_back("--insecure");
  return parseExactly(std::move(args));
}

TEST(CaptureOptions, DefaultsToOneAutoCamera) {
  auto opt = parse({});
  ASSERT_TRUE(opt.ok()) << opt.error();
  ASSERT_EQ(opt->cameras.size(), 1u);
  EXPECT_EQ(opt->cameras[0].kind, CameraSpec::Kind::kAuto);
  EXPECT_EQ(opt->cameras[0].camera_id, "cam0");
}

TEST(CaptureOptions, ParsesCameraSpecs) {
  auto opt = parse({"--camera", "synthetic:ben:disco:3", "--camera", "v4l2:/dev/video2", "--camera",
                    "video:/tmp/a:b.mp4"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  ASSERT_EQ(opt->cameras.size(), 3u);
  EXPECT_EQ(opt->cameras[0].performer, "ben");
  EXPECT_EQ(opt->cameras[0].choreography, "disco");
  EXPECT_EQ(opt->cameras[0].seed, 3u);
  EXPECT_EQ(opt->cameras[1].kind, CameraSpec::Kind::kV4l2);
  EXPECT_EQ(opt->cameras[1].path, "/dev/video2");
  EXPECT_EQ(opt->cameras[1].camera_id, "cam1");
  EXPECT_EQ(opt->cameras[2].path, "/tmp/a:b.mp4");
}

TEST(CaptureOptions, ListCamerasIsOffByDefault) {
  auto opt = parse({});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_FALSE(opt->list_cameras);
}

TEST(CaptureOptions, ParsesListCameras) {
  auto opt = parse({"--list-cameras"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_TRUE(opt->list_cameras);
}

TEST(CaptureOptions, WithoutKeysTheNodeSaysHowToGetThem) {
  auto opt = parseExactly({});
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.error().find("--curve-secret-key"), std::string::npos) << opt.error();
  EXPECT_NE(opt.error().find("--insecure"), std::string::npos) << opt.error();
}

TEST(CaptureOptions, InsecureOnlyReachesALoopbackTrainer) {
  auto opt = parse({"--trainer", "tcp://10.0.0.5:5555"});
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.error().find("10.0.0.5"), std::string::npos) << opt.error();
}

TEST(CaptureOptions, NodeIdsMustBeSafeNames) {
  auto opt = parse({"--node-id", "booth 1"});
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.error().find("booth 1"), std::string::npos) << opt.error();
}

TEST(CaptureOptions, RejectsUnknownCameraKind) {
  auto opt = parse({"--camera", "webcam"});
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.error().find("webcam"), std::string::npos) << opt.error();
}

TEST(CaptureOptions, RejectsBadNumbersNamingTheOption) {
  auto fps = parse({"--fps", "0"});
  ASSERT_FALSE(fps.ok());
  EXPECT_NE(fps.error().find("--fps"), std::string::npos) << fps.error();
  auto notnum = parse({"--width", "wide"});
  ASSERT_FALSE(notnum.ok());
  EXPECT_NE(notnum.error().find("width"), std::string::npos) << notnum.error();
}

TEST(CaptureOptions, RejectsNonZeroMqTrainerEndpoint) {
  auto opt = parse({"--trainer", "127.0.0.1:5555"});
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.error().find("tcp://"), std::string::npos) << opt.error();
}

TEST(CaptureOptions, SeveralTrainersCommaSeparatedOrRepeatedAreTriedInOrder) {
  auto opt = parse({"--trainer", "tcp://127.0.0.1:5555, tcp://127.0.0.1:5556", "--trainer",
                    "tcp://127.0.0.1:5557", "--trainer-failover-ms", "2500"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->node.link.endpoints,
            (std::vector<std::string>{"tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556",
                                      "tcp://127.0.0.1:5557"}));
  EXPECT_EQ(opt->node.link.failover_after, std::chrono::milliseconds(2500));
  auto bad = parse({"--trainer", "tcp://127.0.0.1:5555,127.0.0.1:5556"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("127.0.0.1:5556"), std::string::npos) << bad.error();
}

TEST(CaptureOptions, MissingConfigFileNamesThePath) {
  auto opt = parse({"--config", "/nonexistent/booth.conf"});
  ASSERT_FALSE(opt.ok());
  EXPECT_NE(opt.error().find("/nonexistent/booth.conf"), std::string::npos) << opt.error();
}

TEST(CaptureOptions, HelpIsNotAnError) {
  auto opt = parse({"--help"});
  ASSERT_TRUE(opt.ok());
  EXPECT_TRUE(opt->help);
  EXPECT_NE(opt->help_text.find("--camera"), std::string::npos);
}

TEST(CaptureOptions, PoseDefaultsToTopDownOnEveryFrameWithAZoneInTheMiddle) {
  auto opt = parse({});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->pose_mode, "top-down");
  EXPECT_EQ(opt->pose_crop_model, "auto");
  EXPECT_EQ(opt->node.pose.max_pose_fps, 0);  // every frame: the camera's rate
  EXPECT_EQ(opt->node.top_down.finder_hz, 6);
  EXPECT_EQ(opt->node.pose.tracker.zone, cv::Rect2f(0.25f, 0.25f, 0.5f, 0.75f));
  EXPECT_EQ(defaultCropModel("models/tfpose.json"), "models/movenet_singlepose_lightning.json");
}

TEST(CaptureOptions, PerformanceZonesPerCameraAndForAll) {
  auto opt = parse({"--performance-zone", "0,0.5,0.5,0.5", "--performance-zone", "cam1=0.5,0,0.5,1",
                    "--pose-mode", "single", "--pose-finder-hz", "8"});
  ASSERT_TRUE(opt.ok()) << opt.error();
  EXPECT_EQ(opt->node.pose.tracker.zone, cv::Rect2f(0.f, 0.5f, 0.5f, 0.5f));
  EXPECT_EQ(opt->node.pose.zoneFor("cam1"), cv::Rect2f(0.5f, 0.f, 0.5f, 1.f));
  EXPECT_EQ(opt->node.pose.zoneFor("cam0"), cv::Rect2f(0.f, 0.5f, 0.5f, 0.5f));
  EXPECT_EQ(opt->pose_mode, "single");
  EXPECT_EQ(opt->node.top_down.finder_hz, 8);
}

TEST(CaptureOptions, BadPoseModesAndZonesAreRefusedNamingTheValue) {
  for (const char* zone : {"0.5,0.5,0.6,0.2", "1,2,3", "a,b,c,d", "0,0,0,1", "../x=0,0,1,1"}) {
    auto opt = parse({"--performance-zone", zone});
    ASSERT_FALSE(opt.ok()) << zone;
    EXPECT_NE(opt.error().find(zone), std::string::npos) << opt.error();
  }
  auto mode = parse({"--pose-mode", "bottom-up"});
  ASSERT_FALSE(mode.ok());
  EXPECT_NE(mode.error().find("bottom-up"), std::string::npos) << mode.error();
  EXPECT_FALSE(parse({"--pose-finder-hz", "-1"}).ok());
}

}  // namespace
}  // namespace booth
