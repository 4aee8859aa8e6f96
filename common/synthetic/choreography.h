#pragma once
// Procedural choreographies: smooth joint trajectories for a body of given
// proportions. Joint angles are sums of a few sinusoids (so positions are
// smooth in time, C-infinity), turned into COCO-17 keypoints by forward
// kinematics from the hips, with bone lengths taken from BodyProportions so
// that proportions hold in every frame. The floor line and horizontal
// position are set by the stage.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

#include "common/core/body.h"
#include "common/core/keypoints.h"

namespace booth {

struct Stage {
  cv::Size frame{640, 480};
  float floor_y = 0.93f;  // ankles of a standing performer, fraction of height
  float centre_x = 0.5f;  // fraction of width
};

struct ChoreographySpec {
  std::string name;
  std::string description;
  double tempo_hz = 1.0;   // main beat
  float arm_energy = 1.f;  // 0..1.5: amplitude of arm moves
  float leg_energy = 1.f;  // amplitude of steps and knee bends
  float sway = 0.05f;      // horizontal travel, fraction of frame width
  float bounce = 0.02f;    // vertical bob, fraction of height
  float depth = 0.f;       // walk toward/away from camera: scale swing (0..0.3)
};

// "warmup" (the visitor's ordinary moves), "disco", "robot", "wave".
std::span<const ChoreographySpec> builtinChoreographies();
const ChoreographySpec* findChoreography(std::string_view name);

class Choreography {
 public:
  // `seed` varies the phase of every sinusoid: two seeds, two performances.
  Choreography(ChoreographySpec spec, BodyProportions body, Stage stage, std::uint64_t seed = 0);
  // All 17 joints valid (confidence 1), inside the frame, at time t seconds.
  Pose poseAt(double seconds) const;
  const ChoreographySpec& spec() const { return spec_; }

 private:
  ChoreographySpec spec_;
  BodyProportions body_;
  Stage stage_;
  std::array<double, 16> phase_{};
};

}  // namespace booth
