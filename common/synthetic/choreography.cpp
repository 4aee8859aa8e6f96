#include "common/synthetic/choreography.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>
#include <vector>

namespace booth {
namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kTwoPi = 2.0 * std::numbers::pi;

// How far the ankles drop in the frame per unit of depth scale, as a fraction
// of the frame height: a performer who comes closer (scale > 1) stands lower
// in the picture, as on a floor seen from a camera at chest height.
constexpr double kDepthFloorShift = 0.3;
// The depth walk is slow: one approach-and-retreat every 8 beats.
constexpr double kDepthBeats = 8.0;
// Softness of the "lowest ankle touches the floor" rule, in pixels. A hard
// max would put a kink in the hip trajectory whenever support changes legs;
// the smooth max keeps it C-infinity and leaves the supporting ankle at most
// this far below the floor line.
constexpr double kSupportSoftness = 0.5;
// Bounds used to keep the sway inside the frame: the torso never leans more
// than kMaxLean, and legs never spread more than kMaxLegSpread from vertical
// (both hold for every move below, whatever the energies up to 1.5).
constexpr double kMaxLean = 0.2;
constexpr double kMaxLegSpread = 0.9;
constexpr double kMaxBounceOfLeg = 0.15;
constexpr double kFrameMargin = 4.0;   // pixels kept free at the frame sides
constexpr double kStanceAngle = 0.05;  // thighs slightly apart when standing

// splitmix64 (Steele, Lea, Flood 2014): tiny, deterministic, well mixed, so
// consecutive seeds give unrelated phases.
std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Angles of one frame, in radians. Limb angles are measured from straight
// down; positive is outward (away from the body's mid line). Arm angles are
// relative to the torso, leg angles to the world (legs carry the body).
// Forearm angles are absolute too (not relative to the upper arm).
struct Moves {
  double upper_arm_l = 0.15, forearm_l = 0.25;
  double upper_arm_r = 0.15, forearm_r = 0.25;
  double thigh_l = kStanceAngle, knee_l = 0.0;  // knee: bend between thigh and shin
  double thigh_r = kStanceAngle, knee_r = 0.0;
  double lean = 0.0;         // torso from vertical, positive leans to image right
  double pelvis_tilt = 0.0;  // hip line, positive lowers the left (image right) hip
  double head_roll = 0.0;
  double head_yaw = 0.0;  // positive turns the nose to image right
  double sway = 0.0;      // -1..1, times the sway amplitude
};

enum class Style { kWarmup, kDisco, kRobot, kWave };

Style styleOf(std::string_view name) {
  if (name == "disco") return Style::kDisco;
  if (name == "robot") return Style::kRobot;
  if (name == "wave") return Style::kWave;
  return Style::kWarmup;  // also the moves of any custom spec
}

// Smooth 0..1 pulse, peaking once per cycle; squared so that it stays near 0
// for much of the cycle (the foot rests on the floor between steps).
double pulse(double x) {
  const double s = 0.5 + 0.5 * std::sin(x);
  return s * s;
}

// Square-ish wave from two odd harmonics, peak +-1: flattened tops (holds a
// position a while) and steeper moves between them, yet smooth. The third
// harmonic is kept weak so the moves stay slow enough to track at 30 fps.
double squarish(double x) { return (std::sin(x) + std::sin(3 * x) / 6) / 0.866; }

void addKneeLift(Moves& m, double lift_l, double lift_r) {
  // A knee lifted out to the side: the thigh opens, the shin folds back
  // under it, so the foot rises while every bone keeps its length.
  m.thigh_l += 0.35 * lift_l;
  m.knee_l += 0.9 * lift_l;
  m.thigh_r += 0.35 * lift_r;
  m.knee_r += 0.9 * lift_r;
}

Moves warmupMoves(double t, double w, const std::array<double, 16>& p, double arm, double leg) {
  Moves m;
  // Arm raises, one arm then the other, to about shoulder height.
  m.upper_arm_l =
      0.15 + arm * 1.2 * (0.5 - 0.5 * std::cos(w * t + p[0])) + 0.05 * std::sin(2 * w * t + p[1]);
  m.upper_arm_r = 0.15 +
                  arm * 1.2 * (0.5 - 0.5 * std::cos(w * t + p[0] + kPi + 0.4 * std::sin(p[2]))) +
                  0.05 * std::sin(2 * w * t + p[3]);
  m.forearm_l = m.upper_arm_l + 0.2 + 0.15 * std::sin(w * t + p[4]);
  m.forearm_r = m.upper_arm_r + 0.2 + 0.15 * std::sin(w * t + p[5]);
  // Small steps on the spot.
  addKneeLift(m, leg * 0.35 * pulse(w * t + p[6]), leg * 0.35 * pulse(w * t + p[6] + kPi));
  m.lean = 0.04 * std::sin(0.5 * w * t + p[7]);
  m.pelvis_tilt = 0.03 * std::sin(w * t + p[8]);
  m.head_roll = 0.05 * std::sin(w * t + p[9]);
  m.head_yaw = 0.15 * std::sin(0.5 * w * t + p[10]);
  m.sway = std::sin(0.5 * w * t + p[11]);
  return m;
}

Moves discoMoves(double t, double w, const std::array<double, 16>& p, double arm, double leg) {
  Moves m;
  // Pointing: one arm up and out while the other points down across the
  // body, swapping every two and a half beats.
  const double point = std::sin(0.2 * w * t + p[0]) + 0.1 * std::sin(0.6 * w * t + p[1]);
  m.upper_arm_l = 1.2 + arm * 1.1 * point;
  m.upper_arm_r = 1.2 - arm * 1.1 * point;
  m.forearm_l = m.upper_arm_l + 0.1 + 0.05 * std::sin(w * t + p[2]);
  m.forearm_r = m.upper_arm_r + 0.1 + 0.05 * std::sin(w * t + p[3]);
  addKneeLift(m, leg * 0.25 * pulse(0.5 * w * t + p[4]),
              leg * 0.25 * pulse(0.5 * w * t + p[4] + kPi));
  // Hip sway: the pelvis rocks on the beat and the torso counters it.
  m.pelvis_tilt = 0.1 * std::sin(0.5 * w * t + p[5]);
  m.lean = -0.06 * std::sin(0.5 * w * t + p[5]) + 0.02 * std::sin(w * t + p[6]);
  m.head_roll = 0.06 * std::sin(0.5 * w * t + p[7]);
  m.head_yaw = 0.2 * std::sin(0.25 * w * t + p[8]);
  m.sway = std::sin(0.25 * w * t + p[9]);
  return m;
}

Moves robotMoves(double t, double w, const std::array<double, 16>& p, double arm, double leg) {
  Moves m;
  // Elbows held out, forearms snapping between up and down; the upper arms
  // between low and shoulder height.
  m.upper_arm_l = 1.1 + arm * 0.35 * squarish(0.25 * w * t + p[0]);
  m.upper_arm_r = 1.1 + arm * 0.35 * squarish(0.25 * w * t + p[1]);
  m.forearm_l = m.upper_arm_l + arm * 1.3 * squarish(0.25 * w * t + p[2]);
  m.forearm_r = m.upper_arm_r + arm * 1.3 * squarish(0.25 * w * t + p[3]);
  addKneeLift(m, leg * 0.3 * pulse(0.5 * w * t + p[4]),
              leg * 0.3 * pulse(0.5 * w * t + p[4] + kPi));
  m.head_yaw = 0.3 * squarish(0.125 * w * t + p[5]);
  m.lean = 0.03 * squarish(0.125 * w * t + p[6]);
  m.sway = 0.8 * squarish(0.125 * w * t + p[7]);
  return m;
}

Moves waveMoves(double t, double w, const std::array<double, 16>& p, double arm, double leg) {
  Moves m;
  // Both arms overhead, swaying together from side to side (one arm closes
  // toward vertical while the other opens, so both lean the same way),
  // forearms trailing a little.
  const double swing = std::sin(0.5 * w * t + p[0]);
  m.upper_arm_l = 2.5 + arm * 0.25 * swing;
  m.upper_arm_r = 2.5 - arm * 0.25 * swing;
  const double trail = std::sin(0.5 * w * t + p[0] - 0.8);
  m.forearm_l = m.upper_arm_l + 0.15 + arm * 0.35 * trail;
  m.forearm_r = m.upper_arm_r + 0.15 - arm * 0.35 * trail;
  // Side steps: the body travels with the sway and the trailing foot lifts.
  m.sway = std::sin(0.25 * w * t + p[1]);
  const double step = std::cos(0.25 * w * t + p[1]);
  addKneeLift(m, leg * 0.3 * pulse(0.5 * w * t + p[2]) * (0.5 + 0.5 * step),
              leg * 0.3 * pulse(0.5 * w * t + p[2] + kPi) * (0.5 - 0.5 * step));
  m.lean = 0.05 * std::sin(0.5 * w * t + p[3]);
  m.pelvis_tilt = 0.04 * std::sin(0.5 * w * t + p[4]);
  m.head_roll = 0.08 * std::sin(0.5 * w * t + p[5]);
  return m;
}

cv::Point2d rotate(cv::Point2d v, double angle) {
  const double c = std::cos(angle);
  const double s = std::sin(angle);
  return {v.x * c - v.y * s, v.x * s + v.y * c};
}

// Direction of a limb at `angle` from straight down, `side` = +1 for the
// person's left (image right), -1 for their right.
cv::Point2d limbDirection(double angle, double side) {
  return {side * std::sin(angle), std::cos(angle)};
}

double smoothMax(double a, double b) {
  const double half = 0.5 * (a - b);
  return 0.5 * (a + b) + std::sqrt(half * half + kSupportSoftness * kSupportSoftness) -
         kSupportSoftness;
}

Keypoint keypoint(cv::Point2d p) {
  return {static_cast<float>(p.x), static_cast<float>(p.y), 1.f, false};
}

}  // namespace

