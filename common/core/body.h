#pragma once
// Body proportions shared by the synthetic performer and the choreography
// generator, as fractions of the standing height (top of head to floor).
namespace booth {

struct BodyProportions {
  float height_px = 360.f;     // standing height in frame pixels
  float head_radius = 0.065f;  // radius of the head circle
  float neck = 0.05f;          // head centre to shoulder line
  float shoulder_width = 0.24f;
  float torso = 0.30f;  // shoulder line to hip line
  float hip_width = 0.17f;
  float upper_arm = 0.17f;
  float forearm = 0.15f;
  float thigh = 0.24f;
  float shin = 0.24f;
  float limb_width = 0.055f;  // thickness of arms and legs
};

}  // namespace booth
