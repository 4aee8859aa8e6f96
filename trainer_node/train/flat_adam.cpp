#include "trainer_node/train/flat_adam.h"

#include <cmath>

namespace booth {

FlatAdam::FlatAdam(std::vector<torch::Tensor> parameters, double beta1, double beta2, double eps)
    : parameters_(std::move(parameters)), beta1_(beta1), beta2_(beta2), eps_(eps) {
  std::int64_t total = 0;
  for (const auto& p : parameters_) total += p.numel();
  const auto options = parameters_.empty() ? torch::TensorOptions(torch::kFloat32)
                                           : parameters_.front().options();
  flat_ = torch::empty({total}, options.requires_grad(false));
  grad_ = torch::zeros({total}, options.requires_grad(false));
  std::int64_t offset = 0;
  torch::NoGradGuard no_grad;
  for (auto& p : parameters_) {
    const auto n = p.numel();
    auto view = flat_.narrow(0, offset, n).view(p.sizes());
    view.copy_(p);
    p.set_data(view);
    p.mutable_grad() = grad_.narrow(0, offset, n).view(p.sizes());
    offset += n;
  }
  exp_avg_ = torch::zeros_like(flat_);
  exp_avg_sq_ = torch::zeros_like(flat_);
  step_size_ = torch::zeros({}, options.requires_grad(false));
  inv_bias2_sqrt_ = torch::ones({}, options.requires_grad(false));
}

void FlatAdam::zeroGrad() {
  grad_.zero_();
  std::int64_t offset = 0;
  for (auto& p : parameters_) {
    const auto n = p.numel();
    const auto* expected = static_cast<const char*>(grad_.data_ptr()) + offset * grad_.element_size();
    if (!p.grad().defined() || p.grad().data_ptr() != expected) {
      p.mutable_grad() = grad_.narrow(0, offset, n).view(p.sizes());
    }
    offset += n;
  }
}

void FlatAdam::prepare(double lr) {
  ++steps_;
  const double bias1 = 1.0 - std::pow(beta1_, static_cast<double>(steps_));
  const double bias2 = 1.0 - std::pow(beta2_, static_cast<double>(steps_));
  step_size_.fill_(lr / bias1);
  inv_bias2_sqrt_.fill_(1.0 / std::sqrt(bias2));
}

void FlatAdam::apply() {
  torch::NoGradGuard no_grad;
  exp_avg_.mul_(beta1_).add_(grad_, 1.0 - beta1_);
  exp_avg_sq_.mul_(beta2_).addcmul_(grad_, grad_, 1.0 - beta2_);
  auto denom = exp_avg_sq_.sqrt().mul_(inv_bias2_sqrt_).add_(eps_);
  flat_.sub_(exp_avg_.div(denom).mul_(step_size_));
}

void FlatAdam::step(double lr) {
  prepare(lr);
  apply();
}

void FlatAdam::reset() {
  torch::NoGradGuard no_grad;
  exp_avg_.zero_();
  exp_avg_sq_.zero_();
  steps_ = 0;
}

void FlatAdam::save(torch::serialize::OutputArchive& archive, const std::string& prefix) const {
  archive.write(prefix + ".exp_avg", exp_avg_);
  archive.write(prefix + ".exp_avg_sq", exp_avg_sq_);
  archive.write(prefix + ".steps", torch::tensor({steps_}, torch::kInt64));
}

Status FlatAdam::load(torch::serialize::InputArchive& archive, const std::string& prefix) {
  torch::Tensor m, v, steps;
  if (!archive.try_read(prefix + ".exp_avg", m) || !archive.try_read(prefix + ".exp_avg_sq", v) ||
      !archive.try_read(prefix + ".steps", steps))
    return fail("no optimizer state '" + prefix + "'");
  if (m.numel() != flat_.numel() || v.numel() != flat_.numel() || steps.numel() != 1)
    return fail("optimizer state '" + prefix + "' holds " + std::to_string(m.numel()) +
                " values, the model has " + std::to_string(flat_.numel()));
  torch::NoGradGuard no_grad;
  exp_avg_.copy_(m.view_as(exp_avg_));
  exp_avg_sq_.copy_(v.view_as(exp_avg_sq_));
  steps_ = steps.to(torch::kCPU, torch::kInt64).item<std::int64_t>();
  return okStatus();
}

}  // namespace booth
