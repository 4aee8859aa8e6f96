#include "capture_node/pose/openpose_estimator.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

constexpr const char* kModelHint =
    "use ../shared/assets/tfpose_mobilenet_v2_small_368x432.pb (the OpenCV-loadable rewrite of "
    "tf-pose-estimation's mobilenet_v2_small graph_opt.pb)";
// The network's output stride: heatmaps are 1/8 of the input size.
constexpr int kStride = 8;

// Preprocessing, measured on ../shared/assets/tfjs_pose_1.mp4 against
// tfjs_pose_1.json (every 10th frame, 12 major joints, heatmap argmax):
//   - Channel order matters: BGR input (swapRB=false) gives a median error of
//     9.6 px, RGB (swapRB=true, as the assets README suggests) 13.4 px, with
//     more confident peaks for BGR (median peak 0.44 vs 0.32). tf-pose-estimation
//     itself feeds cv2.imread's BGR images unconverted, so BGR is what it was
//     trained on.
//   - Scale does not matter: OpenCV 4.6 imports this graph's FusedBatchNorm
//     layers as per-sample mean/variance normalisation (layer names end in
//     "/MVN"), which cancels any input scale; scale 1.0 and 1/127.5 give the
//     same heatmaps to 2e-5. The mean only matters through zero padding at the
//     borders; 127.5 was marginally better than 0.
constexpr double kInputScale = 1.0;
constexpr double kInputMean = 127.5;
constexpr bool kSwapRb = false;

// Sub-cell refinement: a parabola through the peak and its two neighbours,
// per axis. Measured against the reference (same set as above): median error
// 8.1 px, vs 9.6 px for the raw argmax, 8.6 px for a 3x3 weighted centroid,
// 8.1 px for bicubic upsampling to input size (which costs a resize per part).
cv::Point2f refinePeak(const cv::Mat& heatmap, cv::Point peak) {
  const auto at = [&](int y, int x) {
    return heatmap.at<float>(std::clamp(y, 0, heatmap.rows - 1),
                             std::clamp(x, 0, heatmap.cols - 1));
  };
  const float c = at(peak.y, peak.x);
  const auto offset = [c](float before, float after) {
    const float curvature = before - 2 * c + after;
    if (curvature >= 0) return 0.f;  // flat or not a maximum: keep the cell centre
    return std::clamp(0.5f * (before - after) / curvature, -0.5f, 0.5f);
  };
  return {static_cast<float>(peak.x) + offset(at(peak.y, peak.x - 1), at(peak.y, peak.x + 1)),
          static_cast<float>(peak.y) + offset(at(peak.y - 1, peak.x), at(peak.y + 1, peak.x))};
}

Result<cv::Mat> toBgr(const cv::Mat& image) try {
  if (image.empty()) return fail("empty image (the estimator needs the decoded frame)");
  if (image.depth() != CV_8U) {
    return fail("image depth " + std::to_string(image.depth()) + " is not 8-bit");
  }
  cv::Mat bgr;
  switch (image.channels()) {
    case 3:
      return image;
    case 1:
      cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR);
      return bgr;
    case 4:
      cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR);
      return bgr;
    default:
      return fail("image has " + std::to_string(image.channels()) +
                  " channels, expected 1, 3 or 4");
  }
} catch (const cv::Exception& e) {
  return fail(std::string("colour conversion failed: ") + e.what());
}

}  // namespace

