#include "common/pose/pose_accuracy.h"

#include <cmath>
#include <fstream>
#include <iterator>
#include <utility>

#include <nlohmann/json.hpp>

namespace booth {
namespace {

using C = Coco17;

constexpr Coco17 kBodyJoints[] = {
    C::kLeftShoulder, C::kRightShoulder, C::kLeftElbow, C::kRightElbow,
    C::kLeftWrist,    C::kRightWrist,    C::kLeftHip,   C::kRightHip,
    C::kLeftKnee,     C::kRightKnee,     C::kLeftAnkle, C::kRightAnkle,
};

constexpr std::pair<Coco17, Coco17> kLeftRightPairs[] = {
    {C::kLeftElbow, C::kRightElbow},
    {C::kLeftWrist, C::kRightWrist},
    {C::kLeftKnee, C::kRightKnee},
    {C::kLeftAnkle, C::kRightAnkle},
};

double distance(const Keypoint& a, const Keypoint& b) {
  return std::hypot(static_cast<double>(a.x) - b.x, static_cast<double>(a.y) - b.y);
}

std::optional<double> torsoSize(const Pose& reference) {
  const Keypoint& ls = reference[C::kLeftShoulder];
  const Keypoint& rh = reference[C::kRightHip];
  if (isUsable(ls) && isUsable(rh)) return distance(ls, rh);
  const Keypoint& rs = reference[C::kRightShoulder];
  const Keypoint& lh = reference[C::kLeftHip];
  if (isUsable(rs) && isUsable(lh)) return distance(rs, lh);
  return std::nullopt;
}

}  // namespace

void PoseAccuracy::add(const std::optional<Pose>& estimate, const Pose& reference) {
  const auto torso = torsoSize(reference);
  if (!torso || !(*torso > 0)) return;
  ++frames_;
  for (Coco17 j : kBodyJoints) {
    const Keypoint& ref = reference[j];
    if (!isUsable(ref)) continue;
    ++joints_;
    if (!estimate || !isUsable((*estimate)[j])) {
      ++missed_;
      continue;
    }
    const double e = distance((*estimate)[j], ref);
    error_sum_ += e;
    ++error_count_;
    if (e <= 0.2 * *torso) ++within_torso20_;
    if (e <= 30.0) ++within_30px_;
  }
  if (!estimate) return;
  for (const auto& [l, r] : kLeftRightPairs) {
    const Keypoint& el = (*estimate)[l];
    const Keypoint& er = (*estimate)[r];
    const Keypoint& rl = reference[l];
    const Keypoint& rr = reference[r];
    if (!isUsable(el) || !isUsable(er) || !isUsable(rl) || !isUsable(rr)) continue;
    if (distance(rl, rr) <= 0.2 * *torso) continue;  // the limbs overlap: no way to tell
    const bool l_nearer_left = distance(el, rl) <= distance(el, rr);
    const bool r_nearer_left = distance(er, rl) <= distance(er, rr);
    if (l_nearer_left == r_nearer_left) {
      ++same_limb_frames_;
      break;
    }
  }
}

AccuracySummary PoseAccuracy::summary() const {
  AccuracySummary s;
  s.frames = frames_;
  s.joints = joints_;
  s.missed = missed_;
  s.same_limb_frames = same_limb_frames_;
  if (joints_ > 0) {
    s.pck_torso20 = static_cast<double>(within_torso20_) / joints_;
    s.pck_30px = static_cast<double>(within_30px_) / joints_;
  }
  if (error_count_ > 0) s.mean_px_error = error_sum_ / error_count_;
  if (frames_ > 0) s.same_limb_rate = static_cast<double>(same_limb_frames_) / frames_;
  return s;
}

double PoseAccuracy::jitter(std::span<const std::optional<Pose>> track) {
  double sum = 0;
  int count = 0;
  for (std::size_t t = 1; t + 1 < track.size(); ++t) {
    if (!track[t - 1] || !track[t] || !track[t + 1]) continue;
    for (Coco17 j : kBodyJoints) {
      const Keypoint& a = (*track[t - 1])[j];
      const Keypoint& b = (*track[t])[j];
      const Keypoint& c = (*track[t + 1])[j];
      if (!isUsable(a) || !isUsable(b) || !isUsable(c)) continue;
      sum += std::hypot(static_cast<double>(c.x) - 2.0 * b.x + a.x,
                        static_cast<double>(c.y) - 2.0 * b.y + a.y);
      ++count;
    }
  }
  return count > 0 ? sum / count : 0;
}

Result<std::vector<Pose>> PoseAccuracy::loadReference(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return fail("cannot open reference keypoints " + path.string());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<Pose> frames;
  try {
    const nlohmann::json root = nlohmann::json::parse(text);
    if (!root.is_array()) return fail("reference keypoints " + path.string() + " is not a list");
    for (const auto& frame : root) {
      Pose pose;
      for (const auto& [name, point] : frame.items()) {
        const auto index = coco17Index(name);
        if (!index) continue;
        pose.points[*index] = {point.at("x").get<float>(), point.at("y").get<float>(),
                               point.value("score", 1.f), false};
      }
      frames.push_back(pose);
    }
  } catch (const nlohmann::json::exception& e) {
    return fail("reference keypoints " + path.string() + ": " + e.what());
  }
  return frames;
}

}  // namespace booth
