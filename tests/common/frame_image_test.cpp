// decodeFrameImage: the one frame decoder of both nodes.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "common/image/frame_image.h"

namespace booth {
namespace {

TEST(FrameImage, DecodesJpeg) {
  cv::Mat img(24, 40, CV_8UC3, cv::Scalar(10, 200, 30));
  std::vector<uchar> jpeg;
  ASSERT_TRUE(cv::imencode(".jpg", img, jpeg));
  const cv::Mat out =
      decodeFrameImage(FrameEncoding::kJpeg, 0, 0,
                       std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()));
  ASSERT_EQ(out.size(), cv::Size(40, 24));
  EXPECT_NEAR(out.at<cv::Vec3b>(12, 20)[1], 200, 4);
}

TEST(FrameImage, CopiesRawBgrOfTheRightSize) {
  std::string raw(4 * 2 * 3, '\x07');
  const cv::Mat out = decodeFrameImage(FrameEncoding::kRawBgr, 4, 2, raw);
  ASSERT_EQ(out.size(), cv::Size(4, 2));
  EXPECT_EQ(out.at<cv::Vec3b>(1, 3)[2], 7);
  raw.assign(raw.size(), '\0');  // the image is a copy
  EXPECT_EQ(out.at<cv::Vec3b>(1, 3)[2], 7);
}

TEST(FrameImage, RejectsRawBytesOfTheWrongSize) {
  EXPECT_TRUE(decodeFrameImage(FrameEncoding::kRawBgr, 4, 2, std::string(10, 'x')).empty());
  EXPECT_TRUE(decodeFrameImage(FrameEncoding::kRawBgr, 0, 2, std::string(0, 'x')).empty());
}

TEST(FrameImage, CorruptJpegIsEmpty) {
  EXPECT_TRUE(decodeFrameImage(FrameEncoding::kJpeg, 0, 0, "not a jpeg at all").empty());
}

}  // namespace
}  // namespace booth
