#pragma once
// TrainingSet: a session's (stick figure, frame) pairs at model resolution.
// Frames are cropped to one fixed square for the whole session (so the
// camera's view stays still, as in the booth), centred on the performer's
// median hip position, then resized; keypoints go through the same map and
// are drawn as stick figures. Kept in time order: the model trains on
// consecutive pairs.
#include <vector>

#include <opencv2/core.hpp>

#include "common/core/keypoints.h"
#include "common/pose/pose_normalization.h"
#include "common/core/result.h"
#include "trainer_node/store/stored_frame.h"

namespace booth {

struct TrainingSet {
  int resolution = 0;
  std::vector<cv::Mat> frames;  // BGR, resolution^2
  std::vector<cv::Mat> sticks;  // BGR, resolution^2
  std::vector<Pose> poses;      // in model pixels
  FloorStats floor;             // of the visitor, in model pixels
  int source_width = 0, source_height = 0;
};

// Frames without a pose are left out (the model learns from (pose, image)
// pairs only). Fails when fewer than 2 frames with a pose remain, when a
// frame does not decode or changes size, or when no frame has a usable pose
// (ankles and head), naming how many were usable.
Result<TrainingSet> buildTrainingSet(const std::vector<StoredFrame>& frames, int resolution);

}  // namespace booth