std::span<const ChoreographySpec> builtinChoreographies() {
  static const std::vector<ChoreographySpec> kBuiltins = {
      {"warmup", "The visitor's ordinary moves: small steps, arm raises, a gentle sway.", 0.5, 0.9,
       0.8, 0.03, 0.012, 0.f},
      {"disco", "Pointing one arm up and out, the other down across, hip sway, bounce.", 1.0, 1.0,
       1.0, 0.05, 0.02, 0.f},
      {"robot", "Elbows out, forearms switching up and down, head turns, sliding steps.", 0.8, 1.0,
       0.7, 0.04, 0.01, 0.f},
      {"wave", "Both arms waving overhead, side steps.", 0.9, 1.0, 1.0, 0.1, 0.015, 0.f},
  };
  return kBuiltins;
}

const ChoreographySpec* findChoreography(std::string_view name) {
  for (const auto& spec : builtinChoreographies()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

Choreography::Choreography(ChoreographySpec spec, BodyProportions body, Stage stage,
                           std::uint64_t seed)
    : spec_(std::move(spec)), body_(body), stage_(stage) {
  std::uint64_t state = seed;
  for (double& phase : phase_) {
    phase = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53 * kTwoPi;
  }
}

Pose Choreography::poseAt(double seconds) const {
  const double t = seconds;
  const double w = kTwoPi * std::max(0.0, spec_.tempo_hz);
  // Settings outside their documented ranges are clamped here, so a bad
  // config cannot fold a limb through the body or leave the frame sideways.
  const double arm = std::clamp<double>(spec_.arm_energy, 0.0, 1.5);
  const double leg = std::clamp<double>(spec_.leg_energy, 0.0, 1.5);
  const double depth = std::clamp<double>(spec_.depth, 0.0, 0.3);
  const double width = stage_.frame.width;
  const double height = stage_.frame.height;

  Moves m;
  switch (styleOf(spec_.name)) {
    case Style::kWarmup:
      m = warmupMoves(t, w, phase_, arm, leg);
      break;
    case Style::kDisco:
      m = discoMoves(t, w, phase_, arm, leg);
      break;
    case Style::kRobot:
      m = robotMoves(t, w, phase_, arm, leg);
      break;
    case Style::kWave:
      m = waveMoves(t, w, phase_, arm, leg);
      break;
  }

  // Depth: bone lengths scale with s, and the floor contact moves down the
  // frame as the performer comes closer.
  const double depth_scale = 1.0 + depth * std::sin(w / kDepthBeats * t + phase_[15]);
  const double h = body_.height_px * depth_scale;
  const double floor_y =
      std::min(stage_.floor_y * height + (depth_scale - 1.0) * kDepthFloorShift * height,
               height - 1.0 - kSupportSoftness);

  const double shoulder_half = 0.5 * body_.shoulder_width * h;
  const double hip_half = 0.5 * body_.hip_width * h;
  const double upper_arm = body_.upper_arm * h;
  const double forearm = body_.forearm * h;
  const double thigh = body_.thigh * h;
  const double shin = body_.shin * h;
  const double torso = body_.torso * h;

  // Knee bounce: a plie (knees out, so that bones keep their 2D length) whose
  // depth lowers the hips by at most spec.bounce of the frame height, and by
  // no more than kMaxBounceOfLeg of the leg (which keeps the knees within
  // kMaxLegSpread).
  const double max_drop =
      std::min(std::max(0.0, double{spec_.bounce}) * height, kMaxBounceOfLeg * (thigh + shin));
  const double bend = 2.0 * std::acos(std::clamp(1.0 - max_drop / (thigh + shin), 0.0, 1.0));
  const double bounce = bend * (0.5 - 0.5 * std::cos(w * t + phase_[12]));
  m.thigh_l += 0.5 * bounce;
  m.knee_l += bounce;
  m.thigh_r += 0.5 * bounce;
  m.knee_r += bounce;

  // Horizontal travel, limited so that the widest reach (arm straight out
  // from a leaning torso, or a leg spread) stays inside the frame.
  const double reach = std::max(shoulder_half + upper_arm + forearm + torso * std::sin(kMaxLean),
                                hip_half + (thigh + shin) * std::sin(kMaxLegSpread));
  const double centre_x = stage_.centre_x * width;
  const double room =
      std::min(centre_x, width - centre_x) - reach * (1.0 + depth) / depth_scale - kFrameMargin;
  const double sway = std::clamp(spec_.sway * width, 0.0, std::max(0.0, room));

  // Legs from the hips down; the hips sit where the lower ankle meets the floor.
  const cv::Point2d hip_axis{std::cos(m.pelvis_tilt), std::sin(m.pelvis_tilt)};
  const cv::Point2d knee_l_dir = limbDirection(m.thigh_l, +1);
  const cv::Point2d ankle_l_dir = limbDirection(m.thigh_l - m.knee_l, +1);
  const cv::Point2d knee_r_dir = limbDirection(m.thigh_r, -1);
  const cv::Point2d ankle_r_dir = limbDirection(m.thigh_r - m.knee_r, -1);
  const double drop_l = hip_half * hip_axis.y + thigh * knee_l_dir.y + shin * ankle_l_dir.y;
  const double drop_r = -hip_half * hip_axis.y + thigh * knee_r_dir.y + shin * ankle_r_dir.y;
  const cv::Point2d hip_centre{centre_x + sway * m.sway, floor_y - smoothMax(drop_l, drop_r)};

  const cv::Point2d hip_l = hip_centre + hip_axis * hip_half;
  const cv::Point2d hip_r = hip_centre - hip_axis * hip_half;
  const cv::Point2d knee_l = hip_l + knee_l_dir * thigh;
  const cv::Point2d knee_r = hip_r + knee_r_dir * thigh;
  const cv::Point2d ankle_l = knee_l + ankle_l_dir * shin;
  const cv::Point2d ankle_r = knee_r + ankle_r_dir * shin;

  // Torso up from the hips; arms hang from the shoulder line, in the torso's frame.
  const cv::Point2d up = rotate({0, -1}, m.lean);
  const cv::Point2d across = rotate({1, 0}, m.lean);
  const cv::Point2d shoulder_centre = hip_centre + up * torso;
  const cv::Point2d shoulder_l = shoulder_centre + across * shoulder_half;
  const cv::Point2d shoulder_r = shoulder_centre - across * shoulder_half;
  const cv::Point2d elbow_l =
      shoulder_l + rotate(limbDirection(m.upper_arm_l, +1), m.lean) * upper_arm;
  const cv::Point2d elbow_r =
      shoulder_r + rotate(limbDirection(m.upper_arm_r, -1), m.lean) * upper_arm;
  const cv::Point2d wrist_l = elbow_l + rotate(limbDirection(m.forearm_l, +1), m.lean) * forearm;
  const cv::Point2d wrist_r = elbow_r + rotate(limbDirection(m.forearm_r, -1), m.lean) * forearm;

  // Head: a sphere of radius r on the neck. Face points sit on it at fixed
  // azimuths (nose straight ahead, eyes +-0.4 rad, ears at the sides), so a
  // head turn (yaw) slides them sideways as it would on a real head.
  const double roll = m.lean + m.head_roll;
  const cv::Point2d head_up = rotate({0, -1}, roll);
  const cv::Point2d head_across = rotate({1, 0}, roll);
  const cv::Point2d head = shoulder_centre + head_up * (body_.neck * h);
  const double r = body_.head_radius * h;
  auto onHead = [&](double azimuth, double radius, double height_above) {
    return head + head_across * (radius * std::sin(azimuth + m.head_yaw)) + head_up * height_above;
  };

  Pose pose;
  pose[Coco17::kNose] = keypoint(onHead(0.0, 1.05 * r, -0.2 * r));
  pose[Coco17::kLeftEye] = keypoint(onHead(0.4, r, 0.1 * r));
  pose[Coco17::kRightEye] = keypoint(onHead(-0.4, r, 0.1 * r));
  pose[Coco17::kLeftEar] = keypoint(onHead(1.5, r, 0.0));
  pose[Coco17::kRightEar] = keypoint(onHead(-1.5, r, 0.0));
  pose[Coco17::kLeftShoulder] = keypoint(shoulder_l);
  pose[Coco17::kRightShoulder] = keypoint(shoulder_r);
  pose[Coco17::kLeftElbow] = keypoint(elbow_l);
  pose[Coco17::kRightElbow] = keypoint(elbow_r);
  pose[Coco17::kLeftWrist] = keypoint(wrist_l);
  pose[Coco17::kRightWrist] = keypoint(wrist_r);
  pose[Coco17::kLeftHip] = keypoint(hip_l);
  pose[Coco17::kRightHip] = keypoint(hip_r);
  pose[Coco17::kLeftKnee] = keypoint(knee_l);
  pose[Coco17::kRightKnee] = keypoint(knee_r);
  pose[Coco17::kLeftAnkle] = keypoint(ankle_l);
  pose[Coco17::kRightAnkle] = keypoint(ankle_r);
  return pose;
}

}  // namespace booth
