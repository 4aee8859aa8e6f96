// The poster: a JPEG of a frame from the middle of the clip.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "trainer_node/http/clip_poster.h"
#include "trainer_node/render/mp4_writer.h"

namespace booth {
namespace {

namespace fs = std::filesystem;

TEST(ClipPoster, IsAFrameFromTheMiddleOfTheClip) {
  const fs::path dir = fs::temp_directory_path() / ("booth_poster_" + std::to_string(getpid()));
  fs::create_directories(dir);
  const fs::path clip = dir / "abc.mp4";
  Mp4Writer w;
  ASSERT_TRUE(w.open(clip.string(), 96, 64, 10).ok());
  for (int i = 0; i < 20; ++i) {
    // Dark first half, bright second half: the middle frame is bright.
    cv::Mat f(64, 96, CV_8UC3, i < 10 ? cv::Scalar(20, 20, 20) : cv::Scalar(230, 230, 230));
    ASSERT_TRUE(w.write(f).ok());
  }
  ASSERT_TRUE(w.close().ok());

  ClipPosters posters;
  auto poster = posters.ensure(clip);
  ASSERT_TRUE(poster.ok()) << poster.error();
  EXPECT_EQ(poster.value(), dir / "abc.jpg");
  EXPECT_EQ(fs::status(poster.value()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  const cv::Mat img = cv::imread(poster.value().string());
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 96);
  EXPECT_EQ(img.rows, 64);
  EXPECT_GT(cv::mean(img)[0], 180);
  fs::remove_all(dir);
}

TEST(ClipPoster, ABrokenClipIsAnErrorNotACrash) {
  const fs::path dir = fs::temp_directory_path() / ("booth_poster_bad_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "bad.mp4") << "this is not an mp4 file";
  ClipPosters posters;
  auto poster = posters.ensure(dir / "bad.mp4");
  EXPECT_FALSE(poster.ok());
  EXPECT_FALSE(fs::exists(dir / "bad.jpg"));
  EXPECT_FALSE(posters.ensure(dir / "missing.mp4").ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace booth
