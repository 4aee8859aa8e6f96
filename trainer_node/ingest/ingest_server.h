#pragma once
// IngestServer: the trainer's end of the wire. Owns the ROUTER socket on its
// own thread: registers capture nodes (Hello, as heartbeat), sends
// SessionStart to them, stores every FrameRecord durably before acking it,
// verifies each node's SessionManifest and, when every node of a session
// has closed it, queues the session's job.
//
// Threading: the socket lives on the ingest thread only. Other threads talk
// to it through startSession() and nodes(), which hand work over a
// mutex-guarded queue and wait for the answer.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "booth.pb.h"
#include "common/core/result.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/session_store.h"

namespace booth {

struct IngestConfig {
  std::string endpoint = "tcp://127.0.0.1:5555";      // bound here
  std::chrono::milliseconds node_timeout{5000};       // no Hello for this long: node gone
  std::chrono::milliseconds session_timeout{120000};  // no data from a node for this long
  std::string trainer_id = "trainer";
};

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
};

struct NodeInfo {
  std::string node_id;
  std::vector<CameraStatus> cameras;
  std::string pose_source;
  double seconds_since_seen = 0;
};

// Counters since the trainer started, for /metrics.
struct IngestStats {
  std::uint64_t frames_received = 0;  // frame records newly stored (resends not counted)
  std::uint64_t frames_rejected = 0;  // frame records refused (unknown session, write error)
};

struct SessionRequest {
  double capture_seconds = 15;
  double train_budget_seconds = 0;
  std::string choreography;
};

class IngestServer {
 public:
  IngestServer(IngestConfig config, JobStore& jobs, SessionStore& sessions);
  ~IngestServer();

  // Binds and starts the ingest thread; fails naming the endpoint when the
  // port is in use or the endpoint is invalid.
  Status start();
  void stop();

  // Creates a session and its job and tells every connected node to
  // capture. Fails when no capture node is connected.
  Result<JobRecord> startSession(const SessionRequest& request);
  std::vector<NodeInfo> nodes();
  // Ends a session that is still being captured or received (the operator
  // cancelled it): its capture nodes get SessionStop and the job is marked
  // failed with `reason`. false when the session is not open any more
  // (already queued, finished or unknown); the caller then cancels through
  // JobStore.
  bool cancelSession(const std::string& session_id, const std::string& reason);
  // Any thread; lock-free.
  IngestStats stats() const;
  // The bound endpoint (with the real port when configured as tcp://HOST:*).
  // Valid after a successful start().
  const std::string& endpoint() const { return bound_endpoint_; }

 private:
  struct Node;
  struct OpenSession;
  void loop(std::stop_token stop, std::promise<Status> bound);
  void handle(zmq::socket_t& socket, const std::string& peer, const v1::Envelope& env);
  void onRecord(zmq::socket_t& socket, const std::string& peer, const v1::FrameRecord& record);
  void onManifest(zmq::socket_t& socket, const std::string& peer,
                  const v1::SessionManifest& manifest);
  void runCommands(zmq::socket_t& socket);
  void checkTimeouts(zmq::socket_t& socket);
  // Marks the job failed and tells the session's waiting nodes to stop.
  void failSession(zmq::socket_t& socket, const std::string& session_id, const std::string& reason);
  void publish(OpenSession& session, bool force);

  IngestConfig config_;
  std::string bound_endpoint_;  // written before start() returns, then read-only
  JobStore& jobs_;
  SessionStore& sessions_;

  std::mutex commands_mutex_;                                 // guards commands_
  std::deque<std::function<void(zmq::socket_t&)>> commands_;  // run on the ingest thread

  // Ingest thread only.
  std::map<std::string, std::unique_ptr<Node>> nodes_;
  std::map<std::string, std::unique_ptr<OpenSession>> open_;

  // Written on the ingest thread, read by stats() from any thread.
  std::atomic<std::uint64_t> frames_received_{0};
  std::atomic<std::uint64_t> frames_rejected_{0};

  std::jthread thread_;
};

}  // namespace booth
