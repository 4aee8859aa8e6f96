#include "common/pose/pose_normalization.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/core/types.hpp>

namespace booth {
namespace {

// Far and close are robust extremes: percentiles of the ankle y, so a few
// mis-detected frames (a foot found on the wall) cannot set them.
constexpr float kFarPercentile = 0.05f;
constexpr float kClosePercentile = 0.95f;
// Heights are taken from frames whose ankle y is within this fraction of the
// far-close range (at least kMinBandPx) of the extreme.
constexpr float kBandFraction = 0.1f;
constexpr float kMinBandPx = 2.f;
// A person whose ankle y spans less than this fraction of their height (or
// one pixel) did not move in depth: far and close are treated as one place.
constexpr float kMinDepthRangeFraction = 0.02f;

// Midpoint of the ankles, or the one ankle that is seen.
std::optional<cv::Point2f> anklePoint(const Pose& pose) {
  const Keypoint& l = pose[Coco17::kLeftAnkle];
  const Keypoint& r = pose[Coco17::kRightAnkle];
  if (isUsable(l) && isUsable(r)) return cv::Point2f{(l.x + r.x) / 2, (l.y + r.y) / 2};
  if (isUsable(l)) return cv::Point2f{l.x, l.y};
  if (isUsable(r)) return cv::Point2f{r.x, r.y};
  return std::nullopt;
}

// Top of the measured height: the nose, or the midpoint of the ears.
std::optional<float> headY(const Pose& pose) {
  const Keypoint& nose = pose[Coco17::kNose];
  if (isUsable(nose)) return nose.y;
  const Keypoint& l = pose[Coco17::kLeftEar];
  const Keypoint& r = pose[Coco17::kRightEar];
  if (isUsable(l) && isUsable(r)) return (l.y + r.y) / 2;
  return std::nullopt;
}

// Linear-interpolated percentile of a non-empty vector (reordered in place).
float percentile(std::vector<float>& values, float q) {
  std::sort(values.begin(), values.end());
  const float pos = q * static_cast<float>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (values[hi] - values[lo]) * (pos - static_cast<float>(lo));
}

float median(std::vector<float> values) { return percentile(values, 0.5f); }

float depthRangeThreshold(float height) { return std::max(1.f, kMinDepthRangeFraction * height); }

bool movedInDepth(const FloorStats& s) {
  return s.close_ankle_y - s.far_ankle_y >=
         depthRangeThreshold(0.5f * (s.far_height + s.close_height));
}

}  // namespace

std::optional<FloorStats> computeFloorStats(std::span<const Pose> poses) {
  struct Sample {
    float ankle_x;
    float ankle_y;
    float height;
  };
  std::vector<Sample> samples;
  for (const Pose& pose : poses) {
    const auto ankle = anklePoint(pose);
    const auto head = headY(pose);
    if (!ankle || !head) continue;
    const float height = ankle->y - *head;
    if (height <= 0.f) continue;  // upside down or a bad detection: no height to learn from
    samples.push_back({ankle->x, ankle->y, height});
  }
  if (samples.empty()) return std::nullopt;

  std::vector<float> ankle_y;
  std::vector<float> ankle_x;
  std::vector<float> heights;
  for (const Sample& s : samples) {
    ankle_y.push_back(s.ankle_y);
    ankle_x.push_back(s.ankle_x);
    heights.push_back(s.height);
  }

  FloorStats stats;
  stats.centre_x = median(ankle_x);
  stats.far_ankle_y = percentile(ankle_y, kFarPercentile);
  stats.close_ankle_y = percentile(ankle_y, kClosePercentile);
  const float overall_height = median(heights);
  const float range = stats.close_ankle_y - stats.far_ankle_y;
  if (range < depthRangeThreshold(overall_height)) {
    stats.far_height = overall_height;
    stats.close_height = overall_height;
    return stats;
  }

  const float band = std::max(kMinBandPx, kBandFraction * range);
  const float tallest = *std::max_element(heights.begin(), heights.end());
  auto heightNear = [&](float y) {
    std::vector<float> near;
    for (const Sample& s : samples) {
      if (std::abs(s.ankle_y - y) <= band) near.push_back(s.height);
    }
    return near.empty() ? tallest : median(std::move(near));
  };
  stats.far_height = heightNear(stats.far_ankle_y);
  stats.close_height = heightNear(stats.close_ankle_y);
  return stats;
}

PoseNormalizer::PoseNormalizer(FloorStats source, FloorStats target)
    : source_(source), target_(target) {}

PoseTransform PoseNormalizer::transformFor(const Pose& source_pose) {
  const auto ankle = anklePoint(source_pose);
  if (!ankle) return last_;

  const bool source_depth = movedInDepth(source_);
  const float source_range = source_.close_ankle_y - source_.far_ankle_y;
  const float target_range = target_.close_ankle_y - target_.far_ankle_y;
  // Where this frame stands between the source's far and close ankle
  // positions. Not clamped for the floor position (the map of ankle y stays
  // linear, so steps beyond the extremes still move), clamped for heights so
  // that extrapolation cannot shrink a height to zero.
  const float frac = source_depth ? (ankle->y - source_.far_ankle_y) / source_range : 0.5f;
  const float clamped = std::clamp(frac, 0.f, 1.f);
  const float source_height =
      source_.far_height + clamped * (source_.close_height - source_.far_height);
  const float target_height =
      target_.far_height + clamped * (target_.close_height - target_.far_height);
  if (!(source_height > 0.f) || !(target_height > 0.f)) return last_;

  PoseTransform transform;
  transform.scale = target_height / source_height;
  float target_y = target_.far_ankle_y + frac * target_range;
  if (!source_depth) {
    // The source stood on one line: keep its small vertical moves (a jump,
    // a lifted foot), scaled, around the middle of the target's floor.
    const float source_mid = 0.5f * (source_.far_ankle_y + source_.close_ankle_y);
    target_y += (ankle->y - source_mid) * transform.scale;
  }
  transform.offset_y = target_y - ankle->y * transform.scale;
  transform.offset_x = target_.centre_x - source_.centre_x * transform.scale;
  last_ = transform;
  return transform;
}

Pose PoseNormalizer::apply(const Pose& source_pose) {
  const PoseTransform t = transformFor(source_pose);
  return transformPose(source_pose, t.scale, t.offset_x, t.offset_y);
}

}  // namespace booth
