#pragma once
// The pix2pixHD global generator (Wang et al. 2018), used twice: as the
// pose-to-image generator and, small, as the face GAN's residual generator.
// Internal to trainer_node/train/ (includes libtorch).
//
// Layers, each a named submodule so that checkpoints survive changes
// elsewhere: "head" (reflection pad, 7x7 conv, instance norm, ReLU),
// "down1".."downN" (3x3 stride-2 conv, norm, ReLU), "res1".."resM" (residual
// blocks of two 3x3 convs), "up1".."upN" (3x3 transposed convs), "tail"
// (reflection pad, 7x7 conv) followed by tanh. Instance norm without affine
// parameters: train and eval behave the same.
#include <cstdint>

#include <torch/torch.h>

namespace booth {

struct GeneratorOptions {
  std::int64_t in_channels = 6;  // stick figure t (3) and generated frame t-1 (3)
  std::int64_t out_channels = 3;
  std::int64_t ngf = 16;
  int downsamples = 2;
  int blocks = 4;
  // Start the output layer at zero weights: the face GAN's residual is then
  // exactly zero before training, so switching it on never hurts a frame.
  bool zero_tail = false;
};

class ConvNormReluImpl : public torch::nn::Module {
 public:
  ConvNormReluImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride,
                   std::int64_t reflect_pad);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::int64_t reflect_pad_;
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::InstanceNorm2d norm_{nullptr};
};
TORCH_MODULE(ConvNormRelu);

class ResidualBlockImpl : public torch::nn::Module {
 public:
  explicit ResidualBlockImpl(std::int64_t channels);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::Conv2d conv2_{nullptr};
  torch::nn::InstanceNorm2d norm1_{nullptr};
  torch::nn::InstanceNorm2d norm2_{nullptr};
};
TORCH_MODULE(ResidualBlock);

class UpBlockImpl : public torch::nn::Module {
 public:
  UpBlockImpl(std::int64_t in, std::int64_t out);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::ConvTranspose2d conv_{nullptr};
  torch::nn::InstanceNorm2d norm_{nullptr};
};
TORCH_MODULE(UpBlock);

class GlobalGeneratorImpl : public torch::nn::Module {
 public:
  explicit GlobalGeneratorImpl(const GeneratorOptions& options);
  // x: N x in_channels x H x W in [-1, 1]; H and W divisible by
  // 2^downsamples. Returns N x out_channels x H x W in [-1, 1].
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ConvNormRelu head_{nullptr};
  std::vector<ConvNormRelu> down_;
  std::vector<ResidualBlock> res_;
  std::vector<UpBlock> up_;
  torch::nn::Conv2d tail_{nullptr};
};
TORCH_MODULE(GlobalGenerator);

// Floating-point operations (2 per multiply-add) of one forward pass on one
// h x w input, counting the convolutions only (norms and activations are a
// few percent).
double generatorFlops(const GeneratorOptions& options, std::int64_t h, std::int64_t w);

}  // namespace booth
