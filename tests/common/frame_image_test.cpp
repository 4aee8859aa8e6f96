// decodeFrameImage and encodeFrameJpeg: the one frame decoder and the one
// JPEG encoder of both nodes.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "common/image/frame_image.h"

namespace booth {
namespace {

std::string jpegOf(const cv::Mat& image) {
  std::vector<uchar> jpeg;
  EXPECT_TRUE(cv::imencode(".jpg", image, jpeg));
  return {jpeg.begin(), jpeg.end()};
}

// width x height YUYV of one colour (BT.601 limited range).
std::string yuyvOf(int width, int height, unsigned char y, unsigned char u, unsigned char v) {
  std::string bytes;
  for (int i = 0; i < width * height / 2; ++i) {
    bytes += static_cast<char>(y);
    bytes += static_cast<char>(u);
    bytes += static_cast<char>(y);
    bytes += static_cast<char>(v);
  }
  return bytes;
}

TEST(FrameImage, DecodesJpeg) {
  const cv::Mat out = decodeFrameImage(FrameEncoding::kJpeg, 0, 0,
                                       jpegOf(cv::Mat(24, 40, CV_8UC3, cv::Scalar(10, 200, 30))));
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

TEST(FrameImage, DecodesYuyvToBgr) {
  // Y 81, U 90, V 240 is BT.601 red.
  const cv::Mat out = decodeFrameImage(FrameEncoding::kYuyv, 8, 4, yuyvOf(8, 4, 81, 90, 240));
  ASSERT_EQ(out.size(), cv::Size(8, 4));
  const cv::Vec3b pixel = out.at<cv::Vec3b>(2, 5);
  EXPECT_NEAR(pixel[2], 255, 6);  // R
  EXPECT_NEAR(pixel[1], 0, 6);
  EXPECT_NEAR(pixel[0], 0, 6);
}

TEST(FrameImage, RejectsYuyvOfTheWrongSize) {
  EXPECT_TRUE(decodeFrameImage(FrameEncoding::kYuyv, 8, 4, std::string(8 * 4 * 3, 'x')).empty());
}

TEST(FrameImage, RejectsYuyvWithAnOddWidth) {
  EXPECT_TRUE(decodeFrameImage(FrameEncoding::kYuyv, 3, 2, std::string(3 * 2 * 2, 'x')).empty());
}

TEST(FrameImage, JpegIsPassedOnUnchanged) {
  const std::string jpeg = jpegOf(cv::Mat(24, 40, CV_8UC3, cv::Scalar(1, 2, 3)));
  auto out = encodeFrameJpeg(FrameEncoding::kJpeg, 40, 24, jpeg, 50);
  ASSERT_TRUE(out.ok()) << out.error();
  EXPECT_EQ(out.value(), jpeg);
}

TEST(FrameImage, EncodesYuyvAsJpegOfTheSameImage) {
  auto out = encodeFrameJpeg(FrameEncoding::kYuyv, 64, 48, yuyvOf(64, 48, 81, 90, 240), 90);
  ASSERT_TRUE(out.ok()) << out.error();
  const cv::Mat back = decodeFrameImage(FrameEncoding::kJpeg, 0, 0, out.value());
  ASSERT_EQ(back.size(), cv::Size(64, 48));
  EXPECT_NEAR(cv::mean(back)[2], 255, 8);
  EXPECT_NEAR(cv::mean(back)[0], 0, 8);
}

TEST(FrameImage, EncodesRawBgrAsJpegOfTheSameImage) {
  const cv::Mat image(30, 20, CV_8UC3, cv::Scalar(200, 40, 90));
  const std::string raw(reinterpret_cast<const char*>(image.data), image.total() * 3);
  auto out = encodeFrameJpeg(FrameEncoding::kRawBgr, 20, 30, raw, 95);
  ASSERT_TRUE(out.ok()) << out.error();
  const cv::Mat back = decodeFrameImage(FrameEncoding::kJpeg, 0, 0, out.value());
  ASSERT_EQ(back.size(), cv::Size(20, 30));
  EXPECT_NEAR(cv::mean(back)[0], 200, 4);
}

TEST(FrameImage, EncodingRawBytesOfTheWrongSizeSaysWhy) {
  auto out = encodeFrameJpeg(FrameEncoding::kYuyv, 640, 480, std::string(1000, 'x'), 90);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().find("yuyv"), std::string::npos) << out.error();
  EXPECT_NE(out.error().find("1000 bytes, expected 614400 for 640x480"), std::string::npos)
      << out.error();
}

TEST(FrameImage, EncodingRejectsAQualityOutOfRange) {
  auto out = encodeFrameJpeg(FrameEncoding::kRawBgr, 1, 1, std::string(3, 'x'), 0);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().find("quality 0"), std::string::npos) << out.error();
}

TEST(FrameImage, EncodingAnEmptyJpegIsAnError) {
  EXPECT_FALSE(encodeFrameJpeg(FrameEncoding::kJpeg, 0, 0, "", 90).ok());
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

namespace booth {
namespace {

// A real JPEG whose frame header (SOF0) is rewritten to claim width x height.
std::string jpegClaiming(int width, int height) {
  std::vector<uchar> bytes;
  cv::imencode(".jpg", cv::Mat(16, 16, CV_8UC3, cv::Scalar(9, 9, 9)), bytes);
  std::string jpeg(bytes.begin(), bytes.end());
  for (std::size_t i = 2; i + 8 < jpeg.size(); ++i) {
    if (static_cast<unsigned char>(jpeg[i]) == 0xFF && static_cast<unsigned char>(jpeg[i + 1]) == 0xC0) {
      jpeg[i + 5] = static_cast<char>(height >> 8);
      jpeg[i + 6] = static_cast<char>(height & 0xFF);
      jpeg[i + 7] = static_cast<char>(width >> 8);
      jpeg[i + 8] = static_cast<char>(width & 0xFF);
      return jpeg;
    }
  }
  return jpeg;
}

TEST(FrameImage, AJpegClaimingAnAbsurdSizeIsRefusedBeforeDecoding) {
  // 65000 x 65000 is above 2^30 pixels, where OpenCV's imdecode throws.
  const std::string jpeg = jpegClaiming(65000, 65000);
  ASSERT_EQ(jpegSize(jpeg)->width, 65000);
  EXPECT_TRUE(decodeFrameImage(FrameEncoding::kJpeg, 640, 480, jpeg).empty());
  const auto decoded = decodeFrameImageOrError(FrameEncoding::kJpeg, 640, 480, jpeg);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().find("65000x65000"), std::string::npos) << decoded.error();
}

TEST(FrameImage, ACorruptJpegIsAnErrorNotAnException) {
  std::string jpeg = jpegClaiming(16, 16);
  jpeg.resize(jpeg.size() / 2);  // cut in the middle of the scan
  jpeg[jpeg.size() - 1] = '\xff';
  const auto decoded = decodeFrameImageOrError(FrameEncoding::kJpeg, 16, 16, "\xff\xd8garbage");
  EXPECT_FALSE(decoded.ok());
  EXPECT_NO_THROW((void)decodeFrameImage(FrameEncoding::kJpeg, 16, 16, jpeg));
}

TEST(FrameImage, AsBgr8ConvertsGreyAndRefusesOtherDepths) {
  auto grey = asBgr8(cv::Mat(4, 4, CV_8UC1, cv::Scalar(7)));
  ASSERT_TRUE(grey.ok()) << grey.error();
  EXPECT_EQ(grey->channels(), 3);
  EXPECT_FALSE(asBgr8(cv::Mat(4, 4, CV_32FC3)).ok());
  EXPECT_FALSE(asBgr8(cv::Mat()).ok());
}

}  // namespace
}  // namespace booth
