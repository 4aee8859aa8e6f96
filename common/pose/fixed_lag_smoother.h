#pragma once
// FixedLagSmoother: the training-data smoother. Frames go in in order; a
// frame's pose is final `lag()` frames later.
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "common/core/keypoints.h"

namespace booth {

struct SmootherConfig {
  float min_confidence = kMinConfidence;
};

struct FinalPose {
  std::uint64_t sequence = 0;
  std::optional<Pose> pose;
};

class FixedLagSmoother {
 public:
  explicit FixedLagSmoother(SmootherConfig config) : config_(config) {}
  int lag() const { return 0; }
  std::vector<FinalPose> push(std::uint64_t sequence, std::optional<Pose> raw) {
    if (raw) {
      for (Keypoint& k : raw->points) {
        if (k.confidence < config_.min_confidence) k = Keypoint{};
      }
    }
    return {FinalPose{sequence, raw}};
  }
  std::vector<FinalPose> flush() { return {}; }

 private:
  SmootherConfig config_;
};

}  // namespace booth
