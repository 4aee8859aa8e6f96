#pragma once
// Keypoint layouts. COCO-17 is the canonical layout of the whole project;
// OpenPose COCO-18 (the layout of OpenPose-style networks, with a neck) is
// converted at the edge with fromOpenPose18 / toOpenPose18.
#include <array>
#include <cmath>
#include <optional>
#include <span>
#include <string_view>

namespace booth {

enum class Coco17 : int {
  kNose = 0,
  kLeftEye,
  kRightEye,
  kLeftEar,
  kRightEar,
  kLeftShoulder,
  kRightShoulder,
  kLeftElbow,
  kRightElbow,
  kLeftWrist,
  kRightWrist,
  kLeftHip,
  kRightHip,
  kLeftKnee,
  kRightKnee,
  kLeftAnkle,
  kRightAnkle,
};
inline constexpr int kCoco17Count = 17;

// OpenPose/CMU COCO-18 order.
enum class OpenPose18 : int {
  kNose = 0,
  kNeck,
  kRightShoulder,
  kRightElbow,
  kRightWrist,
  kLeftShoulder,
  kLeftElbow,
  kLeftWrist,
  kRightHip,
  kRightKnee,
  kRightAnkle,
  kLeftHip,
  kLeftKnee,
  kLeftAnkle,
  kRightEye,
  kLeftEye,
  kRightEar,
  kLeftEar,
};
inline constexpr int kOpenPose18Count = 18;

// A point below this confidence is treated as not observed.
inline constexpr float kMinConfidence = 0.05f;

struct Keypoint {
  float x = 0.f;
  float y = 0.f;
  float confidence = 0.f;
  bool imputed = false;  // filled in by interpolation, not observed
  // The same test as isUsable(*this), kept as a member for existing callers.
  bool valid() const;
};

// THE "usable keypoint" predicate of the project: confident enough
// (>= kMinConfidence) and at finite coordinates. Everything that draws,
// measures, tracks or smooths keypoints asks this and nothing else; an
// imputed point that passes it is usable like an observed one (check
// Keypoint::imputed where the difference matters).
inline bool isUsable(const Keypoint& k) {
  return k.confidence >= kMinConfidence && std::isfinite(k.x) && std::isfinite(k.y);
}
inline bool Keypoint::valid() const { return isUsable(*this); }

// One person in one frame, COCO-17, pixel coordinates of some image.
struct Pose {
  std::array<Keypoint, kCoco17Count> points{};
  Keypoint& operator[](Coco17 j) { return points[static_cast<int>(j)]; }
  const Keypoint& operator[](Coco17 j) const { return points[static_cast<int>(j)]; }
  int validCount() const;  // joints that pass isUsable()
};

using OpenPose18Points = std::array<Keypoint, kOpenPose18Count>;

std::string_view coco17Name(int index);  // "nose", "left_eye", ...
std::optional<int> coco17Index(std::string_view name);
std::string_view openPose18Name(int index);

// COCO-18 -> COCO-17: the neck has no COCO-17 counterpart and is dropped.
Pose fromOpenPose18(const OpenPose18Points& points);
// COCO-17 -> COCO-18: the neck is the shoulders' midpoint when both are
// valid (confidence = the lower of the two), otherwise not observed.
OpenPose18Points toOpenPose18(const Pose& pose);

// Index of the COCO-17 joint for each COCO-18 joint (-1 for the neck).
std::span<const int, kOpenPose18Count> openPose18ToCoco17();

// Bones of the COCO-17 skeleton, as drawn by the stick figure.
struct Limb {
  Coco17 a;
  Coco17 b;
};
std::span<const Limb> coco17Limbs();

// Affine map of pixel coordinates: p' = p * scale + offset. Confidences and
// imputed flags are kept.
Pose transformPose(const Pose& pose, float scale, float offset_x, float offset_y);

}  // namespace booth
