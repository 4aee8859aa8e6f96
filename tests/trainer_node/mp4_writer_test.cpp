// Mp4Writer: a browser-playable H.264 MP4 with every frame.
#include <gtest/gtest.h>

#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "support/mp4_probe.h"
#include "trainer_node/render/mp4_writer.h"

namespace booth {
namespace {

std::string tempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("booth_" + std::to_string(getpid()) + "_" + name))
      .string();
}

TEST(Mp4Writer, WritesH264Yuv420pWithEveryFrame) {
  const std::string path = tempPath("clip.mp4");
  Mp4Writer w;
  ASSERT_TRUE(w.open(path, 96, 64, 15).ok());
  for (int i = 0; i < 23; ++i) {
    cv::Mat f(64, 96, CV_8UC3, cv::Scalar(10 * i % 255, 100, 200));
    cv::circle(f, {i * 4, 32}, 8, cv::Scalar(255, 255, 255), -1);
    ASSERT_TRUE(w.write(f).ok());
  }
  ASSERT_TRUE(w.close().ok());
  const auto probe = testing::probeMp4(path);
  ASSERT_TRUE(probe.ok) << probe.error;
  EXPECT_EQ(probe.codec, "h264");
  EXPECT_EQ(probe.pixel_format, "yuv420p");
  EXPECT_EQ(probe.width, 96);
  EXPECT_EQ(probe.height, 64);
  EXPECT_EQ(probe.frames, 23);
  EXPECT_NE(probe.container.find("mp4"), std::string::npos);
  std::filesystem::remove(path);
}

TEST(Mp4Writer, RejectsOddSizes) {
  Mp4Writer w;
  auto st = w.open(tempPath("odd.mp4"), 95, 64, 15);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("95x64"), std::string::npos) << st.error();
}

TEST(Mp4Writer, RejectsFramesOfTheWrongSize) {
  const std::string path = tempPath("wrong.mp4");
  Mp4Writer w;
  ASSERT_TRUE(w.open(path, 64, 64, 10).ok());
  auto st = w.write(cv::Mat(32, 32, CV_8UC3));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("32x32"), std::string::npos) << st.error();
  std::filesystem::remove(path);
}

TEST(Mp4Writer, UnwritablePathNamesIt) {
  Mp4Writer w;
  auto st = w.open("/nonexistent-dir/clip.mp4", 64, 64, 10);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("/nonexistent-dir/clip.mp4"), std::string::npos) << st.error();
}

}  // namespace
}  // namespace booth