Result<std::unique_ptr<OpenPoseEstimator>> OpenPoseEstimator::create(const OpenPoseConfig& config) {
  if (config.input_width <= 0 || config.input_height <= 0 || config.input_width % kStride != 0 ||
      config.input_height % kStride != 0) {
    return fail("pose network input " + std::to_string(config.input_width) + "x" +
                std::to_string(config.input_height) + " must be positive multiples of 8");
  }
  if (!(config.min_confidence >= 0.f && config.min_confidence <= 1.f)) {
    return fail("pose min_confidence " + std::to_string(config.min_confidence) +
                " must be in [0, 1]");
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(config.model_path, ec)) {
    return fail("pose model " + config.model_path + " not found; " + kModelHint);
  }
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromTensorflow(config.model_path);
  } catch (const cv::Exception& e) {
    return fail("cannot load pose model " + config.model_path + " (" + e.what() + "); " +
                kModelHint);
  }
  if (net.empty()) {
    return fail("cannot load pose model " + config.model_path + " (empty network); " + kModelHint);
  }
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);

  auto estimator = std::make_unique<OpenPoseEstimator>(Key{}, config, net);
  // A trial run: proves the graph accepts this input size and has the
  // expected output, before the first real frame depends on it.
  const cv::Mat blank(config.input_height, config.input_width, CV_8UC3, cv::Scalar::all(127));
  Result<cv::Mat> out = estimator->forward(blank);
  if (!out) {
    return fail("pose model " + config.model_path + " does not run at input " +
                std::to_string(config.input_width) + "x" + std::to_string(config.input_height) +
                ": " + out.error() +
                " (tfpose_mobilenet_v2_small_368x432.pb only accepts 432x368)");
  }
  const cv::MatSize& shape = out->size;
  if (out->dims != 4 || shape[1] < kOpenPose18Count || shape[2] != config.input_height / kStride ||
      shape[3] != config.input_width / kStride) {
    std::string dims;
    for (int i = 0; i < out->dims; ++i) dims += (i ? "x" : "") + std::to_string(shape[i]);
    return fail("pose model " + config.model_path + " has output " + dims + ", expected 1x57x" +
                std::to_string(config.input_height / kStride) + "x" +
                std::to_string(config.input_width / kStride) + " (18 part heatmaps first); " +
                kModelHint);
  }
  return estimator;
}

OpenPoseEstimator::OpenPoseEstimator(Key /*only create()*/, OpenPoseConfig config,
                                     const cv::dnn::Net& net)
    : config_(std::move(config)), net_(net) {}

std::string OpenPoseEstimator::describe() const {
  return "openpose-mobilenet-v2-small (OpenCV DNN, CPU) " +
         std::filesystem::path(config_.model_path).filename().string() + " input " +
         std::to_string(config_.input_width) + "x" + std::to_string(config_.input_height);
}

Result<cv::Mat> OpenPoseEstimator::forward(const cv::Mat& bgr) {
  try {
    // The frame is stretched, not letterboxed, to the input size: the
    // mapping back in estimate() undoes the stretch per axis.
    const cv::Mat blob = cv::dnn::blobFromImage(
        bgr, kInputScale, cv::Size(config_.input_width, config_.input_height),
        cv::Scalar::all(kInputMean), kSwapRb, /*crop=*/false);
    net_.setInput(blob);
    return net_.forward();
  } catch (const cv::Exception& e) {
    return fail(std::string("forward pass failed: ") + e.what());
  }
}

Result<std::vector<PersonDetection>> OpenPoseEstimator::estimate(const CapturedFrame& frame,
                                                                 const cv::Mat& image) {
  const auto context = [&] {
    return "pose estimation on " + frame.camera_id + " frame " + std::to_string(frame.sequence);
  };
  Result<cv::Mat> bgr = toBgr(image);
  if (!bgr) return fail(context() + ": " + bgr.error());
  Result<cv::Mat> out = forward(*bgr);
  if (!out) return fail(context() + ": " + out.error());

  const int heat_h = out->size[2];
  const int heat_w = out->size[3];
  // Heatmap cell (i, j) covers input pixels [8j, 8j+8) x [8i, 8i+8); its
  // centre, (j + 0.5) * 8, maps to the image by the per-axis stretch.
  const float sx = static_cast<float>(image.cols) / static_cast<float>(heat_w);
  const float sy = static_cast<float>(image.rows) / static_cast<float>(heat_h);

  OpenPose18Points parts{};
  for (int p = 0; p < kOpenPose18Count; ++p) {
    const cv::Mat heatmap(heat_h, heat_w, CV_32F, out->ptr<float>(0, p));
    double peak_value = 0;
    cv::Point peak;
    cv::minMaxLoc(heatmap, nullptr, &peak_value, nullptr, &peak);
    if (!(peak_value >= config_.min_confidence)) continue;  // stays {0, 0, confidence 0}
    const cv::Point2f cell = refinePeak(heatmap, peak);
    parts[p].x = (cell.x + 0.5f) * sx;
    parts[p].y = (cell.y + 0.5f) * sy;
    parts[p].confidence = std::min(1.f, static_cast<float>(peak_value));
  }
  const Pose pose = fromOpenPose18(parts);
  if (pose.validCount() == 0) return std::vector<PersonDetection>{};
  float score = 0;
  for (const Keypoint& k : pose.points) score += k.confidence;
  return std::vector<PersonDetection>{{pose, score / kCoco17Count}};
}

}  // namespace booth
