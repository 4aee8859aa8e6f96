#include "trainer_node/train/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace booth {
namespace {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocastEnabled(torch::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
void setAutocastEnabled(torch::DeviceType d, bool on) { at::autocast::set_autocast_enabled(d, on); }
at::ScalarType autocastDtype(torch::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
void setAutocastDtype(torch::DeviceType d, at::ScalarType t) { at::autocast::set_autocast_dtype(d, t); }
#else
bool autocastEnabled(torch::DeviceType d) {
  return d == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void setAutocastEnabled(torch::DeviceType d, bool on) {
  if (d == torch::kCUDA) {
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_cpu_enabled(on);
  }
}
at::ScalarType autocastDtype(torch::DeviceType d) {
  return d == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                           : at::autocast::get_autocast_cpu_dtype();
}
void setAutocastDtype(torch::DeviceType d, at::ScalarType t) {
  if (d == torch::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(t);
  } else {
    at::autocast::set_autocast_cpu_dtype(t);
  }
}
#endif

}  // namespace

AutocastScope::AutocastScope(bool enabled, torch::DeviceType device, bool cache)
    : enabled_(enabled), device_(device) {
  if (!enabled_) return;
  previous_enabled_ = autocastEnabled(device_);
  previous_dtype_ = autocastDtype(device_);
  previous_cache_ = at::autocast::is_autocast_cache_enabled();
  setAutocastEnabled(device_, true);
  setAutocastDtype(device_, at::kBFloat16);
  at::autocast::set_autocast_cache_enabled(cache);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // As Python's torch.autocast.__exit__: the cast cache lives until the
  // outermost scope ends.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_cache_enabled(previous_cache_);
  setAutocastDtype(device_, previous_dtype_);
  setAutocastEnabled(device_, previous_enabled_);
}

}  // namespace booth
