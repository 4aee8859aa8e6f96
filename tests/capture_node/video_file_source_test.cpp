#include "capture_node/source/video_file_source.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "shared_assets.h"

namespace booth {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

constexpr int kFrames = 10;
constexpr int kWidth = 64;
constexpr int kHeight = 48;
constexpr double kFps = 10;

// Grey level of frame k of the generated video: frames are told apart by it.
int levelOf(int k) { return 20 + 20 * k; }

cv::Mat decode(const CapturedFrame& frame) {
  return cv::imdecode(cv::Mat(1, static_cast<int>(frame.data.size()), CV_8UC1,
                              const_cast<char*>(frame.data.data())),
                      cv::IMREAD_COLOR);
}

double meanLevel(const CapturedFrame& frame) { return cv::mean(decode(frame))[0]; }

// A small MJPG .avi written with OpenCV into a fresh temp dir: no ../shared needed.
class GeneratedVideo : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "booth_video_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "ten_frames.avi").string();
    cv::VideoWriter writer(path_, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), kFps,
                           cv::Size(kWidth, kHeight));
    ASSERT_TRUE(writer.isOpened()) << "cannot write " << path_;
    for (int k = 0; k < kFrames; ++k) {
      writer.write(cv::Mat(kHeight, kWidth, CV_8UC3, cv::Scalar::all(levelOf(k))));
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  VideoFileConfig config(bool loop, bool realtime) const {
    return VideoFileConfig{"file0", path_, loop, realtime};
  }

  fs::path dir_;
  std::string path_;
};

CapturedFrame mustRead(VideoFileSource& source) {
  auto frame = source.next(milliseconds(1000));
  EXPECT_TRUE(frame.ok()) << frame.error();
  if (!frame.ok() || !frame.value()) {
    ADD_FAILURE() << "no frame";
    return {};
  }
  return std::move(*frame.value());
}

TEST_F(GeneratedVideo, DescriptionHasTheFilesSizeAndRate) {
  VideoFileSource source(config(true, false));
  ASSERT_TRUE(source.start().ok());
  EXPECT_EQ(source.description().camera_id, "file0");
  EXPECT_EQ(source.description().kind, "video");
  EXPECT_EQ(source.description().width, kWidth);
  EXPECT_EQ(source.description().height, kHeight);
  EXPECT_NEAR(source.description().fps, kFps, 0.01);
}

TEST_F(GeneratedVideo, FramesAreJpegsOfTheRecordedImages) {
  VideoFileSource source(config(true, false));
  ASSERT_TRUE(source.start().ok());
  for (int k = 0; k < 3; ++k) {
    const CapturedFrame frame = mustRead(source);
    EXPECT_EQ(frame.encoding, FrameEncoding::kJpeg);
    const cv::Mat image = decode(frame);
    ASSERT_FALSE(image.empty());
    EXPECT_EQ(image.cols, kWidth);
    EXPECT_EQ(image.rows, kHeight);
    EXPECT_NEAR(cv::mean(image)[0], levelOf(k), 4.0) << "frame " << k;
  }
}

TEST_F(GeneratedVideo, LoopsToTheFirstFrameWithIncreasingSequence) {
  VideoFileSource source(config(true, false));
  ASSERT_TRUE(source.start().ok());
  for (int k = 0; k < kFrames + 3; ++k) {
    const CapturedFrame frame = mustRead(source);
    EXPECT_EQ(frame.sequence, static_cast<std::uint64_t>(k));
    EXPECT_NEAR(meanLevel(frame), levelOf(k % kFrames), 4.0) << "frame " << k;
  }
}

TEST_F(GeneratedVideo, WithoutLoopEndOfFileIsAnErrorNamingThePath) {
  VideoFileSource source(config(false, false));
  ASSERT_TRUE(source.start().ok());
  for (int k = 0; k < kFrames; ++k) mustRead(source);
  auto end = source.next(milliseconds(100));
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.error(), "end of video file " + path_);
}

