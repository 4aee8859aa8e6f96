#include "capture_node/pose/model_manifest.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/core/checksum.h"
#include "common/core/keypoints.h"

namespace booth {
namespace {

using nlohmann::json;

// Field access that names the manifest and the field on any error.
class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  const json* child(const json& parent, const std::string& key, const std::string& path) {
    if (!error_.empty()) return nullptr;
    if (!parent.is_object() || !parent.contains(key)) {
      error_ = where_ + ": missing field '" + path + "'";
      return nullptr;
    }
    return &parent.at(key);
  }

  template <class T>
  T get(const json& parent, const std::string& key, const std::string& path) {
    const json* value = child(parent, key, path);
    if (value == nullptr) return T{};
    try {
      return value->get<T>();
    } catch (const json::exception&) {
      error_ = where_ + ": field '" + path + "' has the wrong type (" + value->dump() + ")";
      return T{};
    }
  }

  void check(bool ok, const std::string& message) {
    if (error_.empty() && !ok) error_ = where_ + ": " + message;
  }

  const std::string& error() const { return error_; }

 private:
  std::string where_;
  std::string error_;
};

// output.* for decoding "openpose-paf" (a TensorFlow graph).
void parseOpenPoseOutput(Reader& r, const json& out, ModelManifest& m) {
  r.check(m.format == "tensorflow-graphdef",
          "format '" + m.format + "' does not go with output.decoding openpose-paf "
          "(a tensorflow-graphdef)");
  m.output_node = r.get<std::string>(out, "node", "output.node");
  m.output_layout = r.get<std::string>(out, "layout", "output.layout");
  r.check(m.output_layout == "NHWC" || m.output_layout == "NCHW",
          "output.layout '" + m.output_layout + "' is not NHWC or NCHW");
  r.check(m.keypoint_layout == "openpose-coco18",
          "output.keypoint_layout '" + m.keypoint_layout +
              "' is not supported (only openpose-coco18)");
  m.parts = r.get<int>(out, "parts", "output.parts");
  r.check(m.parts == 18, "output.parts must be 18 for openpose-coco18, got " +
                             std::to_string(m.parts));
  m.heatmap_channels = r.get<int>(out, "heatmap_channels", "output.heatmap_channels");
  r.check(m.heatmap_channels >= m.parts,
          "output.heatmap_channels " + std::to_string(m.heatmap_channels) +
              " is fewer than the parts (" + std::to_string(m.parts) + ")");
  m.paf_channels = r.get<int>(out, "paf_channels", "output.paf_channels");
  r.check(m.paf_channels >= 2, "output.paf_channels " + std::to_string(m.paf_channels) +
                                   " leaves no limb to decode");
  const json* limbs = r.child(out, "limbs", "output.limbs");
  if (limbs != nullptr) {
    r.check(limbs->is_array() && !limbs->empty(), "output.limbs must be a non-empty array");
    for (std::size_t i = 0; limbs->is_array() && i < limbs->size(); ++i) {
      const json& limb = (*limbs)[i];
      const std::string at = "output.limbs[" + std::to_string(i) + "]";
      std::vector<int> v;
      try {
        v = limb.get<std::vector<int>>();
      } catch (const json::exception&) {
      }
      r.check(v.size() == 4, at + " must be [part_a, part_b, paf_x, paf_y], got " + limb.dump());
      if (v.size() != 4) break;
      const PafLimb l{v[0], v[1], v[2], v[3]};
      r.check(l.a >= 0 && l.a < m.parts && l.b >= 0 && l.b < m.parts && l.a != l.b,
              at + " parts out of range 0.." + std::to_string(m.parts - 1) + ": " + limb.dump());
      r.check(l.x_channel >= 0 && l.x_channel < m.paf_channels && l.y_channel >= 0 &&
                  l.y_channel < m.paf_channels && l.x_channel != l.y_channel,
              at + " PAF channels out of range 0.." + std::to_string(m.paf_channels - 1) + ": " +
                  limb.dump());
      m.limbs.push_back(l);
    }
  }
  if (out.contains("stages")) {
    const json* stages = r.child(out, "stages", "output.stages");
    if (stages != nullptr) {
      m.stages = r.get<int>(*stages, "count", "output.stages.count");
      m.stage_heatmaps = r.get<std::string>(*stages, "heatmaps", "output.stages.heatmaps");
      m.stage_pafs = r.get<std::string>(*stages, "pafs", "output.stages.pafs");
      r.check(m.stages >= 1 && m.stages <= 100,
              "output.stages.count " + std::to_string(m.stages) + " must be in 1..100");
      r.check(m.stage_heatmaps.find("{}") != std::string::npos &&
                  m.stage_pafs.find("{}") != std::string::npos,
              "output.stages.heatmaps and .pafs must contain {} for the stage number");
    }
  }
}

// output.* for decoding "movenet-singlepose" (an ONNX graph, fixed square
// input, four heads).
void parseMoveNetOutput(Reader& r, const json& out, ModelManifest& m) {
  r.check(m.format == "onnx", "format '" + m.format +
                                  "' does not go with output.decoding movenet-singlepose (onnx)");
  r.check(m.keypoint_layout == "coco17", "output.keypoint_layout '" + m.keypoint_layout +
                                             "' is not supported for movenet-singlepose (coco17)");
  r.check(m.default_width == m.default_height && m.default_width == m.trained_width &&
              m.default_height == m.trained_height,
          "movenet-singlepose needs a fixed square input: input.default_size and "
          "input.trained_size equal, width = height (got " +
              std::to_string(m.default_width) + "x" + std::to_string(m.default_height) + ")");
  r.check(m.output_stride >= 1 && m.default_width % std::max(1, m.output_stride) == 0,
          "output.stride " + std::to_string(m.output_stride) + " must divide the input size");
  static const json kEmpty = json::object();
  const json* heads = r.child(out, "heads", "output.heads");
  const json& h = heads ? *heads : kEmpty;
  m.center_output = r.get<std::string>(h, "center", "output.heads.center");
  m.heatmap_output = r.get<std::string>(h, "heatmaps", "output.heads.heatmaps");
  m.offset_output = r.get<std::string>(h, "offsets", "output.heads.offsets");
  m.regression_output = r.get<std::string>(h, "regression", "output.heads.regression");
  m.keypoints = r.get<int>(out, "keypoints", "output.keypoints");
  r.check(m.keypoints == kCoco17Count, "output.keypoints must be 17 for coco17, got " +
                                           std::to_string(m.keypoints));
  m.center_bias = r.get<double>(out, "center_bias", "output.center_bias");
  r.check(m.center_bias > 0 && m.center_bias < 100,
          "output.center_bias must be in (0, 100), got " + std::to_string(m.center_bias));
}

}  // namespace

