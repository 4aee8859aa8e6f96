#pragma once
// ReferencePool: the visitor's own frames that the warp generator's
// reference comes from, and which of them to warp for a target pose.
// libtorch-free (OpenCV only).
//
// The reference for a target pose is the frame whose pose is nearest by
// limb orientation: the mean difference in direction over the body limbs
// both poses show (meanLimbAngleDistance, pose_coverage.h). Part-wise
// warping then carries that frame's pixels to the target (part_warp.h).
//
// Training must not warp a frame onto itself (the generator would learn to
// copy its input, and a clip's poses are the ones the visitor did not
// make): a training frame's candidates skip the frames around it in time
// (trainingCandidates). Rendering keeps its reference while it is still
// nearly the best (choose): a reference that flips between two frames of
// almost the same pose makes the clip flicker.
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include <opencv2/core.hpp>

#include "common/core/keypoints.h"
#include "common/core/result.h"
#include "trainer_node/train/part_warp.h"

namespace booth {

// A training frame's candidates skip this fraction of the clip's frames on
// either side of it (at least one frame): 0.05 of a 15 s session is 0.75 s.
inline constexpr double kReferenceExclusionFraction = 0.05;
// Rendering switches to a new reference only when it is nearer than the
// one in use by more than this (mean over the 12 body limbs: 1.5 is one
// limb turned by 18 degrees).
inline constexpr double kReferenceHysteresisDegrees = 1.5;

class ReferencePool {
 public:
  ReferencePool() = default;
  // frames[i] (CV_8UC3, all of one size) shows poses[i]. Fails when the
  // counts differ, a frame is of another type or size, or no pose has a
  // torso (nothing could be warped).
  static Result<ReferencePool> create(std::span<const cv::Mat> frames, std::span<const Pose> poses);

  std::size_t size() const { return poses_.size(); }
  bool empty() const { return poses_.empty(); }
  const Pose& pose(std::size_t i) const { return poses_[i]; }

  // Up to k frame indices, nearest first, leaving out [skip_begin, skip_end)
  // and frames whose pose compares with `target` on no limb.
  std::vector<std::size_t> nearest(const Pose& target, std::size_t k, std::size_t skip_begin = 0,
                                   std::size_t skip_end = 0) const;
  // The k nearest references for the pool's own frame `frame`, skipping
  // the frames within kReferenceExclusionFraction of the pool on either
  // side; when that leaves none, only the frame itself is skipped; a pool
  // of one frame gives that frame.
  std::vector<std::size_t> trainingCandidates(std::size_t frame, std::size_t k) const;
  // The reference to render `target` from: the nearest, unless `current`
  // (the previous frame's choice) is within kReferenceHysteresisDegrees of
  // it. nullopt when no frame compares.
  std::optional<std::size_t> choose(const Pose& target, std::optional<std::size_t> current) const;

  WarpedReference warp(std::size_t index, const Pose& target) const;

 private:
  std::vector<cv::Mat> frames_;  // shallow copies: the pixels are shared with the caller's
  std::vector<Pose> poses_;
};

}  // namespace booth
