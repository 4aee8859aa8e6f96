#include "common/core/keypoints.h"

#include <algorithm>

namespace booth {
namespace {

constexpr std::array<std::string_view, kCoco17Count> kCocoNames = {
    "nose",           "left_eye",   "right_eye",   "left_ear",   "right_ear",   "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip",      "left_knee",  "right_knee",  "left_ankle", "right_ankle"};

constexpr std::array<std::string_view, kOpenPose18Count> kOpenPoseNames = {
    "nose",       "neck",       "right_shoulder", "right_elbow", "right_wrist", "left_shoulder",
    "left_elbow", "left_wrist", "right_hip",      "right_knee",  "right_ankle", "left_hip",
    "left_knee",  "left_ankle", "right_eye",      "left_eye",    "right_ear",   "left_ear"};

constexpr std::array<int, kOpenPose18Count> kOp18ToCoco = {
    0,           // nose
    -1,          // neck
    6,  8,  10,  // right shoulder, elbow, wrist
    5,  7,  9,   // left shoulder, elbow, wrist
    12, 14, 16,  // right hip, knee, ankle
    11, 13, 15,  // left hip, knee, ankle
    2,  1,       // right eye, left eye
    4,  3,       // right ear, left ear
};

using C = Coco17;
constexpr std::array<Limb, 16> kLimbs = {{
    {C::kLeftShoulder, C::kRightShoulder},
    {C::kLeftShoulder, C::kLeftElbow},
    {C::kLeftElbow, C::kLeftWrist},
    {C::kRightShoulder, C::kRightElbow},
    {C::kRightElbow, C::kRightWrist},
    {C::kLeftShoulder, C::kLeftHip},
    {C::kRightShoulder, C::kRightHip},
    {C::kLeftHip, C::kRightHip},
    {C::kLeftHip, C::kLeftKnee},
    {C::kLeftKnee, C::kLeftAnkle},
    {C::kRightHip, C::kRightKnee},
    {C::kRightKnee, C::kRightAnkle},
    {C::kNose, C::kLeftEye},
    {C::kNose, C::kRightEye},
    {C::kLeftEye, C::kLeftEar},
    {C::kRightEye, C::kRightEar},
}};

}  // namespace

int Pose::validCount() const {
  return static_cast<int>(
      std::count_if(points.begin(), points.end(), [](const Keypoint& k) { return isUsable(k); }));
}

std::string_view coco17Name(int index) {
  return index >= 0 && index < kCoco17Count ? kCocoNames[index] : std::string_view{};
}

std::optional<int> coco17Index(std::string_view name) {
  for (int i = 0; i < kCoco17Count; ++i) {
    if (kCocoNames[i] == name) return i;
  }
  return std::nullopt;
}

std::string_view openPose18Name(int index) {
  return index >= 0 && index < kOpenPose18Count ? kOpenPoseNames[index] : std::string_view{};
}

std::span<const int, kOpenPose18Count> openPose18ToCoco17() { return kOp18ToCoco; }

Pose fromOpenPose18(const OpenPose18Points& points) {
  Pose pose;
  for (int i = 0; i < kOpenPose18Count; ++i) {
    if (kOp18ToCoco[i] >= 0) pose.points[kOp18ToCoco[i]] = points[i];
  }
  return pose;
}

OpenPose18Points toOpenPose18(const Pose& pose) {
  OpenPose18Points out{};
  for (int i = 0; i < kOpenPose18Count; ++i) {
    if (kOp18ToCoco[i] >= 0) out[i] = pose.points[kOp18ToCoco[i]];
  }
  const Keypoint& l = pose[Coco17::kLeftShoulder];
  const Keypoint& r = pose[Coco17::kRightShoulder];
  if (isUsable(l) && isUsable(r)) {
    out[static_cast<int>(OpenPose18::kNeck)] = {(l.x + r.x) / 2, (l.y + r.y) / 2,
                                                std::min(l.confidence, r.confidence),
                                                l.imputed || r.imputed};
  }
  return out;
}

std::span<const Limb> coco17Limbs() { return kLimbs; }

Pose transformPose(const Pose& pose, float scale, float offset_x, float offset_y) {
  Pose out = pose;
  for (auto& k : out.points) {
    k.x = k.x * scale + offset_x;
    k.y = k.y * scale + offset_y;
  }
  return out;
}

}  // namespace booth
