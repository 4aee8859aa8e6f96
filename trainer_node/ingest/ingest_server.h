#pragma once
// IngestServer: the trainer's end of the wire (booth.v2). Owns the ROUTER
// socket on its own thread: registers capture nodes (Hello, as heartbeat),
// sends SessionStart to them, stores every frame and pose record durably
// before acking it (in batches: write, sync once, ack), verifies each
// node's SessionManifest and, when every member node has closed the
// session, queues its job.
//
// Everything a peer sends is hostile until proven otherwise: messages are
// bounded in size, must carry this protocol version and come from a node
// that said Hello with a valid id; records are accepted only for open
// sessions the node is a member of and cameras it announced; frames are
// bounded in bytes, pixels and number per session. A refusal is an Ack
// with the reason (or a ProtocolError), never a dead thread.
//
// Sessions survive restarts on both sides: a node that comes back lists
// its unfinished sessions in Hello and is told to resume them; a trainer
// that comes back reopens the sessions its job store says were receiving.
// A member that makes no progress for session_stall_timeout fails the
// session with a reason the operator can act on.
//
// Threading: the socket lives on the ingest thread only. Other threads talk
// to it through startSession(), nodes() and cancelSession(), which hand
// work over a mutex-guarded queue and wait for the answer; stats() reads
// atomics.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "booth.pb.h"
#include "common/core/clock.h"
#include "common/core/repeat_limiter.h"
#include "common/core/result.h"
#include "common/transport/curve_keys.h"
#include "trainer_node/store/disk_space.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/session_store.h"

namespace booth {

struct IngestConfig {
  std::string endpoint = "tcp://127.0.0.1:5555";  // bound here
  std::string trainer_id = "trainer";
  // Authentication. With keys, only capture nodes whose public keys are on
  // the allow-list get in (CURVE, checked by ZAP) and each is known by the
  // id it is listed under. Without keys (insecure), a node is known by the
  // id it says in Hello: allowed only on a loopback endpoint, and only when
  // asked for explicitly.
  std::optional<CurveKeyPair> server_keys;
  CurveAllowList allow;
  bool insecure = false;
  std::chrono::milliseconds node_timeout{5000};  // no message for this long: node away
  // A member of an open session that stores nothing new for this long
  // fails the session, connected or not (capture plus the pose stage's
  // catch-up keep records flowing; silence means stuck or gone).
  std::chrono::milliseconds session_stall_timeout{60000};
  // Credit granted to each node (HelloAck): records and frame bytes in flight.
  std::uint32_t credit_records = 256;
  std::uint64_t credit_bytes = 64ull << 20;
  // Limits on what a node may send.
  std::size_t max_message_bytes = 16u << 20;
  std::size_t max_frame_bytes = 8u << 20;
  std::uint64_t max_frame_pixels = 3840ull * 2160;
  std::uint64_t max_frames_per_session = 200000;
  // New sessions are refused while the data disk has less than this free
  // (checked through free_space when set; main sets it to the data folder's).
  std::uint64_t min_free_bytes = 512ull << 20;
  FreeSpaceProbe free_space;
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
  std::uint64_t frames_rejected = 0;  // frame records refused (not a member, too big, write error)
  std::uint64_t poses_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_refused = 0;  // malformed, wrong version, unknown peer
  std::uint64_t hellos_refused = 0;     // Hello with a bad node id, camera or key mismatch
  std::uint64_t handshakes_refused = 0;  // CURVE handshakes refused (key not allowed)
};

struct SessionRequest {
  double capture_seconds = 15;
  double train_budget_seconds = 0;
  std::string choreography;
  bool may_improve_booth = false;  // the visitor's consent (JobRecord::may_improve_booth)
};

class IngestServer {
 public:
  IngestServer(IngestConfig config, JobStore& jobs, SessionStore& sessions,
               const Clock& clock = SystemClock::instance());
  ~IngestServer();

  // Reopens the sessions the job store says were receiving, binds and
  // starts the ingest thread; fails naming the endpoint when the port is in
  // use or the endpoint is invalid.
  Status start();
  void stop();

