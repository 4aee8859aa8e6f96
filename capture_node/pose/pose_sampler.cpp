#include "capture_node/pose/pose_sampler.h"

#include <algorithm>
#include <cmath>

namespace booth {

PoseSampler::PoseSampler(double camera_fps, double max_pose_fps) {
  if (camera_fps > 0 && max_pose_fps > 0) {
    every_ = std::clamp(static_cast<int>(std::ceil(camera_fps / max_pose_fps - 1e-9)), 1, 16);
  }
}

}  // namespace booth
