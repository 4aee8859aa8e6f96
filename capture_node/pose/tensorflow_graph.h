#pragma once
// TensorflowGraph: a frozen TensorFlow GraphDef, parsed with protobuf from a
// minimal copy of TensorFlow's schema (tensorflow_graph.proto), for the one
// rewrite OpenCV 4.6's importer needs to run an OpenPose-style graph at an
// input size of our choosing, and for cutting the graph short after an
// intermediate refinement stage.
//
// Why: tf-pose-estimation's graphs upsample a stride-16 feature map to the
// stride-8 size with ResizeBilinear, taking the output size from
// Shape -> StridedSlice of another tensor. OpenCV 4.6 cannot fold that
// dynamic size ("Can't parse layer for node=... of type=ResizeBilinear").
// withFixedResizeSize() replaces the size input with a constant int32 [H, W]
// and drops the nodes that only computed it; nothing else changes, so the
// weights stay bit-identical. See ../shared/assets/README.md.
//
// Immutable after load(): copies share the parsed graph, and any thread may
// call the const members concurrently.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"

namespace booth {

namespace tfgraph {
class GraphDef;
}

class TensorflowGraph {
 public:
  // Parses a binary GraphDef. Errors name the file: missing, unreadable, not
  // a GraphDef, or without nodes.
  static Result<TensorflowGraph> load(const std::filesystem::path& path);
  // Same from bytes already read; `what` names them in errors.
  static Result<TensorflowGraph> parse(std::string_view bytes, const std::string& what);

  int nodeCount() const;
  // The op of node `name` ("Placeholder", "ResizeBilinear", ...), nullopt if
  // there is no such node.
  std::optional<std::string> opOf(std::string_view name) const;

  // Edits. Each returns a new graph and leaves this one as it is; errors
  // name the node and the value.
  //
  // Node `resize_node` (a ResizeBilinear or ResizeNearestNeighbor) resizes
  // to a constant height x width. The constant is a new node named
  // "<resize_node>/booth_fixed_size"; nodes left without consumers by the
  // change (the old Shape/StridedSlice chain) are dropped. Works on a graph
  // that was already rewritten, too.
  Result<TensorflowGraph> withFixedResizeSize(std::string_view resize_node, int height,
                                              int width) const;
  // A new ConcatV2 node `name` joining `inputs` along `axis` (e.g. the
  // heatmaps and PAFs of an intermediate stage into one output).
  Result<TensorflowGraph> withConcat(const std::string& name,
                                     const std::vector<std::string>& inputs, int axis) const;
  // Only the nodes that `output` depends on, in their original order.
  Result<TensorflowGraph> prunedTo(std::string_view output) const;

  // The graph as loaded, serialized again (lossless).
  std::string serialize() const;

 private:
  explicit TensorflowGraph(std::shared_ptr<const tfgraph::GraphDef> graph);

  std::shared_ptr<const tfgraph::GraphDef> graph_;
};

}  // namespace booth
