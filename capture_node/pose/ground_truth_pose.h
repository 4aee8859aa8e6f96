#pragma once
// GroundTruthPose: the pose stage for the synthetic source. It passes the
// renderer's exact keypoints through and labels them as ground truth on the
// wire and in logs; a frame without ground truth is an error (the source is
// not synthetic: configure a pose network instead). The renderer draws one
// person, so the result is that one person with score 1.
#include "capture_node/pose/pose_estimator.h"

namespace booth {

class GroundTruthPose : public PoseEstimator {
 public:
  PoseOrigin origin() const override { return PoseOrigin::kGroundTruth; }
  std::string describe() const override { return "ground-truth (synthetic renderer)"; }
  Result<std::vector<PersonDetection>> estimate(const CapturedFrame& frame,
                                                const cv::Mat& /*image*/) override {
    if (!frame.ground_truth) {
      return fail("camera " + frame.camera_id +
                  " has no ground-truth keypoints (only the synthetic source has them); "
                  "set --pose-model to a pose model manifest (capture_node/pose/models/*.json) for "
                  "real cameras and video files");
    }
    return std::vector<PersonDetection>{{*frame.ground_truth, 1.f}};
  }
};

}  // namespace booth
