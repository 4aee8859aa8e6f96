#include "capture_node/pose/tensorflow_graph.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/dnn.hpp>

#include "shared_assets.h"

namespace booth {
namespace {

constexpr const char* kResize = "base/layer_14/output/upsample";

TensorflowGraph published() {
  auto graph = TensorflowGraph::load(test::requireSharedAsset("tfpose_mobilenet_v2_small_graph_opt.pb"));
  EXPECT_TRUE(graph.ok()) << graph.error();
  return std::move(graph).value();
}

TEST(TensorflowGraph, NotAGraphIsAnErrorNamingIt) {
  auto graph = TensorflowGraph::parse("\xff\xff\xff not protobuf", "bad.pb");
  ASSERT_FALSE(graph.ok());
  EXPECT_NE(graph.error().find("bad.pb"), std::string::npos) << graph.error();
  auto missing = TensorflowGraph::load("/nonexistent/graph.pb");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("/nonexistent/graph.pb"), std::string::npos);
}

TEST(TensorflowGraph, ParseAndSerializeIsLossless) {
  const auto path = test::requireSharedAsset("tfpose_mobilenet_v2_small_graph_opt.pb");
  const TensorflowGraph graph = published();
  const std::string bytes = graph.serialize();
  // Attribute maps may come out in another order; nothing is lost or added
  // (the function library and versions ride along as unknown fields).
  EXPECT_EQ(bytes.size(), std::filesystem::file_size(path));
  const auto again = TensorflowGraph::parse(bytes, "again");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->nodeCount(), 916);
  EXPECT_EQ(again->serialize().size(), bytes.size());
}

TEST(TensorflowGraph, FixedResizeSizeReplacesTheShapeChainWithAConstant) {
  const TensorflowGraph graph = published();
  ASSERT_EQ(graph.opOf("Shape"), "Shape");
  auto fixed = graph.withFixedResizeSize(kResize, 30, 40);
  ASSERT_TRUE(fixed.ok()) << fixed.error();
  EXPECT_EQ(fixed->opOf(std::string(kResize) + "/booth_fixed_size"), "Const");
  // Shape, strided_slice and its three constants are gone; nothing else.
  EXPECT_FALSE(fixed->opOf("Shape").has_value());
  EXPECT_FALSE(fixed->opOf("strided_slice").has_value());
  EXPECT_FALSE(fixed->opOf("strided_slice/stack_1").has_value());
  EXPECT_EQ(fixed->opOf("MobilenetV2/expanded_conv_5/add"), "Add");
  EXPECT_EQ(fixed->nodeCount(), graph.nodeCount() - 5 + 1);
  EXPECT_EQ(graph.nodeCount(), 916);  // the original is untouched
}

TEST(TensorflowGraph, TheRewrittenGraphLoadsInOpenCvAtThatSize) {
  auto fixed = published().withFixedResizeSize(kResize, 30, 40);
  ASSERT_TRUE(fixed.ok()) << fixed.error();
  const std::string bytes = fixed->serialize();
  cv::dnn::Net net = cv::dnn::readNetFromTensorflow(bytes.data(), bytes.size());
  net.setInput(cv::dnn::blobFromImage(cv::Mat(240, 320, CV_8UC3, cv::Scalar::all(90))));
  const cv::Mat out = net.forward();
  ASSERT_EQ(out.dims, 4);
  EXPECT_EQ(out.size[1], 57);
  EXPECT_EQ(out.size[2], 30);
  EXPECT_EQ(out.size[3], 40);
}

TEST(TensorflowGraph, AnAlreadyRewrittenGraphCanBeRewrittenAgain) {
  auto graph = TensorflowGraph::load(test::requireSharedAsset("tfpose_mobilenet_v2_small_368x432.pb"));
  ASSERT_TRUE(graph.ok()) << graph.error();
  auto fixed = graph->withFixedResizeSize(kResize, 24, 32);
  ASSERT_TRUE(fixed.ok()) << fixed.error();
  EXPECT_FALSE(fixed->opOf("upsample_size").has_value());  // the old constant is dropped
  EXPECT_EQ(fixed->nodeCount(), graph->nodeCount());
}

TEST(TensorflowGraph, EditErrorsNameTheNodeAndValue) {
  const TensorflowGraph graph = published();
  auto no_node = graph.withFixedResizeSize("no/such/node", 30, 40);
  ASSERT_FALSE(no_node.ok());
  EXPECT_NE(no_node.error().find("no/such/node"), std::string::npos);
  auto not_resize = graph.withFixedResizeSize("Shape", 30, 40);
  ASSERT_FALSE(not_resize.ok());
  EXPECT_NE(not_resize.error().find("is a Shape"), std::string::npos) << not_resize.error();
  auto bad_size = graph.withFixedResizeSize(kResize, 0, 40);
  ASSERT_FALSE(bad_size.ok());
  EXPECT_NE(bad_size.error().find("0x40"), std::string::npos) << bad_size.error();
  EXPECT_FALSE(graph.prunedTo("nowhere").ok());
  EXPECT_FALSE(graph.withConcat("c", {"nowhere"}, 3).ok());
}

TEST(TensorflowGraph, CuttingAfterAStageKeepsOnlyWhatItNeeds) {
  const std::string heatmaps = "Openpose/MConv_Stage2_L2_5_pointwise/BatchNorm/FusedBatchNorm";
  const std::string pafs = "Openpose/MConv_Stage2_L1_5_pointwise/BatchNorm/FusedBatchNorm";
  auto cut = published().withConcat("out", {heatmaps, pafs}, 3);
  ASSERT_TRUE(cut.ok()) << cut.error();
  cut = cut->prunedTo("out");
  ASSERT_TRUE(cut.ok()) << cut.error();
  EXPECT_FALSE(cut->opOf("Openpose/concat_stage7").has_value());
  EXPECT_FALSE(cut->opOf("Openpose/MConv_Stage3_concat").has_value());
  EXPECT_EQ(cut->opOf("out"), "ConcatV2");
  auto fixed = cut->withFixedResizeSize(kResize, 30, 40);
  ASSERT_TRUE(fixed.ok()) << fixed.error();
  const std::string bytes = fixed->serialize();
  cv::dnn::Net net = cv::dnn::readNetFromTensorflow(bytes.data(), bytes.size());
  net.setInput(cv::dnn::blobFromImage(cv::Mat(240, 320, CV_8UC3, cv::Scalar::all(90))));
  const cv::Mat out = net.forward();
  EXPECT_EQ(out.size[1], 57);
  EXPECT_EQ(out.size[2], 30);
}

}  // namespace
}  // namespace booth
