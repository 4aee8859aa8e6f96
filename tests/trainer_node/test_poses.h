#pragma once
// Hand-made COCO-17 poses for the pose coverage and warping tests.
#include <cmath>

#include "common/core/keypoints.h"

namespace booth::test {

inline void setJoint(Pose& p, Coco17 j, float x, float y) { p[j] = Keypoint{x, y, 1.f}; }

// A person standing with arms hanging, in a 100 px frame: torso from
// (50, 25) to (50, 55), 30 px long; shoulders 20 px apart.
inline Pose standingPose() {
  using C = Coco17;
  Pose p;
  setJoint(p, C::kNose, 50, 10);
  setJoint(p, C::kLeftEye, 52, 8);
  setJoint(p, C::kRightEye, 48, 8);
  setJoint(p, C::kLeftEar, 54, 9);
  setJoint(p, C::kRightEar, 46, 9);
  setJoint(p, C::kLeftShoulder, 60, 25);
  setJoint(p, C::kRightShoulder, 40, 25);
  setJoint(p, C::kLeftElbow, 62, 40);
  setJoint(p, C::kRightElbow, 38, 40);
  setJoint(p, C::kLeftWrist, 63, 55);
  setJoint(p, C::kRightWrist, 37, 55);
  setJoint(p, C::kLeftHip, 56, 55);
  setJoint(p, C::kRightHip, 44, 55);
  setJoint(p, C::kLeftKnee, 57, 75);
  setJoint(p, C::kRightKnee, 43, 75);
  setJoint(p, C::kLeftAnkle, 57, 95);
  setJoint(p, C::kRightAnkle, 43, 95);
  return p;
}

// standingPose() with the left forearm turned `degrees` about the elbow.
inline Pose forearmTurned(double degrees) {
  using C = Coco17;
  Pose p = standingPose();
  const Keypoint& e = p[C::kLeftElbow];
  const Keypoint& w = p[C::kLeftWrist];
  const double a = degrees * M_PI / 180.0;
  const double dx = w.x - e.x, dy = w.y - e.y;
  setJoint(p, C::kLeftWrist, static_cast<float>(e.x + dx * std::cos(a) - dy * std::sin(a)),
           static_cast<float>(e.y + dx * std::sin(a) + dy * std::cos(a)));
  return p;
}

}  // namespace booth::test
