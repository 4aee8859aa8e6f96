#pragma once
// PoseEstimator: everyone found in one frame, as COCO-17 keypoints in the
// frame's pixel coordinates. Implementations: GroundTruthPose (synthetic
// source only: passes the renderer's own keypoints through, labelled as
// ground truth on the wire) and OpenPoseEstimator (an OpenPose-style network
// through OpenCV DNN, multi-person).
//
// Which of the people is the performer is not the estimator's business:
// PerformerTracker (one per camera) decides that across frames.
//
// Threading: one estimator per pose worker thread; estimate() is not
// required to be thread-safe.
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "capture_node/source/frame_source.h"
#include "common/core/keypoints.h"
#include "common/core/pose_record.h"
#include "common/core/result.h"

namespace booth {

// One person in one frame. `score` in [0, 1]: how sure the estimator is that
// this is a person (OpenPoseEstimator: the mean over the 18 OpenPose parts of
// each part's heatmap peak, a missing part counting 0).
struct PersonDetection {
  Pose pose;
  float score = 0;
};

class PoseEstimator {
 public:
  virtual ~PoseEstimator() = default;
  virtual PoseOrigin origin() const = 0;
  virtual std::string describe() const = 0;  // for logs and the Hello message
  // Everyone found in this frame (empty: nobody). `image` is the decoded BGR
  // frame (may be empty for estimators that do not need pixels). Joints not
  // found have confidence 0. Error: this frame could not be estimated (e.g.
  // an empty image); the message names the camera and frame, and the caller
  // records "no pose" for the frame and goes on.
  virtual Result<std::vector<PersonDetection>> estimate(const CapturedFrame& frame,
                                                        const cv::Mat& image) = 0;
};

}  // namespace booth
