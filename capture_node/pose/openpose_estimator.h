#pragma once
// OpenPoseEstimator: multi-person 2D pose from an OpenPose-style network
// (tf-pose-estimation's MobileNet-v2 "small" TensorFlow graph) through
// OpenCV DNN on the CPU.
//
// The network is described by a model manifest (model_manifest.h) that
// names the published graph; create() rewrites the graph's one dynamic
// upsampling size for the chosen input size in memory (tensorflow_graph.h),
// so any input size that is a multiple of the manifest's size_multiple runs
// from the one published file. The output is decoded into people with the
// part-affinity fields (openpose_decoder.h).
//
// Lifecycle: create() checks the manifest against the weights (checksum)
// and the network (node names and ops, output channels and stride, by one
// forward pass on a blank image), so a wrong file or size fails at startup,
// not on the first frame. Threading: one instance per pose worker thread
// (cv::dnn::Net is not safe to share); estimate() is not thread-safe.
// OpenCV's own threads are process-wide: see capture_node/README.md, "Pose
// worker threads".
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn/dnn.hpp>

#include "capture_node/pose/model_manifest.h"
#include "capture_node/pose/openpose_decoder.h"
#include "capture_node/pose/pose_estimator.h"
#include "common/core/result.h"

namespace booth {

struct OpenPoseConfig {
  std::string model_path;  // the model manifest (JSON), which names the graph
  // Network input, width x height; 0: the manifest's default_size. Frames are
  // stretched to it, so an input with the camera's aspect ratio keeps people
  // in proportion.
  int input_width = 0;
  int input_height = 0;
  // Refinement stages to run (the manifest's output.stages): fewer is faster
  // and less accurate (see capture_node/README.md); 0: all of them.
  int stages = 0;
  OpenPoseDecoderConfig decoder;
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
  // to `image` pixels. Fails on an empty image or an unsupported pixel type,
  // naming the camera and frame.
  Result<std::vector<PersonDetection>> estimate(const CapturedFrame& frame,
                                                const cv::Mat& image) override;

  cv::Size inputSize() const { return input_; }
  // An input with `frame`'s aspect ratio and about the pixel count of
  // `reference` (e.g. the manifest's default), in multiples of `multiple`:
  // frames are stretched to the input, so matching the camera's aspect keeps
  // people in proportion at the same cost.
  static cv::Size inputSizeFor(cv::Size frame, cv::Size reference, int multiple);

  // OpenCV's thread count for `workers` pose workers on this machine's
  // cores, set process-wide (cv::setNumThreads) and returned: 1 when the
  // workers alone fill the cores, else cores / workers. OpenCV 4.6 has no
  // per-network thread setting; see capture_node/README.md, "Pose worker
  // threads", for what actually happens with several workers.
  static int configureOpenCvThreads(int workers);
  const ModelManifest& manifest() const { return manifest_; }

  // Public for std::make_unique only: Key can be made by create() alone.
  OpenPoseEstimator(Key, ModelManifest manifest, cv::Size input, const cv::dnn::Net& net,
                    const OpenPoseDecoderConfig& decoder);

 private:
  Result<cv::Mat> forward(const cv::Mat& bgr);

  ModelManifest manifest_;
  cv::Size input_;
  cv::dnn::Net net_;
  OpenPoseDecoder decoder_;
};

}  // namespace booth
