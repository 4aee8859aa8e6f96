#pragma once
// Pixels of a streamed frame: JPEG (as cameras send it) or raw BGR. One
// decoder for both nodes, so a frame the capture node's pose stage can read
// is a frame the trainer can read.
#include <optional>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

#include "common/core/result.h"

namespace booth {

enum class FrameEncoding { kJpeg, kRawBgr };

// 8-bit BGR image, or an empty Mat when the bytes do not decode (corrupt
// JPEG, raw bytes that are not width * height * 3).
cv::Mat decodeFrameImage(FrameEncoding encoding, int width, int height, std::string_view bytes);

}  // namespace booth

namespace booth {

// Width and height from a JPEG's frame header, without decoding it (so a
// huge image can be refused before it costs memory). nullopt: not a JPEG
// or no frame header found.
struct ImageSize {
  int width = 0;
  int height = 0;
};
std::optional<ImageSize> jpegSize(std::string_view bytes);

// The one JPEG encoder: JPEG bytes pass through unchanged; raw pixels are
// encoded at `quality` (1..100). Errors name the size and the reason.
Result<std::string> encodeFrameJpeg(FrameEncoding encoding, int width, int height,
                                    std::string_view bytes, int quality);

}  // namespace booth
