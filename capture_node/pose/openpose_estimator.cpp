#include "capture_node/pose/openpose_estimator.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <thread>
#include <utility>

#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "capture_node/pose/tensorflow_graph.h"
#include "common/image/frame_image.h"

namespace booth {
namespace {

constexpr const char* kManifestHint =
    "the project's manifest is capture_node/pose/models/tfpose_mobilenet_v2_small.json (it names "
    "../shared/assets/tfpose_mobilenet_v2_small_graph_opt.pb)";

std::string sizeText(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

std::string stageNode(const std::string& pattern, int stage) {
  std::string name = pattern;
  name.replace(name.find("{}"), 2, std::to_string(stage));
  return name;
}

// The graph named by the manifest, checked against its checksum and its
// declared nodes, cut after `stages` refinement stages when that is fewer
// than all, and rewritten for `input`. Returns the serialized graph.
Result<std::string> prepareGraph(const ModelManifest& m, cv::Size input, int stages) {
  const std::string weights = m.weights.string();
  auto bytes = readModelWeights(m);
  if (!bytes) return fail(bytes.error());
  auto graph = TensorflowGraph::parse(*bytes, weights);
  if (!graph) return fail("pose model: " + graph.error());

  const auto expect_op = [&](const std::string& node, std::initializer_list<const char*> ops,
                             const std::string& field) -> Status {
    const auto op = graph->opOf(node);
    if (!op) {
      return fail("pose model " + weights + " has no node '" + node + "' (" + field + " in " +
                  m.path.string() + ")");
    }
    if (ops.size() > 0 && std::none_of(ops.begin(), ops.end(),
                                       [&](const char* o) { return *op == o; })) {
      return fail("pose model " + weights + ": node '" + node + "' (" + field + " in " +
                  m.path.string() + ") is a " + *op + ", not a " + *ops.begin());
    }
    return okStatus();
  };
  if (auto st = expect_op(m.input_node, {"Placeholder"}, "input.node"); !st) return fail(st.error());
  if (auto st = expect_op(m.output_node, {}, "output.node"); !st) return fail(st.error());

  if (stages < m.stages) {
    const std::string heatmaps = stageNode(m.stage_heatmaps, stages);
    const std::string pafs = stageNode(m.stage_pafs, stages);
    if (auto st = expect_op(heatmaps, {}, "output.stages.heatmaps"); !st) return fail(st.error());
    if (auto st = expect_op(pafs, {}, "output.stages.pafs"); !st) return fail(st.error());
    // That stage's output, laid out like the last one's: heatmaps, then PAFs.
    const std::string output = "booth_stage" + std::to_string(stages) + "_output";
    auto cut = graph->withConcat(output, {heatmaps, pafs}, m.output_layout == "NHWC" ? 3 : 1);
    if (cut) cut = cut->prunedTo(output);
    if (!cut) return fail("pose model " + weights + ": " + cut.error());
    graph = std::move(cut);
  }
  if (!m.resize_node.empty()) {
    if (auto st = expect_op(m.resize_node, {"ResizeBilinear", "ResizeNearestNeighbor"},
                            "input.resize_node");
        !st) {
      return fail(st.error());
    }
    // The resize produces the output-stride map from a coarser one.
    auto rewritten = graph->withFixedResizeSize(m.resize_node, input.height / m.output_stride,
                                                input.width / m.output_stride);
    if (!rewritten) return fail("pose model " + weights + ": " + rewritten.error());
    graph = std::move(rewritten);
  }
  return graph->serialize();
}

}  // namespace

Result<std::unique_ptr<OpenPoseEstimator>> OpenPoseEstimator::create(const OpenPoseConfig& config) {
  if (config.input_width < 0 || config.input_height < 0 ||
      (config.input_width == 0) != (config.input_height == 0)) {
    return fail("pose network input " + sizeText(config.input_width, config.input_height) +
                " must be both positive, or both 0 for the manifest's default");
  }
  const std::filesystem::path model(config.model_path);
  if (model.extension() == ".pb") {
    return fail("--pose-model " + config.model_path +
                " is a graph, not a model manifest: pass the manifest that names it; " +
                kManifestHint);
  }
  auto manifest = ModelManifest::load(model);
  if (!manifest) return fail(manifest.error() + "; " + kManifestHint);
  const ModelManifest& m = *manifest;
  if (m.decoding != "openpose-paf") {
    return fail("pose model manifest " + m.path.string() + " describes a " + m.decoding +
                " network, not a multi-person openpose-paf one; " + kManifestHint);
  }

  const cv::Size input = config.input_width > 0
                             ? cv::Size(config.input_width, config.input_height)
                             : cv::Size(m.default_width, m.default_height);
  if (input.width % m.size_multiple != 0 || input.height % m.size_multiple != 0 ||
      input.width < m.size_multiple * 2 || input.height < m.size_multiple * 2 ||
      input.width > 4096 || input.height > 4096) {
    return fail("pose network input " + sizeText(input.width, input.height) +
                " must be multiples of " + std::to_string(m.size_multiple) + " from " +
                sizeText(m.size_multiple * 2, m.size_multiple * 2) + " to 4096x4096 (" +
                m.path.string() + ")");
  }
  if (config.decoder.paf_samples < 2 || !(config.decoder.peak_threshold > 0.f) ||
      !(config.decoder.paf_min_support >= 0.f && config.decoder.paf_min_support <= 1.f)) {
    return fail("pose decoder settings out of range (paf_samples " +
                std::to_string(config.decoder.paf_samples) + " must be >= 2, peak_threshold " +
                std::to_string(config.decoder.peak_threshold) + " > 0, paf_min_support " +
                std::to_string(config.decoder.paf_min_support) + " in [0, 1])");
  }

  if (config.stages < 0 || config.stages > m.stages ||
      (config.stages > 0 && config.stages < m.stages && m.stage_heatmaps.empty())) {
    return fail("pose network stages " + std::to_string(config.stages) + " out of range 1.." +
                std::to_string(m.stages) + " (0: all) for " + m.path.string());
  }
  const int stages = config.stages == 0 ? m.stages : config.stages;
  auto graph = prepareGraph(m, input, stages);
  if (!graph) return fail(graph.error());
  cv::dnn::Net net;
  try {
    net = cv::dnn::readNetFromTensorflow(graph->data(), graph->size());
  } catch (const cv::Exception& e) {
    return fail("cannot load pose model " + m.weights.string() + " at input " +
                sizeText(input.width, input.height) + " (" + e.what() + ")");
  }
  if (net.empty()) {
    return fail("cannot load pose model " + m.weights.string() + " (empty network)");
  }
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);

