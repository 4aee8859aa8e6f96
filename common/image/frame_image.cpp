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
