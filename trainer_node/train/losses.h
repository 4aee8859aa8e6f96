#pragma once
// The losses of pix2pixHD / Everybody Dance Now, without the VGG
// perceptual loss (its pretrained weights cannot be downloaded here).
// Internal to trainer_node/train/ (includes libtorch).
#include <vector>

#include <torch/torch.h>

#include "trainer_node/train/discriminator.h"

namespace booth {

// LSGAN (Mao et al. 2017): mean over scales of mean((score - target)^2),
// target 1 for "real", 0 for "fake". Uses the last output of each scale.
torch::Tensor lsganLoss(const std::vector<PatchOutputs>& outputs, bool target_real);

// Discriminator feature matching (pix2pixHD): L1 between the intermediate
// features of fake and real inputs, weighted 4 / (layers + 1) per layer and
// 1 / scales per scale. The real features are treated as constants.
torch::Tensor featureMatchingLoss(const std::vector<PatchOutputs>& fake,
                                  const std::vector<PatchOutputs>& real);

}  // namespace booth
