#include "common/pose/one_euro_filter.h"

#include <cmath>
#include <numbers>

namespace booth {
namespace {

// Smoothing factor of an exponential filter with this cutoff at this step.
double alpha(double cutoff_hz, double dt) {
  const double tau = 1.0 / (2 * std::numbers::pi * cutoff_hz);
  return 1.0 / (1.0 + tau / dt);
}

}  // namespace

OneEuroPoseFilter::OneEuroPoseFilter(OneEuroConfig config) : config_(config) {}

void OneEuroPoseFilter::reset() {
  joints_ = {};
  have_time_ = false;
}

double OneEuroPoseFilter::step(Axis& axis, double raw, double dt) const {
  const double speed = (raw - axis.value) / dt;
  axis.speed += alpha(config_.derivative_cutoff_hz, dt) * (speed - axis.speed);
  const double cutoff = config_.min_cutoff_hz + config_.beta * std::abs(axis.speed);
  axis.value += alpha(cutoff, dt) * (raw - axis.value);
  return axis.value;
}

Pose OneEuroPoseFilter::filter(const Pose& raw, double t_seconds) {
  if (have_time_ && !(t_seconds > last_t_)) reset();
  const double dt = have_time_ ? t_seconds - last_t_ : 0;
  have_time_ = true;
  last_t_ = t_seconds;

  Pose out = raw;
  for (int j = 0; j < kCoco17Count; ++j) {
    const Keypoint& k = raw.points[j];
    Joint& joint = joints_[j];
    if (!isUsable(k)) {
      joint.started = false;
      continue;
    }
    if (!joint.started || dt <= 0) {
      joint = Joint{true, {k.x, 0}, {k.y, 0}};
      continue;
    }
    out.points[j].x = static_cast<float>(step(joint.x, k.x, dt));
    out.points[j].y = static_cast<float>(step(joint.y, k.y, dt));
  }
  return out;
}

}  // namespace booth
