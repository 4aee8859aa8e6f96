#pragma once
// OneEuroPoseFilter: a causal low-pass filter for live keypoints (Casiez,
// Roussel, Vogel, "1 Euro Filter", CHI 2012), one per coordinate of each
// joint. The cutoff rises with speed (min_cutoff_hz + beta * |speed|), so a
// still joint is smoothed hard and a fast one follows with little lag. It
// needs no look-ahead: for the live preview. Training data go through
// FixedLagSmoother instead.
//
// A joint that is not usable (isUsable) in a frame is passed through as it
// came and its filter restarts, so a joint that reappears does not glide in
// from where it was lost. reset() restarts every joint: call it when the
// tracker loses the person. A timestamp that does not increase also
// restarts the filter (a new stream).
//
// Not thread-safe; one filter per tracked person.
#include <array>

#include "common/core/keypoints.h"

namespace booth {

struct OneEuroConfig {
  double min_cutoff_hz = 1.0;  // cutoff of a still joint: lower = smoother, laggier
  double beta = 0.02;          // cutoff gain per pixel/second of speed: higher = less lag
  double derivative_cutoff_hz = 1.0;  // smoothing of the speed estimate itself
};

class OneEuroPoseFilter {
 public:
  explicit OneEuroPoseFilter(OneEuroConfig config);
  // The filtered pose at time `t_seconds`. Confidence and imputed flags are
  // the raw ones.
  Pose filter(const Pose& raw, double t_seconds);
  void reset();

 private:
  struct Axis {
    double value = 0;
    double speed = 0;
  };
  struct Joint {
    bool started = false;
    Axis x;
    Axis y;
  };

  double step(Axis& axis, double raw, double dt) const;

  OneEuroConfig config_;
  std::array<Joint, kCoco17Count> joints_{};
  bool have_time_ = false;
  double last_t_ = 0;
};

}  // namespace booth
