#include "capture_node/pose/movenet_estimator.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <opencv2/imgproc.hpp>

#include "common/image/frame_image.h"

namespace booth {
namespace {

constexpr const char* kManifestHint =
    "the project's crop manifest is capture_node/pose/models/movenet_singlepose_lightning.json "
    "(it names ../shared/assets/movenet_singlepose_lightning_4_heads.onnx)";

// argmax over the grid of map[y][x] / (distance from (cy, cx) + bias).
cv::Point weightedArgmax(const cv::Mat& map, float cy, float cx, float bias) {
  float best = -INFINITY;
  cv::Point at(0, 0);
  for (int y = 0; y < map.rows; ++y) {
    const float* row = map.ptr<float>(y);
    const float dy2 = (static_cast<float>(y) - cy) * (static_cast<float>(y) - cy);
    for (int x = 0; x < map.cols; ++x) {
      const float dx = static_cast<float>(x) - cx;
      const float v = row[x] / (std::sqrt(dy2 + dx * dx) + bias);
      if (v > best) {
        best = v;
        at = {x, y};
      }
    }
  }
  return at;
}

std::string shapeText(const cv::Mat& m) {
  std::string s;
  for (int i = 0; i < m.dims; ++i) s += (i ? "x" : "") + std::to_string(m.size[i]);
  return s;
}

}  // namespace

Result<std::unique_ptr<MoveNetEstimator>> MoveNetEstimator::create(const MoveNetConfig& config) {
  auto manifest = ModelManifest::load(config.model_path);
  if (!manifest) return fail(manifest.error() + "; " + kManifestHint);
  const ModelManifest& m = *manifest;
  if (!m.isMoveNet()) {
    return fail("pose model manifest " + m.path.string() + " describes a " + m.decoding +
                " network, not a movenet-singlepose one; " + kManifestHint);
  }
  auto bytes = readModelWeights(m);
  if (!bytes) return fail(bytes.error());
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromONNX(bytes->data(), bytes->size());
  } catch (const cv::Exception& e) {
    return fail("cannot load pose model " + m.weights.string() + " (" + e.what() + ")");
  }
  if (net.empty()) return fail("cannot load pose model " + m.weights.string() + " (empty network)");
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  const std::vector<cv::String> layers = net.getLayerNames();
  const std::vector<cv::String> outputs = net.getUnconnectedOutLayersNames();
  for (const auto& [head, field] : {std::pair{m.center_output, "center"},
                                    std::pair{m.heatmap_output, "heatmaps"},
                                    std::pair{m.offset_output, "offsets"},
                                    std::pair{m.regression_output, "regression"}}) {
    if (std::find(outputs.begin(), outputs.end(), head) == outputs.end() &&
        std::find(layers.begin(), layers.end(), head) == layers.end()) {
      return fail("pose model " + m.weights.string() + " has no output '" + head +
                  "' (output.heads." + field + " in " + m.path.string() + ")");
    }
  }

  auto estimator = std::make_unique<MoveNetEstimator>(Key{}, m, net);
  // A trial run proves the heads have the shapes the manifest declares.
  const int side = m.default_width;
  auto out = estimator->forward(cv::Mat(side, side, CV_8UC3, cv::Scalar::all(127)));
  if (!out) {
    return fail("pose model " + m.weights.string() + " does not run: " + out.error());
  }
  const int grid = side / m.output_stride;
  const int channels[4] = {1, m.keypoints, 2 * m.keypoints, 2 * m.keypoints};
  for (int i = 0; i < 4; ++i) {
    const cv::Mat& o = (**out)[i];
    if (o.dims != 4 || o.size[0] != 1 || o.size[1] != channels[i] || o.size[2] != grid ||
        o.size[3] != grid) {
      return fail("pose model " + m.weights.string() + " does not match its manifest " +
                  m.path.string() + ": output '" + estimator->heads_[i] + "' is " + shapeText(o) +
                  ", the manifest says 1x" + std::to_string(channels[i]) + "x" +
                  std::to_string(grid) + "x" + std::to_string(grid));
    }
  }
  return estimator;
}

MoveNetEstimator::MoveNetEstimator(Key /*only create()*/, ModelManifest manifest,
                                   const cv::dnn::Net& net)
    : manifest_(std::move(manifest)), net_(net) {
  heads_ = {manifest_.center_output, manifest_.heatmap_output, manifest_.offset_output,
            manifest_.regression_output};
}

