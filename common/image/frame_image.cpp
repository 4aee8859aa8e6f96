#include "common/image/frame_image.h"

#include <cstddef>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

std::size_t bytesPerPixel(FrameEncoding encoding) {
  return encoding == FrameEncoding::kRawBgr ? 3 : 2;
}

// Why raw bytes do not describe a width x height image, or "" when they do.
std::string rawSizeProblem(FrameEncoding encoding, int width, int height, std::size_t size) {
  if (width <= 0 || height <= 0) {
    return "size " + std::to_string(width) + "x" + std::to_string(height) + " is not positive";
  }
  if (encoding == FrameEncoding::kYuyv && width % 2 != 0) {
    return "width " + std::to_string(width) + " is odd (YUYV pairs pixels)";
  }
  const std::size_t expected =
      static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * bytesPerPixel(encoding);
  if (size != expected) {
    return std::to_string(size) + " bytes, expected " + std::to_string(expected) + " for " +
           std::to_string(width) + "x" + std::to_string(height);
  }
  return {};
}

// The raw image as BGR; `bytes` must already be checked.
cv::Mat rawToBgr(FrameEncoding encoding, int width, int height, std::string_view bytes) {
  // cv::Mat wraps without copying; cvtColor and clone() only read it.
  auto* data = const_cast<char*>(bytes.data());
  if (encoding == FrameEncoding::kRawBgr) return cv::Mat(height, width, CV_8UC3, data).clone();
  cv::Mat bgr;
  cv::cvtColor(cv::Mat(height, width, CV_8UC2, data), bgr, cv::COLOR_YUV2BGR_YUYV);
  return bgr;
}

}  // namespace

const char* frameEncodingName(FrameEncoding encoding) {
  switch (encoding) {
    case FrameEncoding::kJpeg:
      return "jpeg";
    case FrameEncoding::kRawBgr:
      return "raw-bgr";
    case FrameEncoding::kYuyv:
      return "yuyv";
  }
  return "unknown";
}

cv::Mat decodeFrameImage(FrameEncoding encoding, int width, int height, std::string_view bytes) {
  auto image = decodeFrameImageOrError(encoding, width, height, bytes);
  return image ? std::move(image.value()) : cv::Mat();
}

Result<cv::Mat> decodeFrameImageOrError(FrameEncoding encoding, int width, int height,
                                        std::string_view bytes) try {
  if (bytes.empty()) return fail("no bytes");
  if (encoding == FrameEncoding::kJpeg) {
    const auto size = jpegSize(bytes);
    if (!size) return fail("not a JPEG (no frame header in " + std::to_string(bytes.size()) + " bytes)");
    const long long pixels = static_cast<long long>(size->width) * size->height;
    if (size->width <= 0 || size->height <= 0 || pixels > kMaxDecodePixels) {
      return fail("JPEG header claims " + std::to_string(size->width) + "x" +
                  std::to_string(size->height) + " pixels (at most " +
                  std::to_string(kMaxDecodePixels) + " are decoded)");
    }
    auto* data = const_cast<char*>(bytes.data());  // imdecode only reads
    cv::Mat image = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, data),
                                 cv::IMREAD_COLOR);
    if (image.empty()) return fail("the JPEG does not decode (" + std::to_string(bytes.size()) + " bytes)");
    return image;
  }
  if (const std::string problem = rawSizeProblem(encoding, width, height, bytes.size());
      !problem.empty()) {
    return fail(std::string(frameEncodingName(encoding)) + " frame: " + problem);
  }
  return rawToBgr(encoding, width, height, bytes);
} catch (const cv::Exception& e) {
  return fail(std::string("the image does not decode (") + e.what() + ")");
} catch (const std::bad_alloc&) {
  return fail("the image does not decode (out of memory)");
}

Result<cv::Mat> asBgr8(const cv::Mat& image) try {
  if (image.empty()) return fail("empty image");
  if (image.depth() != CV_8U) {
    return fail("image depth " + std::to_string(image.depth()) + " is not 8-bit");
  }
  cv::Mat bgr;
  switch (image.channels()) {
    case 3:
      return image;
    case 1:
      cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
      return bgr;
    case 4:
      cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
      return bgr;
    default:
      return fail("image has " + std::to_string(image.channels()) +
                  " channels, expected 1, 3 or 4");
  }
} catch (const cv::Exception& e) {
  return fail(std::string("colour conversion failed: ") + e.what());
}

Result<std::string> encodeFrameJpeg(FrameEncoding encoding, int width, int height,
                                    std::string_view bytes, int quality) {
  if (quality < 1 || quality > 100) {
    return fail("JPEG quality " + std::to_string(quality) + " is out of range (1..100)");
  }
  if (encoding == FrameEncoding::kJpeg) {
    if (bytes.empty()) return fail("cannot pass on an empty JPEG frame");
    return std::string(bytes);
  }
  if (const std::string problem = rawSizeProblem(encoding, width, height, bytes.size());
      !problem.empty()) {
    return fail(std::string("cannot encode a ") + frameEncodingName(encoding) +
                " frame as JPEG: " + problem);
  }
  try {
    const cv::Mat bgr = rawToBgr(encoding, width, height, bytes);
    std::vector<unsigned char> jpeg;
    if (!cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, quality})) {
      return fail(std::string("JPEG encoding of a ") + frameEncodingName(encoding) + " " +
                  std::to_string(width) + "x" + std::to_string(height) + " frame failed");
    }
    return std::string(jpeg.begin(), jpeg.end());
  } catch (const cv::Exception& e) {
    return fail(std::string("JPEG encoding of a ") + frameEncodingName(encoding) + " " +
                std::to_string(width) + "x" + std::to_string(height) +
                " frame failed: " + e.what());
  }
}

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
    if (marker == 0xD9 || marker == 0xDA)
      return std::nullopt;  // end / scan before any frame header
    const std::size_t length = (std::size_t{byte(pos + 2)} << 8) | byte(pos + 3);
    if (length < 2) return std::nullopt;
    const bool frame_header =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
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

}  // namespace booth
