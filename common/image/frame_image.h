#pragma once
// Pixels of a streamed frame: JPEG (as cameras send it) or raw BGR. One
// decoder for both nodes, so a frame the capture node's pose stage can read
// is a frame the trainer can read.
#include <string_view>

#include <opencv2/core.hpp>

namespace booth {

enum class FrameEncoding { kJpeg, kRawBgr };

// 8-bit BGR image, or an empty Mat when the bytes do not decode (corrupt
// JPEG, raw bytes that are not width * height * 3).
cv::Mat decodeFrameImage(FrameEncoding encoding, int width, int height, std::string_view bytes);

}  // namespace booth