std::string MoveNetEstimator::describe() const {
  return "movenet " + manifest_.name + " (OpenCV DNN, CPU, one person per crop) " +
         manifest_.weights.filename().string() + " input " + std::to_string(inputSide()) + "x" +
         std::to_string(inputSide());
}

void MoveNetEstimator::fillBlob(const cv::Mat& patch, const std::array<double, 3>& mean,
                                double scale, bool rgb, cv::Mat& blob) {
  const int h = patch.rows;
  const int w = patch.cols;
  const int shape[4] = {1, 3, h, w};
  if (blob.dims != 4 || blob.type() != CV_32F || blob.size[1] != 3 || blob.size[2] != h ||
      blob.size[3] != w) {
    blob.create(4, shape, CV_32F);
  }
  // blobFromImage subtracts the mean after the swap: plane c gets source
  // channel from[c] minus mean[c].
  const int from[3] = {rgb ? 2 : 0, 1, rgb ? 0 : 2};
  float* planes[3] = {blob.ptr<float>(0, 0), blob.ptr<float>(0, 1), blob.ptr<float>(0, 2)};
  const float m[3] = {static_cast<float>(mean[0]), static_cast<float>(mean[1]),
                      static_cast<float>(mean[2])};
  const float k = static_cast<float>(scale);
  for (int y = 0; y < h; ++y) {
    const std::uint8_t* row = patch.ptr<std::uint8_t>(y);
    for (int c = 0; c < 3; ++c) {
      float* out = planes[c] + static_cast<std::ptrdiff_t>(y) * w;
      const int ch = from[c];
      for (int x = 0; x < w; ++x) out[x] = (static_cast<float>(row[3 * x + ch]) - m[c]) * k;
    }
  }
}

Result<const std::vector<cv::Mat>*> MoveNetEstimator::forward(const cv::Mat& patch) {
  try {
    const int side = inputSide();
    const cv::Mat* input = &patch;
    cv::Mat resized;
    if (patch.cols != side || patch.rows != side) {
      cv::resize(patch, resized, cv::Size(side, side), 0, 0, cv::INTER_LINEAR);
      input = &resized;
    }
    fillBlob(*input, manifest_.mean, manifest_.scale, manifest_.channel_order == "RGB", blob_);
    net_.setInput(blob_, manifest_.input_node);
    net_.forward(outs_, heads_);
    if (outs_.size() != heads_.size()) return fail("the network gave " + std::to_string(outs_.size()) + " outputs, expected 4");
    return &outs_;
  } catch (const cv::Exception& e) {
    return fail(std::string("forward pass failed: ") + e.what());
  }
}

std::array<CropKeypoint, kCoco17Count> MoveNetEstimator::decode(
    const cv::Mat& center, const std::vector<cv::Mat>& heatmaps,
    const std::vector<cv::Mat>& offsets, const std::vector<cv::Mat>& regression,
    float center_bias) {
  std::array<CropKeypoint, kCoco17Count> out{};
  const int grid = center.rows;
  const float mid = static_cast<float>(grid) / 2.f;
  const cv::Point c = weightedArgmax(center, mid, mid, center_bias);
  for (int k = 0; k < kCoco17Count; ++k) {
    const float ry = static_cast<float>(c.y) + regression[2 * k].at<float>(c.y, c.x);
    const float rx = static_cast<float>(c.x) + regression[2 * k + 1].at<float>(c.y, c.x);
    const cv::Point j = weightedArgmax(heatmaps[k], ry, rx, center_bias);
    out[k].y = (static_cast<float>(j.y) + offsets[2 * k].at<float>(j.y, j.x)) / static_cast<float>(grid);
    out[k].x = (static_cast<float>(j.x) + offsets[2 * k + 1].at<float>(j.y, j.x)) / static_cast<float>(grid);
    out[k].score = heatmaps[k].at<float>(j.y, j.x);
  }
  return out;
}

