#pragma once
// PoseAccuracy: how close estimated keypoints are to reference keypoints,
// over the 12 body joints (shoulders, elbows, wrists, hips, knees, ankles),
// frame by frame. The yardstick of bench/run.sh pose and of the pose tests.
//
//  - PCK@0.2 torso: fraction of reference joints with an estimate within
//    0.2 x the frame's torso size (reference left shoulder to right hip; the
//    other diagonal when that is missing). A joint the estimate lacks is
//    wrong.
//  - PCK@30 px: the same with a fixed 30 px radius.
//  - Mean error (px) over the joints both have.
//  - Same-limb rate: fraction of frames where, for some left/right pair
//    (elbows, wrists, knees, ankles) that the reference holds apart (by more
//    than 0.2 x torso), both estimated labels lie nearest the same reference
//    joint: both labels sit on one limb.
//
// Reference joints that are not usable are not counted. Not thread-safe.
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "common/core/keypoints.h"
#include "common/core/result.h"

namespace booth {

struct AccuracySummary {
  double pck_torso20 = 0;
  double pck_30px = 0;
  double mean_px_error = 0;
  double same_limb_rate = 0;
  int frames = 0;           // frames with a torso size
  int joints = 0;           // reference joints counted
  int missed = 0;           // of those, not in the estimate
  int same_limb_frames = 0;
};

class PoseAccuracy {
 public:
  // One frame: `estimate` nullopt means nothing was estimated (every joint
  // missed). Frames whose reference has no torso size are skipped.
  void add(const std::optional<Pose>& estimate, const Pose& reference);
  AccuracySummary summary() const;

  // Mean magnitude of the second difference of each joint's position,
  // p(t+1) - 2 p(t) + p(t-1), over the 12 body joints where all three are
  // usable: how much a track shakes, in px/frame^2 (0 for uniform motion).
  static double jitter(std::span<const std::optional<Pose>> track);

  // Reference keypoints as JSON: a list of frames, each an object of COCO-17
  // joint names to {"x": .., "y": ..} (optionally "score"); joints not named
  // are missing. This is the format of tfjs-models' pose test data.
  static Result<std::vector<Pose>> loadReference(const std::filesystem::path& path);

 private:
  int frames_ = 0;
  int joints_ = 0;
  int missed_ = 0;
  int within_torso20_ = 0;
  int within_30px_ = 0;
  double error_sum_ = 0;
  int error_count_ = 0;
  int same_limb_frames_ = 0;
};

}  // namespace booth
