#pragma once
// TrainingSet: a session's (stick figure, frame) pairs at model resolution.
// Frames are cropped to one fixed square for the whole session (so the
// camera's view stays still, as in the booth), centred on the performer's
// median hip position, then resized; keypoints go through the same map and
// are drawn as stick figures. Kept in time order: the model trains on
// consecutive pairs.
#include <vector>

#include <opencv2/core.hpp>

#include "booth.pb.h"
#include "common/keypoints.h"
#include "common/pose_normalization.h"
#include "common/result.h"

namespace booth {

struct TrainingSet {
  int resolution = 0;
  std::vector<cv::Mat> frames;  // BGR, resolution^2
  std::vector<cv::Mat> sticks;  // BGR, resolution^2
  std::vector<Pose> poses;      // in model pixels
  FloorStats floor;             // of the visitor, in model pixels
  int source_width = 0, source_height = 0;
};

// Fails when there are fewer than 2 decodable frames or no frame has a
// usable pose (ankles and head), naming how many were usable.
Result<TrainingSet> buildTrainingSet(const std::vector<v1::FrameRecord>& records, int resolution);

}  // namespace booth
