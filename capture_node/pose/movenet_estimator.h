#pragma once
// MoveNetEstimator: one person's COCO-17 keypoints from a square crop of a
// frame, with MoveNet SinglePose Lightning (ONNX) through OpenCV DNN on the
// CPU. It sees only one person and needs a crop around that person: the
// top-down pose stage (top_down_pose.h) places the crop from the previous
// frame's keypoints (cropFromKeypoints, MoveNet's own rule) or from the
// person finder's box (cropFromBox).
//
// The network is described by a model manifest (model_manifest.h,
// decoding "movenet-singlepose"); create() loads the weights, checks their
// checksum, the four named heads and their shapes on a trial run, and fails
// naming the manifest on any mismatch.
//
// decode() is the arithmetic of the original graph's own post-processing
// (../shared/assets/README.md): the person centre is the centre map's
// maximum weighted by closeness to the grid centre; each joint is the
// heatmap maximum weighted by closeness to the centre plus that joint's
// regression, refined by its offset.
//
// Threading: one estimator per thread (a cv::dnn::Net is not shared).
#include <array>
#include <memory>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "capture_node/pose/model_manifest.h"
#include "common/core/keypoints.h"
#include "common/core/result.h"

namespace booth {

struct MoveNetConfig {
  std::string model_path;  // the model manifest (JSON)
};

// One joint as a fraction of the crop (0..1 across it) and its score.
struct CropKeypoint {
  float x = 0;
  float y = 0;
  float score = 0;
};

class MoveNetEstimator {
  struct Key {};

 public:
  static Result<std::unique_ptr<MoveNetEstimator>> create(const MoveNetConfig& config);

  // The person in `crop`, a square in `image` pixels that may reach past
  // the frame (zeros there). Keypoints in `image` pixels, confidence the
  // joint's heatmap score. Fails on an empty or non-8-bit image, a crop
  // that is not a finite square of at least 8 px, or a forward pass error.
  Result<Pose> estimate(const cv::Mat& image, const cv::Rect2f& crop);

  std::string describe() const;
  const ModelManifest& manifest() const { return manifest_; }
  int inputSide() const { return manifest_.default_width; }

  // The graph's post-processing. All maps are grid x grid CV_32F:
  // `center` one, `heatmaps` 17, `offsets` and `regression` 34 (channel 2k
  // is joint k's y, 2k + 1 its x, in grid cells).
  static std::array<CropKeypoint, kCoco17Count> decode(const cv::Mat& center,
                                                       const std::vector<cv::Mat>& heatmaps,
                                                       const std::vector<cv::Mat>& offsets,
                                                       const std::vector<cv::Mat>& regression,
                                                       float center_bias);

  // `patch` (8-bit BGR, the network's input size) as the network's input
  // blob, 1x3xHxW float, pixel' = (pixel - mean) x scale, red and blue
  // swapped when `rgb`: what cv::dnn::blobFromImage gives, in one pass into
  // `blob` (reused when it already has the shape, so no allocation per
  // frame).
  static void fillBlob(const cv::Mat& patch, const std::array<double, 3>& mean, double scale,
                       bool rgb, cv::Mat& blob);

  // MoveNet's crop rule (the published demos' determine_crop_region): when
  // the torso is seen (a hip and a shoulder scoring >= min_score), a square
  // centred on the hips' midpoint, half-side the largest of 1.9 x the
  // torso's extent from that centre and 1.2 x the body's (joints scoring
  // >= min_score), at most the farthest frame edge from the centre. Empty
  // when the torso is not seen or the square would be larger than the
  // frame's longer side (then the whole frame is no better: use the
  // finder).
  static cv::Rect2f cropFromKeypoints(const Pose& pose, cv::Size frame, float min_score = 0.2f);
  // A square of `scale` x the box's longer side around the box's centre
  // (keypoint boxes lack the head's top and the feet's soles).
  static cv::Rect2f cropFromBox(const cv::Rect2f& box, float scale = 1.25f);

  // Public for std::make_unique only: Key can be made by create() alone.
  MoveNetEstimator(Key, ModelManifest manifest, const cv::dnn::Net& net);

 private:
  // center, heatmaps, offsets, regression (valid until the next call)
  Result<const std::vector<cv::Mat>*> forward(const cv::Mat& patch);

  ModelManifest manifest_;
  cv::dnn::Net net_;
  std::vector<cv::String> heads_;
  // Reused from frame to frame: the crop, the input blob, the outputs.
  cv::Mat patch_;
  cv::Mat blob_;
  std::vector<cv::Mat> outs_;
};

}  // namespace booth
