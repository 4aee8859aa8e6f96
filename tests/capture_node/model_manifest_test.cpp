#include "capture_node/pose/model_manifest.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "pose_model_files.h"

namespace booth {
namespace {

namespace fs = std::filesystem;

nlohmann::json projectJson() { return nlohmann::json::parse(test::readText(test::projectManifest())); }

Result<ModelManifest> parseEdited(const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json j = projectJson();
  edit(j);
  return ModelManifest::parse(j.dump(), "/models/test.json");
}

TEST(ModelManifest, TheProjectManifestDescribesTheTfPoseGraph) {
  auto m = ModelManifest::load(test::projectManifest());
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->format, "tensorflow-graphdef");
  EXPECT_EQ(m->weights.filename(), "tfpose_mobilenet_v2_small_graph_opt.pb");
  EXPECT_TRUE(m->weights.is_absolute());
  EXPECT_EQ(m->input_node, "image");
  EXPECT_EQ(m->channel_order, "BGR");
  EXPECT_EQ(m->output_stride, 8);
  EXPECT_EQ(m->outputChannels(), 57);
  EXPECT_EQ(m->parts, 18);
  EXPECT_EQ(m->limbs.size(), 19u);
  EXPECT_EQ(m->stages, 6);
  ASSERT_TRUE(m->weights_fnv1a64.has_value());
  EXPECT_EQ(*m->weights_fnv1a64, 0x10c88f17cdfa6e14ull);
}

TEST(ModelManifest, RelativeWeightsAreRelativeToTheManifest) {
  auto m = parseEdited([](nlohmann::json& j) { j["weights"] = "net/graph.pb"; });
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->weights, fs::path("/models/net/graph.pb"));
}

TEST(ModelManifest, MissingFileNamesThePathAndTheProjectManifest) {
  auto m = ModelManifest::load("/nonexistent/model.json");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("/nonexistent/model.json"), std::string::npos) << m.error();
  EXPECT_NE(m.error().find("tfpose_mobilenet_v2_small.json"), std::string::npos) << m.error();
}

TEST(ModelManifest, ErrorsNameTheFileTheFieldAndTheValue) {
  struct Case {
    std::function<void(nlohmann::json&)> edit;
    std::string expect;
  } cases[] = {
      {[](auto& j) { j.erase("weights"); }, "missing field 'weights'"},
      {[](auto& j) { j["format"] = "onnx"; }, "format 'onnx'"},
      {[](auto& j) { j["input"]["channel_order"] = "BRG"; }, "channel_order 'BRG'"},
      {[](auto& j) { j["input"]["mean"] = {1, 2}; }, "input.mean needs 3 values, got 2"},
      {[](auto& j) { j["input"]["default_size"] = {430, 368}; }, "got 430"},
      {[](auto& j) { j["input"]["scale"] = "big"; }, "'input.scale' has the wrong type"},
      {[](auto& j) { j["output"]["heatmap_channels"] = 10; }, "heatmap_channels 10"},
      {[](auto& j) { j["output"]["limbs"][3] = {1, 18, 0, 1}; }, "output.limbs[3] parts out of range"},
      {[](auto& j) { j["output"]["limbs"][0] = {1, 2, 40, 1}; }, "output.limbs[0] PAF channels"},
      {[](auto& j) { j["output"]["stages"]["heatmaps"] = "Stage_L2"; }, "{}"},
      {[](auto& j) { j["weights_fnv1a64"] = "xyz"; }, "'xyz'"},
  };
  for (const Case& c : cases) {
    auto m = parseEdited(c.edit);
    ASSERT_FALSE(m.ok()) << c.expect;
    EXPECT_NE(m.error().find(c.expect), std::string::npos) << m.error();
    EXPECT_NE(m.error().find("/models/test.json"), std::string::npos) << m.error();
  }
}

TEST(ModelManifest, NotJsonIsAClearError) {
  auto m = ModelManifest::parse("graph bytes\x01\x02", "/models/x.json");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("not valid JSON"), std::string::npos) << m.error();
}

}  // namespace
}  // namespace booth
