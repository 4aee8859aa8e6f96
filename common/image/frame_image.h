#pragma once
// Pixels of a captured or streamed frame, and the one decoder and the one
// JPEG encoder of both nodes, so a frame the capture node's pose stage can
// read is a frame the trainer can read.
#include <optional>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

#include "common/core/result.h"

namespace booth {

// How a frame's bytes hold its pixels. `width` and `height` are always the
// image size in pixels.
enum class FrameEncoding {
  // A complete JPEG (a camera's MJPEG frame or a JFIF file); width and height
  // describe it but the bytes are authoritative.
  kJpeg,
  // 8-bit BGR, rows packed without padding: size == width * height * 3.
  kRawBgr,
  // Packed YUV 4:2:2 exactly as V4L2_PIX_FMT_YUYV: per two pixels the bytes
  // Y0 U Y1 V (BT.601, limited range, as UVC cameras send it). width is even;
  // rows are packed without padding (stride == 2 * width, whatever the
  // driver's bytesperline was): size == width * height * 2. Raw camera
  // output, never sent on the wire: encode it with encodeFrameJpeg first.
  kYuyv,
};

// "jpeg", "raw-bgr", "yuyv": for messages.
const char* frameEncodingName(FrameEncoding encoding);

// 8-bit BGR image, or an empty Mat when the bytes do not decode (corrupt
// JPEG, raw bytes whose size does not match width and height as above, a
// JPEG whose header claims more than kMaxDecodePixels). Never throws.
cv::Mat decodeFrameImage(FrameEncoding encoding, int width, int height, std::string_view bytes);
// The same with the reason when it does not decode (e.g. "JPEG header
// claims 70000x70000 pixels, more than 67108864").
Result<cv::Mat> decodeFrameImageOrError(FrameEncoding encoding, int width, int height,
                                        std::string_view bytes);
// The largest image decodeFrameImage decodes (64 Mpx; OpenCV's imdecode
// throws above 2^30 and would allocate gigabytes below that). A JPEG's
// header is read before decoding, so a frame that merely claims a huge
// size costs nothing.
inline constexpr long long kMaxDecodePixels = 1LL << 26;

// An 8-bit image as 3-channel BGR (grey and BGRA converted; BGR passed
// through without a copy). Errors name the depth or channel count.
Result<cv::Mat> asBgr8(const cv::Mat& image);

// JPEG bytes of a frame at `quality` (1..100). kJpeg passes through
// unchanged (never re-encoded, so camera MJPEG reaches the trainer as
// captured); kYuyv and kRawBgr are converted and encoded. The error names
// the encoding, the size and the byte count when they do not agree.
// Costs a few milliseconds at 640x480: call it off the camera thread (the
// spool writer does). Thread-safe.
Result<std::string> encodeFrameJpeg(FrameEncoding encoding, int width, int height,
                                    std::string_view bytes, int quality);

// Width and height from a JPEG's frame header, without decoding it (so a
// huge image can be refused before it costs memory). nullopt: not a JPEG
// or no frame header found.
struct ImageSize {
  int width = 0;
  int height = 0;
};
std::optional<ImageSize> jpegSize(std::string_view bytes);

}  // namespace booth
