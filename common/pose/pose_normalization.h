#pragma once
// Global pose normalization (Chan et al. 2018, section 3.1): maps a source
// person's poses onto the target person's size and floor position.
//
// Per video: the farthest (smallest y) and closest (largest y) ankle
// positions, and the person's height near each (nose, or ear midpoint, to
// ankle midpoint). For each source frame its ankle y is interpolated between
// the source's far and close positions; the same fraction between the
// target's gives the target floor position and height. Scale = target height /
// source height at that depth; translation puts the source ankles on the
// target floor. Frames with no usable pose reuse the last transform.
#include <optional>
#include <span>

#include "common/core/keypoints.h"

namespace booth {

struct FloorStats {
  float far_ankle_y = 0.f;
  float close_ankle_y = 0.f;
  float far_height = 0.f;
  float close_height = 0.f;
  float centre_x = 0.f;  // median ankle-midpoint x
};

// nullopt when fewer than 1 frame has ankles and a head point.
std::optional<FloorStats> computeFloorStats(std::span<const Pose> poses);

struct PoseTransform {
  float scale = 1.f;
  float offset_x = 0.f;
  float offset_y = 0.f;
};

class PoseNormalizer {
 public:
  PoseNormalizer(FloorStats source, FloorStats target);
  // Transform for this frame, or the previous one when the pose has no
  // usable ankles (identity before the first usable frame).
  PoseTransform transformFor(const Pose& source_pose);
  Pose apply(const Pose& source_pose);

 private:
  FloorStats source_;
  FloorStats target_;
  PoseTransform last_{};
};

}  // namespace booth
