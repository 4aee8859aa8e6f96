#include "trainer_node/train/generator.h"

#include <cmath>
#include <string>

namespace booth {
namespace {

namespace F = torch::nn::functional;

torch::Tensor reflect(const torch::Tensor& x, std::int64_t pad) {
  if (pad == 0) return x;
  return F::pad(x, F::PadFuncOptions({pad, pad, pad, pad}).mode(torch::kReflect));
}

torch::nn::InstanceNorm2d instanceNorm(std::int64_t channels) {
  return torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(channels));
}

}  // namespace

ConvNormReluImpl::ConvNormReluImpl(std::int64_t in, std::int64_t out, std::int64_t kernel,
                                   std::int64_t stride, std::int64_t reflect_pad)
    : reflect_pad_(reflect_pad) {
  // Stride-2 convs pad with zeros (1 pixel), as pix2pixHD's downsampling.
  const std::int64_t zero_pad = stride > 1 ? kernel / 2 : 0;
  conv_ = register_module(
      "conv",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(zero_pad)));
  norm_ = register_module("norm", instanceNorm(out));
}

torch::Tensor ConvNormReluImpl::forward(const torch::Tensor& x) {
  return torch::relu(norm_->forward(conv_->forward(reflect(x, reflect_pad_))));
}

ResidualBlockImpl::ResidualBlockImpl(std::int64_t channels) {
  conv1_ = register_module("conv1",
                           torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 3)));
  norm1_ = register_module("norm1", instanceNorm(channels));
  conv2_ = register_module("conv2",
                           torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, channels, 3)));
  norm2_ = register_module("norm2", instanceNorm(channels));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(norm1_->forward(conv1_->forward(reflect(x, 1))));
  return x + norm2_->forward(conv2_->forward(reflect(y, 1)));
}

UpBlockImpl::UpBlockImpl(std::int64_t in, std::int64_t out) {
  conv_ = register_module("conv", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(
                                                                 in, out, 3)
                                                                 .stride(2)
                                                                 .padding(1)
                                                                 .output_padding(1)));
  norm_ = register_module("norm", instanceNorm(out));
}

torch::Tensor UpBlockImpl::forward(const torch::Tensor& x) {
  return torch::relu(norm_->forward(conv_->forward(x)));
}

GlobalGeneratorImpl::GlobalGeneratorImpl(const GeneratorOptions& o) {
  std::int64_t ch = o.ngf;
  head_ = register_module("head", ConvNormRelu(o.in_channels, ch, 7, 1, 3));
  for (int i = 0; i < o.downsamples; ++i) {
    down_.push_back(register_module("down" + std::to_string(i + 1), ConvNormRelu(ch, ch * 2, 3, 2, 0)));
    ch *= 2;
  }
  for (int i = 0; i < o.blocks; ++i) {
    res_.push_back(register_module("res" + std::to_string(i + 1), ResidualBlock(ch)));
  }
  for (int i = 0; i < o.downsamples; ++i) {
    up_.push_back(register_module("up" + std::to_string(i + 1), UpBlock(ch, ch / 2)));
    ch /= 2;
  }
  tail_ = register_module("tail",
                          torch::nn::Conv2d(torch::nn::Conv2dOptions(ch, o.out_channels, 7)));
  if (o.zero_tail) {
    torch::NoGradGuard no_grad;
    tail_->weight.zero_();
    tail_->bias.zero_();
  }
}

torch::Tensor GlobalGeneratorImpl::forward(const torch::Tensor& x) {
  auto y = head_->forward(x);
  for (auto& d : down_) y = d->forward(y);
  for (auto& r : res_) y = r->forward(y);
  for (auto& u : up_) y = u->forward(y);
  return torch::tanh(tail_->forward(reflect(y, 3)));
}

double generatorFlops(const GeneratorOptions& o, std::int64_t h, std::int64_t w) {
  auto conv = [](double in, double out, double k, double oh, double ow) {
    return 2.0 * in * out * k * k * oh * ow;
  };
  double flops = conv(o.in_channels, o.ngf, 7, h, w);
  double ch = o.ngf, oh = h, ow = w;
  for (int i = 0; i < o.downsamples; ++i) {
    oh = std::ceil(oh / 2);
    ow = std::ceil(ow / 2);
    flops += conv(ch, ch * 2, 3, oh, ow);
    ch *= 2;
  }
  flops += o.blocks * 2 * conv(ch, ch, 3, oh, ow);
  for (int i = 0; i < o.downsamples; ++i) {
    // A transposed conv does k*k multiply-adds per input pixel and pair of channels.
    flops += conv(ch, ch / 2, 3, oh, ow);
    oh *= 2;
    ow *= 2;
    ch /= 2;
  }
  return flops + conv(ch, o.out_channels, 7, h, w);
}

}  // namespace booth
