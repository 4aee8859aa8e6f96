#include "trainer_node/ingest/node_registry.h"

#include <spdlog/spdlog.h>

#include "common/core/safe_id.h"
#include "trainer_node/ingest/performer_status_intake.h"

namespace booth {

std::string quotedForLog(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 64) out += "...";
  return "'" + out + "'";
}

std::optional<HelloRefusal> NodeRegistry::hello(const std::string& routing_id,
                                                const std::string& key_id, bool keys_required,
                                                const v2::Hello& hello) {
  auto refuse = [this](std::string answer, std::string warning = {}) {
    ++refused_;
    return std::optional<HelloRefusal>(HelloRefusal{std::move(answer), std::move(warning)});
  };
  // With keys the node is who its key says; its Hello must agree.
  if (keys_required && hello.node_id() != key_id) {
    return refuse("this key belongs to node '" + key_id + "', not " +
                      quotedForLog(hello.node_id()) + "; set --node-id " + key_id,
                  "ingest: the key of node '" + key_id + "' came with a Hello naming " +
                      quotedForLog(hello.node_id()));
  }
  if (!isSafeId(hello.node_id())) {
    return refuse("node id " + quotedForLog(hello.node_id()) +
                      " is not valid: use 1-64 letters, digits, '.', '_' or '-'",
                  "ingest: refusing a Hello with the invalid node id " +
                      quotedForLog(hello.node_id()));
  }
  constexpr int kMaxCameras = 64;
  if (hello.cameras_size() > kMaxCameras) {
    return refuse("a node may announce at most 64 cameras");
  }
  for (const auto& c : hello.cameras()) {
    if (!isSafeId(c.camera_id())) {
      return refuse("camera id " + quotedForLog(c.camera_id()) + " is not valid");
    }
  }
  // The same node from a new connection (it restarted): the old one is stale.
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (it->first != routing_id && it->second.node_id == hello.node_id()) {
      spdlog::info("capture node '{}' reconnected", hello.node_id());
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  auto [it, fresh] = nodes_.try_emplace(routing_id);
  if (fresh) {
    spdlog::info("capture node '{}' connected: {} camera(s), pose {}", hello.node_id(),
                 hello.cameras_size(), quotedForLog(hello.pose_source()));
  }
  RegisteredNode& node = it->second;
  node.node_id = hello.node_id();
  node.last_seen = clock_.steady();
  node.info.node_id = hello.node_id();
  node.info.pose_source = hello.pose_source().substr(0, 200);
  const std::vector<CameraStatus> before = std::move(node.info.cameras);
  node.info.cameras.clear();
  for (const auto& c : hello.cameras()) {
    CameraStatus cam;
    cam.camera_id = c.camera_id();
    cam.kind = c.kind().substr(0, 32);
    cam.pixel_format = c.pixel_format().substr(0, 16);
    cam.state = c.state().substr(0, 16);
    cam.width = static_cast<int>(c.width());
    cam.height = static_cast<int>(c.height());
    cam.fps = c.fps();
    cam.measured_fps = c.measured_fps();
    cam.frames = c.frames();
    cam.dropped = c.dropped();
    cam.error_frames = c.error_frames();
    node.info.cameras.push_back(std::move(cam));
  }
  keepPerformers(before, node.info.cameras);
  return std::nullopt;
}

RegisteredNode* NodeRegistry::find(const std::string& routing_id) {
  auto it = nodes_.find(routing_id);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<std::string> NodeRegistry::routesOf(const std::string& node_id) const {
  std::vector<std::string> out;
  for (const auto& [rid, node] : nodes_) {
    if (node.node_id == node_id) out.push_back(rid);
  }
  return out;
}

std::vector<NodeInfo> NodeRegistry::snapshot() const {
  std::vector<NodeInfo> out;
  for (const auto& [rid, node] : nodes_) {
    NodeInfo info = node.info;
    info.seconds_since_seen = secondsBetween(node.last_seen, clock_.steady());
    out.push_back(std::move(info));
  }
  return out;
}

void NodeRegistry::dropSilent(std::chrono::milliseconds timeout) {
  const auto now = clock_.steady();
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (now - it->second.last_seen > timeout) {
      spdlog::warn("capture node '{}' went silent; removed", it->second.node_id);
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace booth
