#pragma once
// Face GAN (Everybody Dance Now, section 3.3): after the main generator has
// drawn a frame, a small residual generator looks at the square head crop
// of the stick figure and of the drawn frame and returns a residual that
// is added to that crop; a PatchGAN on (stick crop, face crop) trains it
// with LSGAN, feature matching and L1. Internal to trainer_node/train/
// (includes libtorch).
//
// Crops are integer-aligned squares of one side per batch (see face_box.h),
// so cropping and pasting are plain slices: no resampling.
#include <span>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "trainer_node/train/discriminator.h"
#include "trainer_node/train/generator.h"
#include "trainer_node/train/model_config.h"

namespace booth {

GeneratorOptions faceGeneratorOptions(const ModelConfig& config);
DiscriminatorOptions faceDiscriminatorOptions(const ModelConfig& config);

// images: N x C x H x W; boxes: N squares of one side inside the images.
// Returns N x C x side x side.
torch::Tensor cropBoxes(const torch::Tensor& images, std::span<const cv::Rect> boxes);

// The refined crop: raw crop plus residual, kept in [-1, 1].
torch::Tensor refineFace(const torch::Tensor& raw_crop, const torch::Tensor& residual);

// Writes `crop` (1 x C x s x s) into image (1 x C x H x W) at `box`, in place.
void pasteBox(torch::Tensor& image, const torch::Tensor& crop, const cv::Rect& box);

}  // namespace booth
