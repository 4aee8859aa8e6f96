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

// What a look wears and how its hair is done. The defaults are the
// built-in performers' (short sleeves, plain shirt, trousers, short hair),
// so looks made before these existed render as they did.
enum class Sleeves { kShort, kLong, kNone };
enum class Pattern { kPlain, kStripes, kChecks, kDots };
enum class LegWear { kTrousers, kShorts, kSkirt };
enum class HairStyle { kShort, kLong, kShaved, kBun };

struct Outfit {
  Sleeves sleeves = Sleeves::kShort;
  Pattern pattern = Pattern::kPlain;  // on the shirt and its sleeves
  cv::Scalar pattern_colour{235, 235, 235};
  LegWear legs = LegWear::kTrousers;  // in the `trousers` colour
  HairStyle hair = HairStyle::kShort;
};

struct PerformerLook {
  std::string name;
  BodyProportions body;
  cv::Scalar skin;  // BGR
  cv::Scalar hair;
  cv::Scalar shirt;
  cv::Scalar trousers;
  cv::Scalar shoes;
  Outfit outfit;
};

struct Backdrop {
  cv::Scalar wall{200, 190, 170};  // BGR
  cv::Scalar floor{90, 100, 110};
  float horizon = 0.78f;  // floor starts at this fraction of the height
  // The light over the whole frame: a gain, a colour cast (a factor per
  // B, G, R channel) and a side light (-1..1: brighter towards the left
  // (<0) or right (>0) edge, by up to that fraction). The defaults change
  // nothing.
  double light_gain = 1.0;
  cv::Scalar light_tint{1, 1, 1};
  double light_side = 0.0;
};

// "short", "long", ...: for messages and tests.
const char* sleevesName(Sleeves s);
const char* patternName(Pattern p);
const char* legWearName(LegWear l);
const char* hairStyleName(HairStyle h);

// Built-in performers: distinct looks and proportions ("ada", "ben", "cleo", ...).
std::span<const PerformerLook> builtinPerformers();
// nullptr when no built-in performer has that name.
const PerformerLook* findPerformer(std::string_view name);

// Renders `look` in `pose` (frame pixels) over the backdrop. Joints that are
// not valid are not drawn (nor the limbs touching them). Deterministic.
cv::Mat renderPerformer(const PerformerLook& look, const Pose& pose, cv::Size size,
                        const Backdrop& backdrop = {});

}  // namespace booth
