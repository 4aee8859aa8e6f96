#include "capture_node/pose/tensorflow_graph.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pose/tensorflow_graph.pb.h"  // generated from capture_node/pose/tensorflow_graph.proto

namespace booth {
namespace {

constexpr int kDtFloat = 1;  // tensorflow.DataType DT_FLOAT
constexpr int kDtInt32 = 3;  // DT_INT32

// "node:1" and "^node" both name "node".
std::string_view producerOf(std::string_view input) {
  if (!input.empty() && input.front() == '^') input.remove_prefix(1);
  if (const auto colon = input.find(':'); colon != std::string_view::npos) {
    input = input.substr(0, colon);
  }
  return input;
}

}  // namespace

TensorflowGraph::TensorflowGraph(std::shared_ptr<const tfgraph::GraphDef> graph)
    : graph_(std::move(graph)) {}

Result<TensorflowGraph> TensorflowGraph::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail("TensorFlow graph " + path.string() + " not found");
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return fail("cannot read TensorFlow graph " + path.string());
  return parse(bytes, path.string());
}

Result<TensorflowGraph> TensorflowGraph::parse(std::string_view bytes, const std::string& what) {
  auto graph = std::make_shared<tfgraph::GraphDef>();
  if (bytes.empty()) return fail("TensorFlow graph " + what + " is empty");
  if (!graph->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return fail("TensorFlow graph " + what + " is not a binary GraphDef (protobuf parse failed, " +
                std::to_string(bytes.size()) + " bytes)");
  }
  if (graph->node_size() == 0) return fail("TensorFlow graph " + what + " has no nodes");
  return TensorflowGraph(std::move(graph));
}

int TensorflowGraph::nodeCount() const { return graph_->node_size(); }

std::optional<std::string> TensorflowGraph::opOf(std::string_view name) const {
  for (const auto& node : graph_->node()) {
    if (node.name() == name) return node.op();
  }
  return std::nullopt;
}

std::string TensorflowGraph::serialize() const { return graph_->SerializeAsString(); }

Result<TensorflowGraph> TensorflowGraph::withFixedResizeSize(std::string_view resize_node,
                                                             int height, int width) const {
  const std::string size_text = std::to_string(height) + "x" + std::to_string(width);
  if (height <= 0 || width <= 0) {
    return fail("resize size " + size_text + " (HxW) must be positive");
  }
  tfgraph::GraphDef graph = *graph_;
  tfgraph::NodeDef* resize = nullptr;
  for (auto& node : *graph.mutable_node()) {
    if (node.name() == resize_node) resize = &node;
  }
  if (resize == nullptr) {
    return fail("the graph has no node '" + std::string(resize_node) + "' to resize to " +
                size_text);
  }
  if (resize->op() != "ResizeBilinear" && resize->op() != "ResizeNearestNeighbor") {
    return fail("node '" + std::string(resize_node) + "' is a " + resize->op() +
                ", not a ResizeBilinear/ResizeNearestNeighbor");
  }
  if (resize->input_size() < 2) {
    return fail("node '" + std::string(resize_node) + "' has no size input");
  }
  const std::string old_size_input(producerOf(resize->input(1)));
  const std::string const_name = std::string(resize_node) + "/booth_fixed_size";
  resize->set_input(1, const_name);

  // The constant: int32 [height, width], stored as tensor_content (as
  // TensorFlow itself writes it; OpenCV's importer reads it).
  tfgraph::NodeDef size_node;
  size_node.set_name(const_name);
  size_node.set_op("Const");
  (*size_node.mutable_attr())["dtype"].set_type(kDtInt32);
  tfgraph::TensorProto* tensor = (*size_node.mutable_attr())["value"].mutable_tensor();
  tensor->set_dtype(kDtInt32);
  tensor->mutable_tensor_shape()->add_dim()->set_size(2);
  const std::int32_t values[2] = {height, width};
  std::string content(sizeof(values), '\0');
  std::memcpy(content.data(), values, sizeof(values));  // x86/ARM: little-endian, as TF stores it
  tensor->set_tensor_content(content);

  // Drop what only fed the old size: walk up from it while nodes have no
  // consumer left. The old constant of an already rewritten graph goes too.
  std::unordered_map<std::string, int> consumers;
  for (const auto& node : graph.node()) {
    for (const auto& input : node.input()) ++consumers[std::string(producerOf(input))];
  }
  std::unordered_map<std::string, const tfgraph::NodeDef*> by_name;
  for (const auto& node : graph.node()) by_name[node.name()] = &node;
  std::set<std::string> dropped;
  std::vector<std::string> pending = {old_size_input};
  while (!pending.empty()) {
    const std::string name = std::move(pending.back());
    pending.pop_back();
    if (name == const_name || dropped.count(name) || consumers[name] > 0) continue;
    const auto found = by_name.find(name);
    if (found == by_name.end()) continue;
    dropped.insert(name);
    for (const auto& input : found->second->input()) {
      const std::string producer(producerOf(input));
      if (--consumers[producer] == 0) pending.push_back(producer);
    }
  }
  // Everything but the nodes (versions, library: unknown fields here) is kept.
  auto out = std::make_shared<tfgraph::GraphDef>(graph);
  out->clear_node();
  for (const auto& node : graph.node()) {
    if (dropped.count(node.name())) continue;
    if (&node == resize) *out->add_node() = size_node;  // keep the graph topologically ordered
    *out->add_node() = node;
  }
  return TensorflowGraph(std::move(out));
}

