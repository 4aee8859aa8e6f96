#pragma once
// Conversions between OpenCV images and the model's tensors. Internal to
// trainer_node/train/ (includes libtorch).
//
// Images are 8-bit BGR, channel order kept (the model never needs RGB).
// Datasets are held as uint8 N x 3 x R x R tensors (a quarter of float) and
// converted batch by batch with toUnit().
#include <span>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "common/core/result.h"

namespace booth {

// Fails naming `what` and the actual type or size.
Status checkImage(const cv::Mat& image, int resolution, const std::string& what);

// N validated CV_8UC3 images of resolution^2 -> uint8 N x 3 x R x R (CPU).
torch::Tensor stackImages(std::span<const cv::Mat> images, int resolution);
// A warped reference (part_warp.h): its CV_8UC3 image and CV_8U mask of
// one size -> uint8 4 x H x W (B, G, R, mask), CPU.
torch::Tensor warpBytes(const cv::Mat& image, const cv::Mat& mask);
// uint8 [0, 255] -> float [-1, 1].
torch::Tensor toUnit(const torch::Tensor& bytes);
// float [-1, 1] -> uint8 [0, 255], rounded and clamped.
torch::Tensor toBytes(const torch::Tensor& unit);
// One image (3 x H x W, any device, float in [-1, 1]) -> 8-bit BGR Mat.
cv::Mat toMat(const torch::Tensor& image);

}  // namespace booth
