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

namespace booth {
namespace {

TEST(FrameImage, JpegSizeIsReadFromTheHeaderWithoutDecoding) {
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", cv::Mat(123, 321, CV_8UC3, cv::Scalar(1, 2, 3)), jpeg);
  const auto size = jpegSize(std::string_view(reinterpret_cast<const char*>(jpeg.data()), jpeg.size()));
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 321);
  EXPECT_EQ(size->height, 123);
}

TEST(FrameImage, JpegSizeOfGarbageIsNothing) {
  EXPECT_FALSE(jpegSize(""));
  EXPECT_FALSE(jpegSize("\xff\xd8"));
  EXPECT_FALSE(jpegSize("not a jpeg at all"));
  EXPECT_FALSE(jpegSize(std::string("\xff\xd8\xff\xe0\x00\x01", 6)));  // bad length
}

TEST(FrameImage, RawPixelsAreEncodedToJpegAndJpegPassesThrough) {
  const cv::Mat img(16, 24, CV_8UC3, cv::Scalar(10, 200, 30));
  const std::string raw(reinterpret_cast<const char*>(img.data), img.total() * 3);
  auto jpeg = encodeFrameJpeg(FrameEncoding::kRawBgr, 24, 16, raw, 90);
  ASSERT_TRUE(jpeg.ok()) << jpeg.error();
  const cv::Mat back = decodeFrameImage(FrameEncoding::kJpeg, 0, 0, jpeg.value());
  ASSERT_EQ(back.size(), img.size());
  auto same = encodeFrameJpeg(FrameEncoding::kJpeg, 0, 0, jpeg.value(), 90);
  EXPECT_EQ(same.value(), jpeg.value());
  EXPECT_FALSE(encodeFrameJpeg(FrameEncoding::kRawBgr, 24, 16, "short", 90).ok());
  EXPECT_FALSE(encodeFrameJpeg(FrameEncoding::kRawBgr, 24, 16, raw, 0).ok());
}

}  // namespace
}  // namespace booth