Result<Pose> MoveNetEstimator::estimate(const cv::Mat& image, const cv::Rect2f& crop) {
  auto bgr = asBgr8(image);
  if (!bgr) return fail(bgr.error());
  if (!(std::isfinite(crop.x) && std::isfinite(crop.y) && std::isfinite(crop.width) &&
        crop.width >= 8.f && std::abs(crop.width - crop.height) <= 0.01f * crop.width &&
        crop.width <= 8.f * static_cast<float>(std::max(image.cols, image.rows)))) {
    return fail("crop " + std::to_string(crop.x) + "," + std::to_string(crop.y) + " " +
                std::to_string(crop.width) + "x" + std::to_string(crop.height) +
                " is not a finite square of 8 px up to 8 frame sides");
  }
  const int side = inputSide();
  const double s = side / static_cast<double>(crop.width);
  // Output pixel u samples the frame at crop.x + u / s; outside: zeros.
  const cv::Matx23d to_crop(s, 0, -crop.x * s, 0, s, -crop.y * s);
  try {
    cv::warpAffine(*bgr, patch_, to_crop, cv::Size(side, side), cv::INTER_LINEAR,
                   cv::BORDER_CONSTANT, cv::Scalar::all(0));
  } catch (const cv::Exception& e) {
    return fail(std::string("crop failed: ") + e.what());
  }
  auto forwarded = forward(patch_);
  if (!forwarded) return fail(forwarded.error());
  const std::vector<cv::Mat>& out = **forwarded;
  const int grid = out[0].size[2];
  const auto planes = [&](const cv::Mat& blob) {
    std::vector<cv::Mat> v;
    for (int c = 0; c < blob.size[1]; ++c) v.emplace_back(grid, grid, CV_32F, const_cast<float*>(blob.ptr<float>(0, c)));
    return v;
  };
  const std::vector<cv::Mat> center = planes(out[0]);
  const auto joints = decode(center[0], planes(out[1]), planes(out[2]), planes(out[3]),
                             static_cast<float>(manifest_.center_bias));
  Pose pose;
  for (int k = 0; k < kCoco17Count; ++k) {
    Keypoint& p = pose.points[k];
    p.x = crop.x + joints[k].x * crop.width;
    p.y = crop.y + joints[k].y * crop.height;
    p.confidence = std::clamp(joints[k].score, 0.f, 1.f);
  }
  return pose;
}

cv::Rect2f MoveNetEstimator::cropFromKeypoints(const Pose& pose, cv::Size frame, float min_score) {
  const auto seen = [&](Coco17 j) {
    const Keypoint& k = pose[j];
    return k.confidence >= min_score && std::isfinite(k.x) && std::isfinite(k.y);
  };
  const bool torso = (seen(Coco17::kLeftHip) || seen(Coco17::kRightHip)) &&
                     (seen(Coco17::kLeftShoulder) || seen(Coco17::kRightShoulder));
  if (!torso || frame.width <= 0 || frame.height <= 0) return {};
  const float cx = (pose[Coco17::kLeftHip].x + pose[Coco17::kRightHip].x) / 2.f;
  const float cy = (pose[Coco17::kLeftHip].y + pose[Coco17::kRightHip].y) / 2.f;
  float torso_x = 0, torso_y = 0, body_x = 0, body_y = 0;
  for (Coco17 j : {Coco17::kLeftShoulder, Coco17::kRightShoulder, Coco17::kLeftHip, Coco17::kRightHip}) {
    torso_x = std::max(torso_x, std::abs(cx - pose[j].x));
    torso_y = std::max(torso_y, std::abs(cy - pose[j].y));
  }
  for (int j = 0; j < kCoco17Count; ++j) {
    if (!seen(static_cast<Coco17>(j))) continue;
    body_x = std::max(body_x, std::abs(cx - pose.points[j].x));
    body_y = std::max(body_y, std::abs(cy - pose.points[j].y));
  }
  float half = std::max({torso_x * 1.9f, torso_y * 1.9f, body_x * 1.2f, body_y * 1.2f});
  const float w = static_cast<float>(frame.width);
  const float h = static_cast<float>(frame.height);
  half = std::min(half, std::max({cx, w - cx, cy, h - cy}));
  if (!(half > 0) || !std::isfinite(half) || half > std::max(w, h) / 2.f) return {};
  return {cx - half, cy - half, 2 * half, 2 * half};
}

cv::Rect2f MoveNetEstimator::cropFromBox(const cv::Rect2f& box, float scale) {
  if (!(box.width > 0 || box.height > 0)) return {};
  const float side = std::max(8.f, scale * std::max(box.width, box.height));
  const float cx = box.x + box.width / 2;
  const float cy = box.y + box.height / 2;
  return {cx - side / 2, cy - side / 2, side, side};
}

}  // namespace booth
