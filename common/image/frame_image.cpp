#include "common/image/frame_image.h"

#include <opencv2/imgcodecs.hpp>

namespace booth {

cv::Mat decodeFrameImage(FrameEncoding encoding, int width, int height, std::string_view bytes) {
  if (bytes.empty()) return {};
  // cv::Mat wraps without copying; imdecode and clone() only read it.
  auto* data = const_cast<char*>(bytes.data());
  if (encoding == FrameEncoding::kJpeg) {
    return cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, data),
                        cv::IMREAD_COLOR);
  }
  if (width <= 0 || height <= 0 ||
      bytes.size() != static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3) {
    return {};
  }
  return cv::Mat(height, width, CV_8UC3, data).clone();
}

}  // namespace booth

namespace booth {

std::optional<ImageSize> jpegSize(std::string_view b) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(b[i]); };
  if (b.size() < 4 || byte(0) != 0xFF || byte(1) != 0xD8) return std::nullopt;
  std::size_t pos = 2;
  while (pos + 4 <= b.size()) {
    if (byte(pos) != 0xFF) return std::nullopt;
    const unsigned char marker = byte(pos + 1);
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      pos += 2;  // markers without a length
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // end / scan before any frame header
    const std::size_t length = (std::size_t{byte(pos + 2)} << 8) | byte(pos + 3);
    if (length < 2) return std::nullopt;
    const bool frame_header = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 &&
                              marker != 0xC8 && marker != 0xCC;
    if (frame_header) {
      if (pos + 9 > b.size()) return std::nullopt;
      ImageSize size;
      size.height = (byte(pos + 5) << 8) | byte(pos + 6);
      size.width = (byte(pos + 7) << 8) | byte(pos + 8);
      return size;
    }
    pos += 2 + length;
  }
  return std::nullopt;
}

Result<std::string> encodeFrameJpeg(FrameEncoding encoding, int width, int height,
                                    std::string_view bytes, int quality) {
  if (encoding == FrameEncoding::kJpeg) return std::string(bytes);
  if (quality < 1 || quality > 100) {
    return fail("JPEG quality " + std::to_string(quality) + " is out of range (1..100)");
  }
  const cv::Mat image = decodeFrameImage(encoding, width, height, bytes);
  if (image.empty()) {
    return fail("raw frame of " + std::to_string(bytes.size()) + " bytes is not " +
                std::to_string(width) + "x" + std::to_string(height) + " pixels");
  }
  try {
    std::vector<unsigned char> jpeg;
    if (!cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, quality})) {
      return fail("JPEG encoding of a " + std::to_string(width) + "x" + std::to_string(height) +
                  " frame failed");
    }
    return std::string(jpeg.begin(), jpeg.end());
  } catch (const cv::Exception& e) {
    return fail(std::string("JPEG encoding failed: ") + e.what());
  }
}

}  // namespace booth