  // Creates a session and its job and tells every connected node to
  // capture. Fails when no capture node is connected or a session is open.
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

  // Handles one received message as the ingest thread does (for the fuzz
  // target and tests that drive the server without a network): replies go
  // to `socket`.
  void handleForTest(zmq::socket_t& socket, const std::string& routing_id,
                     const std::string& user_id, const v2::Envelope& env);
  void flushForTest(zmq::socket_t& socket) { flushAcks(socket); }
  Result<JobRecord> startSessionForTest(zmq::socket_t& socket, const SessionRequest& request);

 private:
  struct Node;
  struct OpenSession;
  struct PendingAck;
  void loop(std::stop_token stop, std::promise<Status> bound);
  Result<JobRecord> openSession(zmq::socket_t& socket, const SessionRequest& request);
  void handle(zmq::socket_t& socket, const std::string& routing_id, const std::string& user_id,
              const v2::Envelope& env);
  void onHello(zmq::socket_t& socket, const std::string& routing_id, const std::string& user_id,
               const v2::Hello& hello);
  void onFrame(const std::string& routing_id, Node& node, const v2::Frame& frame);
  void onPose(const std::string& routing_id, Node& node, const v2::PoseRecord& pose);
  void onManifest(zmq::socket_t& socket, const std::string& routing_id, Node& node,
                  const v2::SessionManifest& manifest);
  // Checks a record's session and camera against the node's membership.
  Result<OpenSession*> memberSession(const Node& node, const std::string& session_id,
                                     const std::string& camera_id);
  void refuseRecord(const std::string& routing_id, const std::string& session_id,
                    const std::string& camera_id, v2::RecordKind kind, std::uint64_t sequence,
                    const std::string& error);
  void protocolError(zmq::socket_t& socket, const std::string& routing_id,
                     const std::string& error);
  void flushAcks(zmq::socket_t& socket);
  void runCommands(zmq::socket_t& socket);
  void checkTimeouts(zmq::socket_t& socket);
  // Ends an open session: its members are told to stop, its job takes
  // `event` (fail, or cancel when the operator asked).
  void failSession(zmq::socket_t& socket, const std::string& session_id, const std::string& reason,
                   JobEvent event = JobEvent::kFail);
  void sendToNode(zmq::socket_t& socket, const std::string& node_id, const v2::Envelope& env);
  void publish(OpenSession& session, bool force);
  void reopenReceivingSessions();

  IngestConfig config_;
  std::string bound_endpoint_;  // written before start() returns, then read-only
  JobStore& jobs_;
  SessionStore& sessions_;
  const Clock& clock_;

  std::mutex commands_mutex_;                                 // guards commands_
  std::deque<std::function<void(zmq::socket_t&)>> commands_;  // run on the ingest thread

  // Ingest thread only.
  std::map<std::string, std::unique_ptr<Node>> nodes_;  // by routing id
  std::map<std::string, std::unique_ptr<OpenSession>> open_;
  std::vector<PendingAck> pending_acks_;
  std::map<std::string, Clock::TimePoint> recent_errors_;  // routing id -> last ProtocolError
  // Warnings about what peers send wrong: a line per peer and reason every
  // few seconds, with a count, however many messages (see repeat_limiter.h).
  RepeatLimiter warnings_{clock_, std::chrono::seconds(5)};
  void warnRepeated(const std::string& key, const std::string& line);

  // Written on the ingest thread, read by stats() from any thread.
  std::atomic<std::uint64_t> frames_received_{0};
  std::atomic<std::uint64_t> frames_rejected_{0};
  std::atomic<std::uint64_t> poses_received_{0};
  std::atomic<std::uint64_t> bytes_received_{0};
  std::atomic<std::uint64_t> messages_refused_{0};
  std::atomic<std::uint64_t> hellos_refused_{0};
  std::atomic<std::uint64_t> handshakes_refused_{0};

  std::jthread thread_;
};

}  // namespace booth
