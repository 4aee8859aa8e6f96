#pragma once
// PoseEstimator: keypoints for one frame, in the frame's pixel coordinates,
// COCO-17. Implementations: GroundTruthPose (synthetic source only: passes
// the renderer's own keypoints through, labelled as ground truth on the
// wire) and OpenPoseEstimator (an OpenPose-style network through OpenCV DNN).
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

// One person found in a frame: COCO-17 keypoints in image pixels.
struct PersonDetection {
  Pose pose;
  float score = 0;
};

class PoseEstimator {
 public:
  virtual ~PoseEstimator() = default;
  virtual PoseOrigin origin() const = 0;
  virtual std::string describe() const = 0;  // for logs and the Hello message
  // `image` is the decoded BGR frame (may be empty for estimators that do
  // not need pixels). Everyone found (empty: nobody); joints not found have
  // confidence 0. Error: this frame could not be estimated (the caller
  // records "no pose" for it and goes on).
  virtual Result<std::vector<PersonDetection>> estimate(const CapturedFrame& frame,
                                                        const cv::Mat& image) = 0;
};

}  // namespace booth
