#pragma once
// The synthetic performer: draws a person-like figure (torso, arms and legs
// as clothed limbs, head with hair, eyes and mouth) over a booth backdrop,
// from COCO-17 keypoints. It is the camera of the demo and the ground truth
// of tests: the keypoints it is given are exactly where its joints appear.
#include <span>
#include <string>
#include <string_view>

#include <opencv2/core.hpp>

#include "common/core/body.h"
#include "common/core/keypoints.h"

namespace booth {

struct PerformerLook {
  std::string name;
  BodyProportions body;
  cv::Scalar skin;  // BGR
  cv::Scalar hair;
  cv::Scalar shirt;
  cv::Scalar trousers;
  cv::Scalar shoes;
};

struct Backdrop {
  cv::Scalar wall{200, 190, 170};  // BGR
  cv::Scalar floor{90, 100, 110};
  float horizon = 0.78f;  // floor starts at this fraction of the height
};

// Built-in performers: distinct looks and proportions ("ada", "ben", "cleo", ...).
std::span<const PerformerLook> builtinPerformers();
// nullptr when no built-in performer has that name.
const PerformerLook* findPerformer(std::string_view name);

// Renders `look` in `pose` (frame pixels) over the backdrop. Joints that are
// not valid are not drawn (nor the limbs touching them). Deterministic.
cv::Mat renderPerformer(const PerformerLook& look, const Pose& pose, cv::Size size,
                        const Backdrop& backdrop = {});

}  // namespace booth
