#pragma once
// OpenPoseEstimator: 2D pose from an OpenPose-style network (tf-pose-estimation
// MobileNet-v2 "small", TensorFlow frozen graph) through OpenCV DNN on the CPU.
// Use ../shared/assets/tfpose_mobilenet_v2_small_368x432.pb: the published
// graph_opt.pb does not load in OpenCV 4.6 (see ../shared/assets/README.md).
//
// Single person only: each of the 18 part heatmaps contributes its global
// maximum, refined to sub-cell precision. With several people in view, joints
// may come from different people. Grouping parts into people with the
// part-affinity fields (the other 38 output channels) is a later issue.
//
// Lifecycle: create() loads the graph and runs one forward pass on a blank
// image, so a wrong file or input size fails at startup, not on the first
// frame. Threading: one instance per pose worker thread (cv::dnn::Net is not
// safe to share); estimate() is not thread-safe.
#include <memory>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/dnn/dnn.hpp>

#include "capture_node/pose/pose_estimator.h"
#include "common/core/result.h"

namespace booth {

struct OpenPoseConfig {
  std::string model_path;
  // The graph's upsampling size is baked in for this input; another size
  // needs a graph rewritten for it (see ../shared/assets/README.md).
  int input_width = 432;
  int input_height = 368;
  // Heatmap peaks below this are reported as not found (confidence 0).
  float min_confidence = 0.1f;
};

class OpenPoseEstimator final : public PoseEstimator {
  struct Key {
    explicit Key() = default;
  };

 public:
  static Result<std::unique_ptr<OpenPoseEstimator>> create(const OpenPoseConfig& config);

  PoseOrigin origin() const override { return PoseOrigin::kNetwork; }
  std::string describe() const override;
  // `image`: the decoded 8-bit frame (BGR; grey and BGRA are converted), any
  // size: it is stretched to the network input and keypoints are mapped back
  // to `image` pixels. Fails on an empty image or an unsupported pixel type.
  Result<std::vector<PersonDetection>> estimate(const CapturedFrame& frame,
                                                const cv::Mat& image) override;

  // Public for std::make_unique only: Key can be made by create() alone.
  // cv::dnn::Net is a shared handle: copying it is cheap and shares the network.
  OpenPoseEstimator(Key, OpenPoseConfig config, const cv::dnn::Net& net);

 private:
  Result<cv::Mat> forward(const cv::Mat& bgr);

  OpenPoseConfig config_;
  cv::dnn::Net net_;
};

}  // namespace booth