Result<ModelManifest> ModelManifest::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail("pose model manifest " + path.string() +
                " not found (the project's are capture_node/pose/models/"
                "tfpose_mobilenet_v2_small.json and movenet_singlepose_lightning.json)");
  }
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return fail("cannot read pose model manifest " + path.string());
  return parse(text, path);
}

Result<ModelManifest> ModelManifest::parse(const std::string& json_text,
                                           const std::filesystem::path& manifest_path) {
  const std::string where = "pose model manifest " + manifest_path.string();
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    return fail(where + " is not valid JSON (" + e.what() + ")");
  }
  Reader r(where);
  ModelManifest m;
  m.path = manifest_path;
  m.name = r.get<std::string>(root, "name", "name");
  m.format = r.get<std::string>(root, "format", "format");
  r.check(m.format == "tensorflow-graphdef" || m.format == "onnx",
          "format '" + m.format + "' is not supported (tensorflow-graphdef or onnx)");
  const auto weights = r.get<std::string>(root, "weights", "weights");
  r.check(!weights.empty(), "field 'weights' is empty");
  m.weights = std::filesystem::path(weights);
  if (m.weights.is_relative()) m.weights = manifest_path.parent_path() / m.weights;
  m.weights = m.weights.lexically_normal();
  if (root.contains("weights_fnv1a64")) {
    const auto text = r.get<std::string>(root, "weights_fnv1a64", "weights_fnv1a64");
    std::uint64_t value = 0;
    std::istringstream hex(text);
    hex >> std::hex >> value;
    r.check(!hex.fail() && hex.eof() && !text.empty(),
            "field 'weights_fnv1a64' is not a hex number ('" + text + "')");
    m.weights_fnv1a64 = value;
  }

  static const json kEmpty = json::object();
  const json* input = r.child(root, "input", "input");
  const json& in = input ? *input : kEmpty;
  m.input_node = r.get<std::string>(in, "node", "input.node");
  m.input_layout = r.get<std::string>(in, "layout", "input.layout");
  r.check(m.input_layout == "NHWC" || m.input_layout == "NCHW",
          "input.layout '" + m.input_layout + "' is not NHWC or NCHW");
  m.channel_order = r.get<std::string>(in, "channel_order", "input.channel_order");
  r.check(m.channel_order == "BGR" || m.channel_order == "RGB",
          "input.channel_order '" + m.channel_order + "' is not BGR or RGB");
  const auto mean = r.get<std::vector<double>>(in, "mean", "input.mean");
  r.check(mean.size() == 3, "input.mean needs 3 values, got " + std::to_string(mean.size()));
  for (std::size_t i = 0; i < 3 && i < mean.size(); ++i) m.mean[i] = mean[i];
  m.scale = r.get<double>(in, "scale", "input.scale");
  r.check(m.scale > 0, "input.scale must be positive, got " + std::to_string(m.scale));
  const auto trained = r.get<std::vector<int>>(in, "trained_size", "input.trained_size");
  const auto default_size = r.get<std::vector<int>>(in, "default_size", "input.default_size");
  r.check(trained.size() == 2 && default_size.size() == 2,
          "input.trained_size and input.default_size are [width, height]");
  if (trained.size() == 2 && default_size.size() == 2) {
    m.trained_width = trained[0];
    m.trained_height = trained[1];
    m.default_width = default_size[0];
    m.default_height = default_size[1];
  }
  m.size_multiple = r.get<int>(in, "size_multiple", "input.size_multiple");
  r.check(m.size_multiple >= 1,
          "input.size_multiple must be >= 1, got " + std::to_string(m.size_multiple));
  for (int v : {m.trained_width, m.trained_height, m.default_width, m.default_height}) {
    r.check(v > 0 && m.size_multiple >= 1 && v % m.size_multiple == 0,
            "input sizes must be positive multiples of input.size_multiple (" +
                std::to_string(m.size_multiple) + "), got " + std::to_string(v));
  }
  if (in.contains("resize_node")) m.resize_node = r.get<std::string>(in, "resize_node", "input.resize_node");

  const json* output = r.child(root, "output", "output");
  const json& out = output ? *output : kEmpty;
  m.decoding = r.get<std::string>(out, "decoding", "output.decoding");
  m.keypoint_layout = r.get<std::string>(out, "keypoint_layout", "output.keypoint_layout");
  m.output_stride = r.get<int>(out, "stride", "output.stride");
  r.check(m.output_stride >= 1 && m.size_multiple % std::max(1, m.output_stride) == 0,
          "output.stride " + std::to_string(m.output_stride) +
              " must be >= 1 and divide input.size_multiple");
  if (m.decoding == "movenet-singlepose") {
    parseMoveNetOutput(r, out, m);
  } else {
    r.check(m.decoding == "openpose-paf",
            "output.decoding '" + m.decoding +
                "' is not supported (openpose-paf or movenet-singlepose)");
    parseOpenPoseOutput(r, out, m);
  }
  if (!r.error().empty()) return fail(r.error());
  return m;
}

Result<std::string> readModelWeights(const ModelManifest& m) {
  const std::string weights = m.weights.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(m.weights, ec)) {
    return fail("pose model weights " + weights + " (named by " + m.path.string() +
                ") not found");
  }
  std::ifstream in(m.weights, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return fail("cannot read pose model weights " + weights);
  if (m.weights_fnv1a64) {
    const std::uint64_t actual = fnv1a64(bytes);
    if (actual != *m.weights_fnv1a64) {
      std::ostringstream message;
      message << "pose model weights " << weights << " do not match manifest " << m.path.string()
              << " (FNV-1a 64 " << std::hex << actual << ", manifest says "
              << *m.weights_fnv1a64 << "): a corrupt or different file";
      return fail(message.str());
    }
  }
  return bytes;
}

std::string defaultCropModel(const std::string& pose_model) {
  return (std::filesystem::path(pose_model).parent_path() / "movenet_singlepose_lightning.json")
      .string();
}

}  // namespace booth
