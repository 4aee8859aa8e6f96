#pragma once
// Pose coverage, for the quality yardstick: how far a pose is from the
// poses a model was trained on, so that a clip's frames can be scored
// apart as "seen" (the visitor made a pose like it) and "unseen" (the
// choreography asks for a pose the visitor never made), and the arm pixels
// of a pose (the limbs that travel furthest from a visitor's own poses).
// libtorch-free (OpenCV only).
//
// Distance between two poses: the largest difference in direction, in
// degrees (0..180), over the 12 body limbs of coco17Limbs() (shoulders,
// upper arms, forearms, flanks, hips, thighs, shins; the face's 4 are left
// out). A limb counts only where both poses have both of its ends usable.
// Directions do not depend on where the person stands or how big they are
// in the picture, so poses from different crops compare directly.
#include <span>

#include <opencv2/core.hpp>

#include "common/core/keypoints.h"

namespace booth {

// Above this distance to every training pose, a pose is unseen.
inline constexpr double kUnseenPoseDegrees = 30.0;
// The body limbs: the first kBodyLimbCount entries of coco17Limbs().
inline constexpr int kBodyLimbCount = 12;

// NaN when no body limb is usable in both poses.
double limbAngleDistance(const Pose& a, const Pose& b);
// The mean instead of the largest difference over the same limbs: how the
// warp generator ranks its reference frames (warp_references.h), where
// every limb's fit counts, not only the worst one's. NaN as above.
double meanLimbAngleDistance(const Pose& a, const Pose& b);

// The smallest limbAngleDistance from `pose` to any of `references`
// (incomparable ones skipped); +infinity when none compares.
double nearestPoseDistance(const Pose& pose, std::span<const Pose> references);

// CV_8U mask (255 = arm) of `size`: upper arms and forearms of both sides
// drawn as lines `thickness` pixels wide with round ends, where both ends
// of a limb are usable.
cv::Mat armMask(const Pose& pose, cv::Size size, int thickness);

}  // namespace booth
