#pragma once
// Adam (Kingma & Ba) over parameters that live in one contiguous buffer.
// Internal to trainer_node/train/ (includes libtorch).
//
// Why not torch::optim::Adam: libtorch's Adam loops over every parameter
// (a dozen kernels each) and keeps its step count and bias corrections on
// the host, so a CUDA graph cannot replay it. Here the parameters and their
// gradients are views into two flat buffers, the update is five kernels
// whatever the model, and the step size lives in device tensors that are
// refreshed before each step: the update can be captured in a CUDA graph.
//
// Contract: construct after the module is on its final device and never
// move it again (a move would replace the parameters' storage). Load
// weights by copying into the parameters, never by replacing them. Never
// call Module::zero_grad (it would detach the gradient views); use
// zeroGrad().
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "common/core/result.h"

namespace booth {

class FlatAdam {
 public:
  FlatAdam(std::vector<torch::Tensor> parameters, double beta1, double beta2, double eps = 1e-8);

  // Zeroes the gradients (and re-attaches a gradient view that something
  // replaced).
  void zeroGrad();
  // One update with learning rate `lr`; counts the step.
  void step(double lr);
  // The two halves of step() for CUDA graphs: prepare() writes the step
  // size for the next step into device tensors (outside the graph), apply()
  // launches the update kernels (inside the graph).
  void prepare(double lr);
  void apply();
  // Forgets the moments and the step count (fine-tuning from a base starts
  // with a fresh optimizer).
  void reset();

  std::int64_t steps() const { return steps_; }
  // Every parameter, flattened (a view: writing it writes the weights).
  torch::Tensor& flatParameters() { return flat_; }
  const torch::Tensor& flatParameters() const { return flat_; }
  std::int64_t parameterCount() const { return flat_.numel(); }
  // Every gradient, flattened (a view: the next apply() uses it).
  torch::Tensor& flatGradients() { return grad_; }

  void save(torch::serialize::OutputArchive& archive, const std::string& prefix) const;
  // Fails (leaving the state as it was) when the stored sizes differ.
  Status load(torch::serialize::InputArchive& archive, const std::string& prefix);

 private:
  std::vector<torch::Tensor> parameters_;
  torch::Tensor flat_;
  torch::Tensor grad_;
  torch::Tensor exp_avg_;
  torch::Tensor exp_avg_sq_;
  torch::Tensor step_size_;        // 0-dim, device: lr / (1 - beta1^t)
  torch::Tensor inv_bias2_sqrt_;   // 0-dim, device: 1 / sqrt(1 - beta2^t)
  double beta1_, beta2_, eps_;
  std::int64_t steps_ = 0;
};

}  // namespace booth
