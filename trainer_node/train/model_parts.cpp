#include "trainer_node/train/model_parts.h"

#include <stdexcept>

#include "trainer_node/train/face_gan.h"

namespace booth {
namespace {

// pix2pix / pix2pixHD Adam betas; beta1 = 0.5 keeps the GAN game stable.
constexpr double kAdamBeta1 = 0.5;
constexpr double kAdamBeta2 = 0.999;
// Weight init is seeded so that two models created with the same config
// start identical: runs are reproducible and tests can compare outputs.
constexpr std::uint64_t kInitSeed = 20180822;

std::unique_ptr<FlatAdam> adamFor(torch::nn::Module& module) {
  return std::make_unique<FlatAdam>(module.parameters(), kAdamBeta1, kAdamBeta2);
}

}  // namespace

GeneratorOptions generatorOptions(const ModelConfig& c) {
  GeneratorOptions o;
  // Stick figure t, generated frame t-1, and the warp generator's warped
  // reference with its mask.
  o.in_channels = c.generator == GeneratorKind::kWarp ? 6 + kWarpChannels : 6;
  o.out_channels = 3;
  o.ngf = c.ngf;
  o.downsamples = c.downsamples;
  o.blocks = c.blocks;
  return o;
}

DiscriminatorOptions discriminatorOptions(const ModelConfig& c) {
  DiscriminatorOptions o;
  o.in_channels = 12;  // stick figures t-1 and t, frames t-1 and t
  o.ndf = c.ndf;
  o.layers = c.d_layers;
  o.scales = c.d_scales;
  return o;
}

torch::Tensor generatorInput(const ModelParts& parts, const torch::Tensor& stick,
                             const torch::Tensor& previous, const torch::Tensor& warp) {
  if (parts.config.generator != GeneratorKind::kWarp) return torch::cat({stick, previous}, 1);
  if (!warp.defined())
    throw std::invalid_argument("the warp generator needs a warped reference for every frame");
  return torch::cat({stick, previous, warp}, 1);
}

ModelParts::ModelParts(const ModelConfig& c, torch::Device d) : config(c), device(d) {
  torch::manual_seed(kInitSeed);
  generator = GlobalGenerator(generatorOptions(c));
  discriminator = MultiscaleDiscriminator(discriminatorOptions(c));
  face_generator = GlobalGenerator(faceGeneratorOptions(c));
  face_discriminator = MultiscaleDiscriminator(faceDiscriminatorOptions(c));
  // Move first, then flatten: the optimizers' buffers must be on the device.
  generator->to(device);
  discriminator->to(device);
  face_generator->to(device);
  face_discriminator->to(device);
  generator_opt = adamFor(*generator);
  discriminator_opt = adamFor(*discriminator);
  face_generator_opt = adamFor(*face_generator);
  face_discriminator_opt = adamFor(*face_discriminator);
}

}  // namespace booth
