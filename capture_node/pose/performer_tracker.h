#pragma once
// PerformerTracker: which of the people in a frame is the performer,
// followed from frame to frame. One per camera, called in frame order.
#include <vector>

#include <opencv2/core.hpp>

#include "capture_node/pose/pose_estimator.h"

namespace booth {

struct TrackerConfig {
  float max_jump = 0.25f;  // of the frame diagonal: farther means another person
};

struct TrackedPerson {
  int track_id = -1;
  Pose pose;
  float score = 0;
};

struct TrackedFrame {
  std::vector<TrackedPerson> people;
  int performer_track = -1;  // -1: no performer this frame
};

class PerformerTracker {
 public:
  PerformerTracker(TrackerConfig config, cv::Size frame_size);
  TrackedFrame update(std::vector<PersonDetection> people);
  void reset();

 private:
  TrackerConfig config_;
  cv::Size frame_size_;
  int next_id_ = 0;
  int performer_ = -1;
  cv::Point2f performer_centre_{};
};

}  // namespace booth