  auto estimator = std::make_unique<OpenPoseEstimator>(Key{}, m, input, net, config.decoder);
  // A trial run: proves the graph runs at this input size and has the output
  // the manifest declares, before the first real frame depends on it.
  const cv::Mat blank(input, CV_8UC3, cv::Scalar::all(127));
  Result<cv::Mat> out = estimator->forward(blank);
  if (!out) {
    return fail("pose model " + m.weights.string() + " does not run at input " +
                sizeText(input.width, input.height) + ": " + out.error());
  }
  const cv::MatSize& shape = out->size;
  const int expect_h = input.height / m.output_stride;
  const int expect_w = input.width / m.output_stride;
  if (out->dims != 4 || shape[0] != 1 || shape[1] != m.outputChannels() || shape[2] != expect_h ||
      shape[3] != expect_w) {
    std::string dims;
    for (int i = 0; i < out->dims; ++i) dims += (i ? "x" : "") + std::to_string(shape[i]);
    return fail("pose model " + m.weights.string() + " does not match its manifest " +
                m.path.string() + ": output is " + dims + ", the manifest says 1x" +
                std::to_string(m.outputChannels()) + "x" + std::to_string(expect_h) + "x" +
                std::to_string(expect_w) + " (" + std::to_string(m.heatmap_channels) +
                " heatmaps + " + std::to_string(m.paf_channels) + " PAF channels at stride " +
                std::to_string(m.output_stride) + ")");
  }
  return estimator;
}

cv::Size OpenPoseEstimator::inputSizeFor(cv::Size frame, cv::Size reference, int multiple) {
  multiple = std::max(1, multiple);
  if (frame.width <= 0 || frame.height <= 0 || reference.area() <= 0) return reference;
  const double aspect = static_cast<double>(frame.width) / frame.height;
  const double area = static_cast<double>(reference.area());
  const auto round_to = [multiple](double v) {
    return std::max(2 * multiple, static_cast<int>(std::lround(v / multiple)) * multiple);
  };
  return {round_to(std::sqrt(area * aspect)), round_to(std::sqrt(area / aspect))};
}

int OpenPoseEstimator::configureOpenCvThreads(int workers) {
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  workers = std::max(1, workers);
  const int threads = workers >= cores ? 1 : cores / workers;
  cv::setNumThreads(threads);
  return threads;
}

OpenPoseEstimator::OpenPoseEstimator(Key /*only create()*/, ModelManifest manifest,
                                     cv::Size input, const cv::dnn::Net& net,
                                     const OpenPoseDecoderConfig& decoder)
    : manifest_(std::move(manifest)),
      input_(input),
      net_(net),
      decoder_(decoder, manifest_.parts, manifest_.limbs) {}

std::string OpenPoseEstimator::describe() const {
  return "openpose " + manifest_.name + " (OpenCV DNN, CPU, multi-person) " +
         manifest_.weights.filename().string() + " input " + sizeText(input_.width, input_.height);
}

Result<cv::Mat> OpenPoseEstimator::forward(const cv::Mat& bgr) {
  try {
    // The frame is stretched, not letterboxed, to the input size: the
    // mapping back in estimate() undoes the stretch per axis.
    const cv::Mat blob = cv::dnn::blobFromImage(
        bgr, manifest_.scale, input_,
        cv::Scalar(manifest_.mean[0], manifest_.mean[1], manifest_.mean[2]),
        /*swapRB=*/manifest_.channel_order == "RGB", /*crop=*/false);
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
  Result<cv::Mat> bgr = asBgr8(image);
  if (!bgr) return fail(context() + ": " + bgr.error());
  Result<cv::Mat> out = forward(*bgr);
  if (!out) return fail(context() + ": " + out.error());

  // NCHW float: channel c is a heat_h x heat_w plane at ptr(0, c).
  const int heat_h = out->size[2];
  const int heat_w = out->size[3];
  std::vector<cv::Mat> heatmaps;
  std::vector<cv::Mat> pafs;
  heatmaps.reserve(manifest_.heatmap_channels);
  pafs.reserve(manifest_.paf_channels);
  for (int c = 0; c < manifest_.heatmap_channels; ++c) {
    heatmaps.emplace_back(heat_h, heat_w, CV_32F, out->ptr<float>(0, c));
  }
  for (int c = 0; c < manifest_.paf_channels; ++c) {
    pafs.emplace_back(heat_h, heat_w, CV_32F, out->ptr<float>(0, manifest_.heatmap_channels + c));
  }
  // A map cell covers output_stride input pixels; the input is the image
  // stretched per axis.
  const cv::Point2f cell_to_image(static_cast<float>(image.cols) / static_cast<float>(heat_w),
                                  static_cast<float>(image.rows) / static_cast<float>(heat_h));
  return decoder_.decode(heatmaps, pafs, cell_to_image);
}

}  // namespace booth
