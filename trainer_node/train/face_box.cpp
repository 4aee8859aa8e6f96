#include "trainer_node/train/face_box.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace booth {
namespace {

// A quarter of the nose-to-ankle height: the synthetic performers' hair and
// face span about 0.15 of it, so the box keeps some neck and background
// around the head for the face discriminator to judge the edges.
constexpr float kFaceBoxFraction = 0.25f;
constexpr int kMinFaceBoxSide = 16;

bool usable(const Keypoint& k) { return k.valid() && std::isfinite(k.x) && std::isfinite(k.y); }

}  // namespace

int faceBoxSide(float height_px, int max_side) {
  int side = static_cast<int>(std::ceil(std::max(0.f, height_px) * kFaceBoxFraction / 4.f)) * 4;
  side = std::max(side, kMinFaceBoxSide);
  return std::min(side, max_side);
}

std::optional<cv::Point2f> headCentre(const Pose& pose) {
  const Keypoint& l_ear = pose[Coco17::kLeftEar];
  const Keypoint& r_ear = pose[Coco17::kRightEar];
  if (usable(l_ear) && usable(r_ear)) return cv::Point2f((l_ear.x + r_ear.x) / 2, (l_ear.y + r_ear.y) / 2);
  const Keypoint& l_eye = pose[Coco17::kLeftEye];
  const Keypoint& r_eye = pose[Coco17::kRightEye];
  if (usable(l_eye) && usable(r_eye)) return cv::Point2f((l_eye.x + r_eye.x) / 2, (l_eye.y + r_eye.y) / 2);
  const Keypoint& nose = pose[Coco17::kNose];
  if (usable(nose)) return cv::Point2f(nose.x, nose.y);
  return std::nullopt;
}

std::optional<cv::Rect> faceBox(const Pose& pose, int side, cv::Size image) {
  if (side <= 0 || side > image.width || side > image.height) return std::nullopt;
  const auto centre = headCentre(pose);
  if (!centre || centre->x < 0 || centre->y < 0 || centre->x >= image.width ||
      centre->y >= image.height)
    return std::nullopt;
  const int x = std::clamp(static_cast<int>(std::lround(centre->x - side / 2.f)), 0, image.width - side);
  const int y = std::clamp(static_cast<int>(std::lround(centre->y - side / 2.f)), 0, image.height - side);
  return cv::Rect(x, y, side, side);
}

std::vector<std::pair<std::int64_t, std::int64_t>> faceCropRuns(
    std::span<const std::pair<std::int64_t, std::int64_t>> clip_ranges,
    std::span<const std::optional<cv::Rect>> boxes, std::int64_t run_frames, std::uint64_t seed) {
  std::vector<std::pair<std::int64_t, std::int64_t>> runs;
  const std::int64_t step = std::max<std::int64_t>(1, run_frames);
  const auto n = static_cast<std::int64_t>(boxes.size());
  for (const auto& [begin, end] : clip_ranges) {
    for (std::int64_t b = std::max<std::int64_t>(0, begin); b < std::min(end, n); b += step) {
      const std::int64_t e = std::min({end, n, b + step});
      bool any_box = false;
      for (std::int64_t i = b; i < e; ++i) any_box = any_box || boxes[static_cast<std::size_t>(i)].has_value();
      if (any_box) runs.emplace_back(b, e);
    }
  }
  std::mt19937_64 rng(seed);
  std::shuffle(runs.begin(), runs.end(), rng);
  return runs;
}

}  // namespace booth