TEST_F(GeneratedVideo, RealtimePacesFramesAtTheFileRate) {
  VideoFileSource source(config(true, true));
  ASSERT_TRUE(source.start().ok());
  const auto begin = std::chrono::steady_clock::now();
  const CapturedFrame first = mustRead(source);
  CapturedFrame last;
  for (int k = 1; k < 4; ++k) last = mustRead(source);
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  // Three periods of 100 ms after the first frame, at least.
  EXPECT_GE(elapsed, milliseconds(299));
  EXPECT_GE(last.capture_time_us - first.capture_time_us, 299'000);
}

TEST_F(GeneratedVideo, RealtimeNextReturnsNothingBeforeTheFrameIsDue) {
  VideoFileSource source(config(true, true));
  ASSERT_TRUE(source.start().ok());
  mustRead(source);
  auto early = source.next(milliseconds(0));  // the next frame is due in 100 ms
  ASSERT_TRUE(early.ok()) << early.error();
  EXPECT_FALSE(early.value().has_value());
}

TEST_F(GeneratedVideo, RestartBeginsAgainAtSequenceZero) {
  VideoFileSource source(config(true, false));
  ASSERT_TRUE(source.start().ok());
  mustRead(source);
  mustRead(source);
  source.stop();
  ASSERT_TRUE(source.start().ok());
  const CapturedFrame frame = mustRead(source);
  EXPECT_EQ(frame.sequence, 0u);
  EXPECT_NEAR(meanLevel(frame), levelOf(0), 4.0);
}

TEST_F(GeneratedVideo, UndecodableFileErrorNamesThePath) {
  const std::string garbage = (dir_ / "not_a_video.mp4").string();
  std::ofstream(garbage) << "this is not a video";
  VideoFileSource source(VideoFileConfig{"file0", garbage, true, false});
  const Status status = source.start();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().find(garbage), std::string::npos) << status.error();
}

TEST(VideoFileSource, MissingFileErrorNamesThePath) {
  VideoFileSource source(VideoFileConfig{"file0", "/nonexistent/booth/clip.mp4", true, false});
  const Status status = source.start();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error(), "video file /nonexistent/booth/clip.mp4 does not exist");
}

TEST(VideoFileSource, NextBeforeStartIsAnError) {
  VideoFileSource source(VideoFileConfig{"file0", "/nonexistent/booth/clip.mp4", true, false});
  auto frame = source.next(milliseconds(1));
  ASSERT_FALSE(frame.ok());
  EXPECT_NE(frame.error().find("not started"), std::string::npos) << frame.error();
}

// On the real asset: 576x576, 30 fps, 120 frames, H.264.
constexpr int kAssetFrames = 120;

VideoFileConfig assetConfig(bool loop) {
  return VideoFileConfig{"file0", test::requireSharedAsset("tfjs_pose_1.mp4").string(), loop,
                         false};
}

TEST(VideoFileSourceAsset, DescriptionMatchesTheFile) {
  VideoFileSource source(assetConfig(true));
  const Status status = source.start();
  ASSERT_TRUE(status.ok()) << status.error();
  EXPECT_EQ(source.description().width, 576);
  EXPECT_EQ(source.description().height, 576);
  EXPECT_NEAR(source.description().fps, 30.0, 0.01);
}

TEST(VideoFileSourceAsset, Reads120FramesThenLoopsWithIncreasingSequence) {
  VideoFileSource source(assetConfig(true));
  ASSERT_TRUE(source.start().ok());
  for (int k = 0; k < kAssetFrames + 10; ++k) {
    auto frame = source.next(milliseconds(1000));
    ASSERT_TRUE(frame.ok()) << "frame " << k << ": " << frame.error();
    ASSERT_TRUE(frame.value().has_value()) << "frame " << k;
    EXPECT_EQ(frame.value()->sequence, static_cast<std::uint64_t>(k));
  }
}

TEST(VideoFileSourceAsset, WithoutLoopErrorsAfter120Frames) {
  VideoFileSource source(assetConfig(false));
  ASSERT_TRUE(source.start().ok());
  int frames = 0;
  for (;;) {
    auto frame = source.next(milliseconds(1000));
    if (!frame.ok()) {
      EXPECT_NE(frame.error().find("end of video file"), std::string::npos) << frame.error();
      break;
    }
    ASSERT_TRUE(frame.value().has_value());
    ASSERT_LE(++frames, kAssetFrames) << "no end of file after " << kAssetFrames << " frames";
  }
  EXPECT_EQ(frames, kAssetFrames);
}

TEST(VideoFileSourceAsset, FramesDecodeTo576x576) {
  VideoFileSource source(assetConfig(true));
  ASSERT_TRUE(source.start().ok());
  const CapturedFrame frame = mustRead(source);
  EXPECT_EQ(frame.width, 576);
  EXPECT_EQ(frame.height, 576);
  const cv::Mat image = decode(frame);
  EXPECT_EQ(image.cols, 576);
  EXPECT_EQ(image.rows, 576);
  EXPECT_EQ(image.type(), CV_8UC3);
}

}  // namespace
}  // namespace booth
