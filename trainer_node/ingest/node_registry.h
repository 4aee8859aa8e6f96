#pragma once
// NodeRegistry: the capture nodes the ingest knows, by connection (ZeroMQ
// routing id). A node is registered by a valid Hello (its id, its cameras,
// its pose source), refreshed by every message it sends (Hello doubles as
// heartbeat) and dropped when silent for longer than the node timeout, or
// when the same node id says Hello from a new connection (it restarted).
//
// Everything in a Hello is hostile until checked: the node id and camera
// ids must be safe ids, at most 64 cameras, strings are cut to bounded
// lengths, and with keys the Hello must name the node its key is listed
// under. A refused Hello changes nothing; the answer says why.
//
// Threading: the ingest thread only, except refusedHellos() (any thread).
// No I/O.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "booth.pb.h"
#include "common/core/clock.h"
#include "common/core/performer_status.h"

namespace booth {

// One camera of a connected node, as its last heartbeat described it.
struct CameraStatus {
  std::string camera_id;
  std::string kind;          // "v4l2", "video", "synthetic"
  std::string pixel_format;  // e.g. "MJPG", "YUYV"; empty when not a V4L2 camera
  std::string state;         // "idle", "capturing", "stalled", "gone"
  int width = 0;             // granted by the device
  int height = 0;
  double fps = 0;           // granted (nominal) frame rate
  double measured_fps = 0;  // frames per second delivered recently (0 when idle)
  std::uint64_t frames = 0;        // delivered since the node started
  std::uint64_t dropped = 0;       // frames the driver or the node dropped
  std::uint64_t error_frames = 0;  // corrupt buffers skipped
  // Where the performer is (PerformerStatus, performer_status_intake.h);
  // nullopt: not reported since the node's last session started.
  std::optional<CameraPerformer> performer;
};

struct NodeInfo {
  std::string node_id;
  std::vector<CameraStatus> cameras;
  std::string pose_source;
  double seconds_since_seen = 0;
};

// A connected node as the registry holds it.
struct RegisteredNode {
  std::string node_id;
  NodeInfo info;
  Clock::TimePoint last_seen;
};

// Why a Hello was refused: the answer for the peer (a ProtocolError) and,
// when the refusal is worth a (rate-limited) warning, the log line.
struct HelloRefusal {
  std::string answer;
  std::string warning;
};

class NodeRegistry {
 public:
  explicit NodeRegistry(const Clock& clock) : clock_(clock) {}

  // Registers (or refreshes) the node behind `routing_id`. `key_id` is the
  // id the node's CURVE key is listed under; empty when the ingest runs
  // without keys (then the Hello's id is taken as said).
  std::optional<HelloRefusal> hello(const std::string& routing_id, const std::string& key_id,
                                    bool keys_required, const v2::Hello& hello);
  // The node behind a connection, nullptr when it never said Hello (or was
  // dropped). A message from it counts as a sign of life: touch() it.
  RegisteredNode* find(const std::string& routing_id);
  void touch(RegisteredNode& node) { node.last_seen = clock_.steady(); }
  // The connections of a node id (one, or none when it is away).
  std::vector<std::string> routesOf(const std::string& node_id) const;
  bool connected(const std::string& node_id) const { return !routesOf(node_id).empty(); }
  bool empty() const { return nodes_.empty(); }
  // Every connected node, with the seconds since it was last heard.
  std::vector<NodeInfo> snapshot() const;
  // Drops nodes silent for longer than `timeout`.
  void dropSilent(std::chrono::milliseconds timeout);

  std::uint64_t refusedHellos() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const Clock& clock_;
  std::map<std::string, RegisteredNode> nodes_;  // by routing id
  std::atomic<std::uint64_t> refused_{0};
};

// Printable, bounded copy of an untrusted string for logs and errors.
std::string quotedForLog(const std::string& s);

}  // namespace booth
