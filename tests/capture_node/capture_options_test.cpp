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

}  // namespace
}  // namespace booth
