#include "trainer_node/train/warp_references.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "trainer_node/train/pose_coverage.h"

namespace booth {

Result<ReferencePool> ReferencePool::create(std::span<const cv::Mat> frames,
                                            std::span<const Pose> poses) {
  if (frames.size() != poses.size())
    return fail("reference frames: " + std::to_string(frames.size()) + " frames but " +
                std::to_string(poses.size()) + " poses");
  ReferencePool pool;
  bool any_torso = false;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const cv::Mat& f = frames[i];
    if (f.type() != CV_8UC3 || f.size() != frames.front().size())
      return fail("reference frame " + std::to_string(i) + " is " + std::to_string(f.cols) + "x" +
                  std::to_string(f.rows) + " of type " + std::to_string(f.type()) +
                  ", expected 8-bit BGR of " + std::to_string(frames.front().cols) + "x" +
                  std::to_string(frames.front().rows));
    any_torso = any_torso || torsoLength(poses[i]).has_value();
    pool.frames_.push_back(f);
    pool.poses_.push_back(poses[i]);
  }
  if (!any_torso)
    return fail("none of the " + std::to_string(frames.size()) +
                " reference frames shows both shoulders and both hips; the warp generator has "
                "nothing to warp");
  return pool;
}

std::vector<std::size_t> ReferencePool::nearest(const Pose& target, std::size_t k,
                                                std::size_t skip_begin, std::size_t skip_end) const {
  std::vector<std::pair<double, std::size_t>> ranked;
  ranked.reserve(poses_.size());
  for (std::size_t i = 0; i < poses_.size(); ++i) {
    if (i >= skip_begin && i < skip_end) continue;
    const double d = meanLimbAngleDistance(target, poses_[i]);
    if (!std::isnan(d)) ranked.emplace_back(d, i);
  }
  const std::size_t n = std::min(k, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end());
  std::vector<std::size_t> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back(ranked[i].second);
  return out;
}

std::vector<std::size_t> ReferencePool::trainingCandidates(std::size_t frame, std::size_t k) const {
  const auto window = std::max<std::size_t>(
      1, static_cast<std::size_t>(std::lround(kReferenceExclusionFraction * static_cast<double>(size()))));
  const Pose& target = poses_[frame];
  auto out = nearest(target, k, frame >= window ? frame - window : 0, frame + window + 1);
  if (out.empty()) out = nearest(target, k, frame, frame + 1);
  if (out.empty()) out.push_back(frame);
  return out;
}

std::optional<std::size_t> ReferencePool::choose(const Pose& target,
                                                 std::optional<std::size_t> current) const {
  const auto best = nearest(target, 1);
  if (best.empty()) return std::nullopt;
  if (current && *current < poses_.size() && *current != best.front()) {
    const double kept = meanLimbAngleDistance(target, poses_[*current]);
    const double nearest_d = meanLimbAngleDistance(target, poses_[best.front()]);
    if (!std::isnan(kept) && kept - nearest_d <= kReferenceHysteresisDegrees) return current;
  }
  return best.front();
}

WarpedReference ReferencePool::warp(std::size_t index, const Pose& target) const {
  return warpReference(frames_[index], poses_[index], target);
}

}  // namespace booth
