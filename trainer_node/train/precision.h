#pragma once
// Mixed precision: AutocastScope runs the code in its scope under libtorch's
// autocast with bfloat16 on the model's device type (CUDA or CPU); weights,
// gradients and the optimizer stay float32. Internal to trainer_node/train/
// (includes libtorch). The autocast API changed in PyTorch 2.4; both
// spellings are handled here, nowhere else.
#include <torch/torch.h>

namespace booth {

class AutocastScope {
 public:
  // enabled == false: a no-op scope. cache: autocast's weight-cast cache;
  // must be off while a CUDA graph is being captured.
  AutocastScope(bool enabled, torch::DeviceType device, bool cache = true);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_;
  torch::DeviceType device_;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
  bool previous_cache_ = true;
};

}  // namespace booth
