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

// Calls f(degrees) for every body limb usable in both poses.
template <typename F>
void forEachLimbTurn(const Pose& a, const Pose& b, F&& f) {
  for (const Limb& limb : coco17Limbs().first(kBodyLimbCount)) {
    if (!usable(a, limb) || !usable(b, limb)) continue;
    double d = std::abs(direction(a, limb) - direction(b, limb));
    if (d > std::numbers::pi) d = 2 * std::numbers::pi - d;
    f(d * 180.0 / std::numbers::pi);
  }
}

}  // namespace

double limbAngleDistance(const Pose& a, const Pose& b) {
  double largest = -1;
  forEachLimbTurn(a, b, [&](double d) { largest = std::max(largest, d); });
  return largest < 0 ? std::numeric_limits<double>::quiet_NaN() : largest;
}

double meanLimbAngleDistance(const Pose& a, const Pose& b) {
  double sum = 0;
  int n = 0;
  forEachLimbTurn(a, b, [&](double d) {
    sum += d;
    ++n;
  });
  return n == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / n;
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
