#include "trainer_node/train/tensor_image.h"

#include <cstring>

#include <opencv2/core/check.hpp>

namespace booth {

Status checkImage(const cv::Mat& m, int resolution, const std::string& what) {
  if (m.type() != CV_8UC3)
    return fail(what + " has type " + cv::typeToString(m.type()) +
                ", expected CV_8UC3 (8-bit BGR)");
  if (m.cols != resolution || m.rows != resolution)
    return fail(what + " is " + std::to_string(m.cols) + "x" + std::to_string(m.rows) +
                ", expected " + std::to_string(resolution) + "x" + std::to_string(resolution) +
                " (ModelConfig::resolution)");
  return okStatus();
}

torch::Tensor stackImages(std::span<const cv::Mat> images, int resolution) {
  const auto n = static_cast<std::int64_t>(images.size());
  auto hwc = torch::empty({n, resolution, resolution, 3}, torch::kUInt8);
  const std::size_t row_bytes = static_cast<std::size_t>(resolution) * 3;
  auto* dst = hwc.data_ptr<std::uint8_t>();
  for (const cv::Mat& m : images) {
    for (int y = 0; y < resolution; ++y) {
      std::memcpy(dst, m.ptr<std::uint8_t>(y), row_bytes);
      dst += row_bytes;
    }
  }
  return hwc.permute({0, 3, 1, 2}).contiguous();
}

torch::Tensor warpBytes(const cv::Mat& image, const cv::Mat& mask) {
  const int h = image.rows, w = image.cols;
  auto hwc = torch::empty({h, w, 4}, torch::kUInt8);
  cv::Mat wrapped(h, w, CV_8UC4, hwc.data_ptr<std::uint8_t>());
  const cv::Mat parts[] = {image, mask};
  const int from_to[] = {0, 0, 1, 1, 2, 2, 3, 3};
  cv::mixChannels(parts, 2, &wrapped, 1, from_to, 4);
  return hwc.permute({2, 0, 1}).contiguous();
}

torch::Tensor toUnit(const torch::Tensor& bytes) {
  return bytes.to(torch::kFloat32).div_(127.5).sub_(1.0);
}

torch::Tensor toBytes(const torch::Tensor& unit) {
  return unit.detach().to(torch::kFloat32).add(1.0).mul_(127.5).round_().clamp_(0, 255).to(
      torch::kUInt8);
}

cv::Mat toMat(const torch::Tensor& image) {
  auto bytes = toBytes(image).permute({1, 2, 0}).contiguous().to(torch::kCPU);
  const int h = static_cast<int>(bytes.size(0));
  const int w = static_cast<int>(bytes.size(1));
  return cv::Mat(h, w, CV_8UC3, bytes.data_ptr<std::uint8_t>()).clone();
}

}  // namespace booth
