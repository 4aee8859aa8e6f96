#pragma once
// ModelManifest: what the capture node must know to run a pose network and
// read its output, kept in a small JSON file beside the weights (the weights
// themselves are never committed; see capture_node/pose/README.md, "Model
// manifest"). The project's manifests: tf-pose-estimation's MobileNet-v2
// "small" graph (multi-person, the person finder)
// capture_node/pose/models/tfpose_mobilenet_v2_small.json, and MoveNet
// SinglePose Lightning (one person in a crop)
// capture_node/pose/models/movenet_singlepose_lightning.json.
//
// Two kinds, told apart by output.decoding: "openpose-paf" (format
// tensorflow-graphdef: heatmaps + part-affinity fields, OpenPoseEstimator)
// and "movenet-singlepose" (format onnx: centre, heatmaps, offsets and
// regression heads, MoveNetEstimator).
//
// load() checks the manifest on its own (types, ranges, channel indices);
// the estimator's create() then checks it against the network itself
// (the named nodes exist with the expected ops, the output has the declared
// channels at the declared stride) and fails naming the manifest on any
// mismatch.
#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.h"

namespace booth {

// One part-affinity field: the limb from part `a` to part `b` (indices into
// the heatmap parts), with its x and y channels counted from the first PAF
// channel.
struct PafLimb {
  int a = 0;
  int b = 0;
  int x_channel = 0;
  int y_channel = 0;
};

struct ModelManifest {
  std::filesystem::path path;     // the manifest file itself (for messages)
  std::string name;               // e.g. "tfpose-mobilenet-v2-small"
  std::string format;             // "tensorflow-graphdef" or "onnx"
  std::filesystem::path weights;  // resolved: relative paths are relative to the manifest
  std::optional<std::uint64_t> weights_fnv1a64;  // checked at load when present

  // Input: one image, `layout` as the graph declares it (NHWC for
  // TensorFlow); pixel' = (pixel - mean) * scale, channels in
  // `channel_order` ("BGR" or "RGB"). Sizes are width x height.
  std::string input_node;
  std::string input_layout;
  std::string channel_order;
  std::array<double, 3> mean{};
  double scale = 1.0;
  int trained_width = 0;
  int trained_height = 0;
  int default_width = 0;
  int default_height = 0;
  int size_multiple = 1;    // input sizes must be multiples of this
  std::string resize_node;  // ResizeBilinear to pin to the input size ("" if none)

  // Output: one tensor, `output_stride` times smaller than the input:
  // `heatmap_channels` part heatmaps (the parts in `keypoint_layout` order,
  // then any background channel) followed by `paf_channels` PAF channels.
  std::string output_node;
  std::string output_layout;
  int output_stride = 1;
  std::string decoding;         // "openpose-paf" or "movenet-singlepose"
  std::string keypoint_layout;  // "openpose-coco18" (openpose-paf) or "coco17" (movenet)
  int parts = 0;                // heatmaps that are body parts (18 for COCO-18)
  int heatmap_channels = 0;
  int paf_channels = 0;
  std::vector<PafLimb> limbs;
  // Refinement stages (OpenPose-style graphs refine their maps in stages;
  // output.node is the last one's). `stage_heatmaps` and `stage_pafs` name
  // stage k's two outputs with "{}" standing for k; empty when the manifest
  // does not describe stages, and then only all of them can run.
  int stages = 1;
  std::string stage_heatmaps;
  std::string stage_pafs;

  // MoveNet-style single-person heads (decoding "movenet-singlepose"): the
  // output names of the centre map (1 channel), the joint heatmaps
  // (`keypoints` channels, COCO-17 order), the offsets and the regression
  // (2 x keypoints channels each: y then x per joint, in grid cells), on a
  // grid `output_stride` times smaller than the (square, fixed) input.
  // `center_bias`: the constant in the graph's distance weighting
  // score / (distance + center_bias).
  std::string center_output;
  std::string heatmap_output;
  std::string offset_output;
  std::string regression_output;
  int keypoints = 0;
  double center_bias = 1.8;

  bool isMoveNet() const { return decoding == "movenet-singlepose"; }
  int outputChannels() const { return heatmap_channels + paf_channels; }

  // Reads and checks a manifest file. Errors name the file and the field.
  static Result<ModelManifest> load(const std::filesystem::path& path);
  // Same from JSON text; relative weights resolve against manifest_path's folder.
  static Result<ModelManifest> parse(const std::string& json_text,
                                     const std::filesystem::path& manifest_path);
};

// The bytes of the manifest's weights file, checked against
// weights_fnv1a64 when the manifest has it. Errors name the weights and the
// manifest.
Result<std::string> readModelWeights(const ModelManifest& manifest);

// --pose-crop-model auto (capture_node, import-choreography, trainer_node
// pretrain --videos): movenet_singlepose_lightning.json in the folder of
// the --pose-model manifest.
std::string defaultCropModel(const std::string& pose_model);

}  // namespace booth
