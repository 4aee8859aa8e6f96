#include "trainer_node/train/discriminator.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace booth {
namespace {

constexpr double kLeakySlope = 0.2;
constexpr std::int64_t kMaxFilters = 512;  // pix2pixHD caps the width here

torch::nn::Conv2d conv4(std::int64_t in, std::int64_t out, std::int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 4).stride(stride).padding(2));
}

}  // namespace

PatchDiscriminatorImpl::PatchDiscriminatorImpl(std::int64_t in_channels, std::int64_t ndf,
                                               int layers) {
  // layers stride-2 convs, then one stride-1 conv, then the score conv.
  std::int64_t prev = in_channels;
  std::int64_t nf = ndf;
  for (int i = 0; i <= layers; ++i) {
    const std::int64_t stride = i < layers ? 2 : 1;
    if (i > 0) nf = std::min(nf * 2, kMaxFilters);
    const std::string name = "layer" + std::to_string(i + 1);
    convs_.push_back(register_module(name, conv4(prev, nf, stride)));
    if (i == 0) {
      norms_.emplace_back(nullptr);  // pix2pixHD: no norm on the first layer
    } else {
      norms_.push_back(register_module(
          name + "_norm", torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(nf))));
    }
    prev = nf;
  }
  score_ = register_module("score", conv4(prev, 1, 1));
}

PatchOutputs PatchDiscriminatorImpl::forward(const torch::Tensor& x) {
  PatchOutputs out;
  out.reserve(convs_.size() + 1);
  torch::Tensor y = x;
  for (std::size_t i = 0; i < convs_.size(); ++i) {
    y = convs_[i]->forward(y);
    if (!norms_[i].is_empty()) y = norms_[i]->forward(y);
    y = torch::leaky_relu(y, kLeakySlope);
    out.push_back(y);
  }
  out.push_back(score_->forward(y));
  return out;
}

MultiscaleDiscriminatorImpl::MultiscaleDiscriminatorImpl(const DiscriminatorOptions& o)
    : layers_(o.layers) {
  for (int s = 0; s < o.scales; ++s) {
    scales_.push_back(register_module("scale" + std::to_string(s + 1),
                                      PatchDiscriminator(o.in_channels, o.ndf, o.layers)));
  }
}

std::vector<PatchOutputs> MultiscaleDiscriminatorImpl::forward(const torch::Tensor& x) {
  std::vector<PatchOutputs> out;
  out.reserve(scales_.size());
  torch::Tensor input = x;
  for (std::size_t s = 0; s < scales_.size(); ++s) {
    if (s > 0) {
      input = torch::avg_pool2d(input, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1,
                                /*ceil_mode=*/false, /*count_include_pad=*/false);
    }
    out.push_back(scales_[s]->forward(input));
  }
  return out;
}

double discriminatorFlops(const DiscriminatorOptions& o, std::int64_t h, std::int64_t w) {
  double flops = 0;
  double sh = h, sw = w;
  for (int s = 0; s < o.scales; ++s) {
    if (s > 0) {  // avg pool 3, stride 2, padding 1
      sh = std::floor((sh - 1) / 2) + 1;
      sw = std::floor((sw - 1) / 2) + 1;
    }
    double in = o.in_channels, nf = o.ndf, oh = sh, ow = sw;
    for (int i = 0; i <= o.layers; ++i) {
      if (i > 0) nf = std::min<double>(nf * 2, kMaxFilters);
      // kernel 4, padding 2: stride 2 gives floor(x / 2) + 1, stride 1 gives x + 1
      if (i < o.layers) {
        oh = std::floor(oh / 2) + 1;
        ow = std::floor(ow / 2) + 1;
      } else {
        oh += 1;
        ow += 1;
      }
      flops += 2.0 * in * nf * 16 * oh * ow;
      in = nf;
    }
    flops += 2.0 * in * 1 * 16 * (oh + 1) * (ow + 1);
  }
  return flops;
}

}  // namespace booth
