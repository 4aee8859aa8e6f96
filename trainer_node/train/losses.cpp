#include "trainer_node/train/losses.h"

namespace booth {

torch::Tensor lsganLoss(const std::vector<PatchOutputs>& outputs, bool target_real) {
  torch::Tensor total;
  for (const PatchOutputs& scale : outputs) {
    const torch::Tensor& score = scale.back();
    auto term = target_real ? (score - 1).square().mean() : score.square().mean();
    total = total.defined() ? total + term : term;
  }
  return total / static_cast<double>(outputs.size());
}

torch::Tensor featureMatchingLoss(const std::vector<PatchOutputs>& fake,
                                  const std::vector<PatchOutputs>& real) {
  torch::Tensor total;
  const double scale_weight = 1.0 / static_cast<double>(fake.size());
  for (std::size_t s = 0; s < fake.size(); ++s) {
    const std::size_t features = fake[s].size() - 1;  // all but the score map
    const double layer_weight = 4.0 / static_cast<double>(features);
    for (std::size_t l = 0; l < features; ++l) {
      auto term = torch::l1_loss(fake[s][l], real[s][l].detach()) * (scale_weight * layer_weight);
      total = total.defined() ? total + term : term;
    }
  }
  return total;
}

}  // namespace booth