Result<TensorflowGraph> TensorflowGraph::withConcat(const std::string& name,
                                                    const std::vector<std::string>& inputs,
                                                    int axis) const {
  if (inputs.empty()) return fail("concat node '" + name + "' needs inputs");
  if (opOf(name)) return fail("the graph already has a node '" + name + "'");
  for (const auto& input : inputs) {
    if (!opOf(producerOf(input))) {
      return fail("concat node '" + name + "': the graph has no node '" + input + "'");
    }
  }
  auto out = std::make_shared<tfgraph::GraphDef>(*graph_);
  tfgraph::NodeDef* axis_node = out->add_node();
  axis_node->set_name(name + "/axis");
  axis_node->set_op("Const");
  (*axis_node->mutable_attr())["dtype"].set_type(kDtInt32);
  tfgraph::TensorProto* tensor = (*axis_node->mutable_attr())["value"].mutable_tensor();
  tensor->set_dtype(kDtInt32);
  tensor->add_int_val(axis);
  tfgraph::NodeDef* concat = out->add_node();
  concat->set_name(name);
  concat->set_op("ConcatV2");
  for (const auto& input : inputs) concat->add_input(input);
  concat->add_input(name + "/axis");
  (*concat->mutable_attr())["N"].set_i(static_cast<std::int64_t>(inputs.size()));
  (*concat->mutable_attr())["T"].set_type(kDtFloat);
  (*concat->mutable_attr())["Tidx"].set_type(kDtInt32);
  return TensorflowGraph(std::move(out));
}

Result<TensorflowGraph> TensorflowGraph::prunedTo(std::string_view output) const {
  std::unordered_map<std::string_view, const tfgraph::NodeDef*> by_name;
  for (const auto& node : graph_->node()) by_name[node.name()] = &node;
  if (!by_name.count(output)) {
    return fail("the graph has no node '" + std::string(output) + "' to prune to");
  }
  std::set<std::string_view> needed;
  std::vector<std::string_view> pending = {output};
  while (!pending.empty()) {
    const std::string_view name = pending.back();
    pending.pop_back();
    if (!needed.insert(name).second) continue;
    const auto found = by_name.find(name);
    if (found == by_name.end()) continue;
    for (const auto& input : found->second->input()) pending.push_back(producerOf(input));
  }
  auto out = std::make_shared<tfgraph::GraphDef>(*graph_);
  out->clear_node();
  for (const auto& node : graph_->node()) {
    if (needed.count(node.name())) *out->add_node() = node;
  }
  return TensorflowGraph(std::move(out));
}


}  // namespace booth
