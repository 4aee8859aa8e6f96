#pragma once
// Multi-scale PatchGAN discriminator (pix2pixHD): `scales` PatchGANs, the
// first on the input, each next one on the input average-pooled once more.
// Every PatchGAN returns the output of each of its layers: the last is the
// real/fake score map (LSGAN, raw scores), the others feed the feature-
// matching loss. Internal to trainer_node/train/ (includes libtorch).
//
// Named submodules: "scale1".."scaleK", each with "layer1".."layerN+1" and
// "score". Kernel 4 with padding 2 as in pix2pixHD, so maps never shrink to
// nothing: any input of at least 8 pixels gives a score map.
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace booth {

struct DiscriminatorOptions {
  std::int64_t in_channels = 12;  // stick t-1, stick t, frame t-1, frame t
  std::int64_t ndf = 32;
  int layers = 3;
  int scales = 2;
};

// Outputs of one PatchGAN: features of each layer, then the score map.
using PatchOutputs = std::vector<torch::Tensor>;

class PatchDiscriminatorImpl : public torch::nn::Module {
 public:
  PatchDiscriminatorImpl(std::int64_t in_channels, std::int64_t ndf, int layers);
  PatchOutputs forward(const torch::Tensor& x);

 private:
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<torch::nn::InstanceNorm2d> norms_;  // undefined for the first layer
  torch::nn::Conv2d score_{nullptr};
};
TORCH_MODULE(PatchDiscriminator);

class MultiscaleDiscriminatorImpl : public torch::nn::Module {
 public:
  explicit MultiscaleDiscriminatorImpl(const DiscriminatorOptions& options);
  // One PatchOutputs per scale, full resolution first.
  std::vector<PatchOutputs> forward(const torch::Tensor& x);
  int layers() const { return layers_; }

 private:
  int layers_;
  std::vector<PatchDiscriminator> scales_;
};
TORCH_MODULE(MultiscaleDiscriminator);

// Floating-point operations (2 per multiply-add) of one forward pass on one
// h x w input, convolutions only.
double discriminatorFlops(const DiscriminatorOptions& options, std::int64_t h, std::int64_t w);

}  // namespace booth
