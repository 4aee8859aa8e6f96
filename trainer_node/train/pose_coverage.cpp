#include "trainer_node/train/pose_coverage.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

using C = Coco17;

bool usable(const Pose& pose, const Limb& limb) { return isUsable(pose[limb.a]) && isUsable(pose[limb.b]); }

double direction(const Pose& pose, const Limb& limb) {
  return std::atan2(pose[limb.b].y - pose[limb.a].y, pose[limb.b].x - pose[limb.a].x);
}

}  // namespace

double limbAngleDistance(const Pose& a, const Pose& b) {
  const auto limbs = coco17Limbs().first(kBodyLimbCount);
  double largest = -1;
  for (const Limb& limb : limbs) {
    if (!usable(a, limb) || !usable(b, limb)) continue;
    double d = std::abs(direction(a, limb) - direction(b, limb));
    if (d > std::numbers::pi) d = 2 * std::numbers::pi - d;
    largest = std::max(largest, d * 180.0 / std::numbers::pi);
  }
  return largest < 0 ? std::numeric_limits<double>::quiet_NaN() : largest;
}

double nearestPoseDistance(const Pose& pose, std::span<const Pose> references) {
  double nearest = std::numeric_limits<double>::infinity();
  for (const Pose& r : references) {
    const double d = limbAngleDistance(pose, r);
    if (!std::isnan(d)) nearest = std::min(nearest, d);
  }
  return nearest;
}

cv::Mat armMask(const Pose& pose, cv::Size size, int thickness) {
  cv::Mat mask(size, CV_8U, cv::Scalar(0));
  const Limb arms[] = {{C::kLeftShoulder, C::kLeftElbow},
                       {C::kLeftElbow, C::kLeftWrist},
                       {C::kRightShoulder, C::kRightElbow},
                       {C::kRightElbow, C::kRightWrist}};
  for (const Limb& limb : arms) {
    if (!usable(pose, limb)) continue;
    // Sub-pixel coordinates (4 fractional bits), as the stick figure draws.
    constexpr int kShift = 4;
    auto at = [&](C j) {
      return cv::Point(static_cast<int>(std::lround(pose[j].x * (1 << kShift))),
                       static_cast<int>(std::lround(pose[j].y * (1 << kShift))));
    };
    cv::line(mask, at(limb.a), at(limb.b), cv::Scalar(255), std::max(1, thickness), cv::LINE_8,
             kShift);
  }
  return mask;
}

}  // namespace booth
