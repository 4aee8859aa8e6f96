#include "trainer_node/ingest/ingest_server.h"

#include <algorithm>
#include <random>

#include <spdlog/spdlog.h>

#include "common/core/safe_id.h"
#include "common/image/frame_image.h"
#include "common/transport/wire.h"
#include "trainer_node/ingest/zap_handler.h"
#include "trainer_node/store/disk_space.h"

namespace booth {
namespace {

// Refused frames remembered per session (so that their poses are refused).
constexpr std::size_t kMaxRefusedFrames = 65536;

// Room for an Envelope's fields around the largest frame (ids, sequence,
// sizes; a Hello of 64 cameras or a pose record of 64 people is smaller).
constexpr std::size_t kEnvelopeOverhead = 64 * 1024;

// The largest message part the ingest reads: an envelope with the largest
// frame allowed, within max_message_bytes.
std::size_t maxPartBytes(const IngestConfig& config) {
  return std::min(config.max_message_bytes, config.max_frame_bytes + kEnvelopeOverhead);
}

std::string newSessionId(const Clock& clock) {
  static std::mt19937_64 rng{std::random_device{}()};
  const auto t = std::chrono::system_clock::to_time_t(clock.wall());
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rng() & 0xffff));
  return std::string("s") + stamp + "-" + suffix;
}

// Who a peer is, for rate-limited warnings: its key's node id when it has
// one (stable across reconnections), else its connection.
std::string peerKey(const std::string& routing_id, const std::string& user_id) {
  return user_id.empty() ? "connection " + routing_id : "node " + user_id;
}

// Printable, bounded copy of an untrusted string for logs and errors.
std::string quoted(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 64) out += "...";
  return "'" + out + "'";
}

}  // namespace

struct IngestServer::Node {
  std::string node_id;
  NodeInfo info;
  Clock::TimePoint last_seen;
  Clock::TimePoint last_protocol_error{};
};

struct IngestServer::OpenSession {
  JobRecord job;
  Clock::TimePoint started;
  std::set<std::string> members;                           // node ids asked to capture
  std::map<std::string, std::set<std::string>> cameras;    // node id -> announced cameras
  std::set<std::string> waiting;                           // members whose manifest is due
  std::map<std::string, Clock::TimePoint> last_progress;   // per member
  std::map<std::pair<std::string, std::string>, std::int64_t> frames;  // (node, camera) -> count
  std::uint64_t total_frames = 0;
  double capture_seconds = 0, pose_seconds = 0;
  std::string incomplete;  // why the capture is not whole, from the manifests
  Clock::TimePoint last_publish{};
  // The last record of each member that was refused, and why: a member that
  // stalls because its records keep being refused fails with that reason.
  std::map<std::string, std::string> last_refusal;
  // Frames refused (node, camera -> sequences): their poses are refused
  // too. Bounded by kMaxRefusedFrames per session.
  std::map<std::pair<std::string, std::string>, std::set<std::uint64_t>> refused_frames;
  std::size_t refused_frame_count = 0;
  // Set when the session cannot go on (its frames cannot be stored: the
  // disk is full); the ingest thread fails it at its next check.
  std::string fatal;
};

struct IngestServer::PendingAck {
  std::string routing_id;
  std::string session_id;
  std::string camera_id;
  v2::RecordKind kind = v2::RECORD_FRAME;
  std::uint64_t sequence = 0;
  bool ok = true;
  std::string error;
};

IngestServer::IngestServer(IngestConfig config, JobStore& jobs, SessionStore& sessions,
                           const Clock& clock)
    : config_(std::move(config)), jobs_(jobs), sessions_(sessions), clock_(clock) {}

IngestServer::~IngestServer() { stop(); }

Status IngestServer::start() {
  reopenReceivingSessions();
  std::promise<Status> bound;
  auto result = bound.get_future();
  thread_ = std::jthread(
      [this, p = std::move(bound)](std::stop_token st) mutable { loop(st, std::move(p)); });
  Status status = result.get();
  if (!status.ok()) thread_ = {};
  return status;
}

void IngestServer::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void IngestServer::reopenReceivingSessions() {
  for (const JobRecord& job : jobs_.list(1000)) {
    if (job.state != JobState::kReceiving) continue;
    auto session = std::make_unique<OpenSession>();
    session->job = job;
    session->started = clock_.steady();
    for (const std::string& id : job.nodes) {
      session->members.insert(id);
      session->waiting.insert(id);
      session->last_progress[id] = clock_.steady();
    }
    for (const CameraFrames& c : job.cameras) {
      if (c.node.empty() || c.camera.empty()) continue;
      session->cameras[c.node].insert(c.camera);
      const auto totals = sessions_.totals(job.session_id, c.node, c.camera);
      session->frames[{c.node, c.camera}] = static_cast<std::int64_t>(totals.frames);
      session->total_frames += totals.frames;
    }
    if (session->members.empty()) {
      JobRecord failed = job;
      if (auto st = jobs_.transition(
              failed, JobEvent::kFail,
              "interrupted: the trainer restarted and the session names no capture node");
          !st.ok()) {
        spdlog::error("session {}: {}", job.session_id, st.error());
      }
      continue;
    }
    spdlog::info("session {}: still receiving after a trainer restart; waiting for {} node(s)",
                 job.session_id, session->members.size());
    open_[job.session_id] = std::move(session);
  }
}

Result<JobRecord> IngestServer::startSession(const SessionRequest& request) {
  auto promise = std::make_shared<std::promise<Result<JobRecord>>>();
  auto answer = promise->get_future();
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back([this, request, promise](zmq::socket_t& socket) {
      promise->set_value(openSession(socket, request));
    });
  }
  if (answer.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return fail("the ingest thread did not answer within 10 s");
  }
  return answer.get();
}

Result<JobRecord> IngestServer::startSessionForTest(zmq::socket_t& socket,
                                                    const SessionRequest& request) {
  return openSession(socket, request);
}

Result<JobRecord> IngestServer::openSession(zmq::socket_t& socket, const SessionRequest& request) {
  if (nodes_.empty()) {
    return fail("no capture node is connected; start capture_node --trainer " + bound_endpoint_);
  }
  if (!open_.empty()) {
    return fail("session " + open_.begin()->first +
                " is still being captured or received; start the next one when its job is "
                "queued (or cancel it)");
  }
  if (config_.free_space) {
    // A session that cannot be stored would only fail later, with the
    // visitor waiting: refuse it now, saying why.
    auto free = config_.free_space();
    if (!free.ok()) return fail(free.error());
    if (auto why = lowSpaceReason(sessions_.sessionDir("x").parent_path(), free.value(),
                                  config_.min_free_bytes);
        !why.empty()) {
      return fail(why);
    }
  }
  auto session = std::make_unique<OpenSession>();
  JobRecord& job = session->job;
  job.session_id = newSessionId(clock_);
  job.id = "job-" + job.session_id;
  job.state = JobState::kReceiving;
  job.created_ms = nowMillis();
  job.capture_seconds_requested = request.capture_seconds;
  job.train_budget_seconds = request.train_budget_seconds;
  job.choreography = request.choreography;
  job.may_improve_booth = request.may_improve_booth;
  int cameras = 0;
  for (const auto& [rid, node] : nodes_) {
    if (session->members.count(node->node_id)) continue;
    job.nodes.push_back(node->node_id);
    session->members.insert(node->node_id);
    session->waiting.insert(node->node_id);
    session->last_progress[node->node_id] = clock_.steady();
    for (const auto& c : node->info.cameras) {
      session->cameras[node->node_id].insert(c.camera_id);
      session->frames[{node->node_id, c.camera_id}] = 0;
      ++cameras;
    }
  }
  std::sort(job.nodes.begin(), job.nodes.end());
  for (const auto& [key, count] : session->frames) job.cameras.push_back({key.first, key.second, 0});
  job.detail = "capturing " + std::to_string(static_cast<int>(request.capture_seconds)) +
               " s on " + std::to_string(cameras) + " camera(s) of " +
               std::to_string(session->members.size()) + " node(s)";
  if (auto st = jobs_.insert(job); !st.ok()) return fail("cannot record the job: " + st.error());
  v2::Envelope env;
  env.mutable_session_start()->set_session_id(job.session_id);
  env.mutable_session_start()->set_seconds(request.capture_seconds);
  for (const std::string& node : session->members) sendToNode(socket, node, env);
  session->started = clock_.steady();
  spdlog::info("session {} started: {}", job.session_id, job.detail);
  JobRecord out = job;
  open_[job.session_id] = std::move(session);
  return out;
}

std::vector<NodeInfo> IngestServer::nodes() {
  auto promise = std::make_shared<std::promise<std::vector<NodeInfo>>>();
  auto answer = promise->get_future();
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back([this, promise](zmq::socket_t&) {
      std::vector<NodeInfo> out;
      for (const auto& [rid, node] : nodes_) {
        NodeInfo info = node->info;
        info.seconds_since_seen = secondsBetween(node->last_seen, clock_.steady());
        out.push_back(std::move(info));
      }
      promise->set_value(std::move(out));
    });
  }
  if (answer.wait_for(std::chrono::seconds(5)) != std::future_status::ready) return {};
  return answer.get();
}

bool IngestServer::cancelSession(const std::string& session_id, const std::string& reason) {
  auto promise = std::make_shared<std::promise<bool>>();
  auto answer = promise->get_future();
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back([this, session_id, reason, promise](zmq::socket_t& socket) {
      const bool open = open_.count(session_id) > 0;
      if (open) failSession(socket, session_id, reason, JobEvent::kCancel);
      promise->set_value(open);
    });
  }
  if (answer.wait_for(std::chrono::seconds(10)) != std::future_status::ready) return false;
  return answer.get();
}

IngestStats IngestServer::stats() const {
  IngestStats out;
  out.frames_received = frames_received_.load(std::memory_order_relaxed);
  out.frames_rejected = frames_rejected_.load(std::memory_order_relaxed);
  out.poses_received = poses_received_.load(std::memory_order_relaxed);
  out.bytes_received = bytes_received_.load(std::memory_order_relaxed);
  out.messages_refused = messages_refused_.load(std::memory_order_relaxed);
  out.hellos_refused = hellos_refused_.load(std::memory_order_relaxed);
  out.handshakes_refused = handshakes_refused_.load(std::memory_order_relaxed);
  return out;
}

void IngestServer::loop(std::stop_token stop, std::promise<Status> bound) {
  zmq::context_t context(1);
  std::unique_ptr<ZapHandler> zap;
  zmq::socket_t socket(context, zmq::socket_type::router);
  try {
    if (config_.server_keys) {
      // The handler must be there before the socket that uses it binds.
      zap = std::make_unique<ZapHandler>(context, config_.allow, clock_);
      socket.set(zmq::sockopt::curve_server, 1);
      socket.set(zmq::sockopt::curve_secretkey, config_.server_keys->secret_key);
      socket.set(zmq::sockopt::zap_domain, "booth");
    } else if (!config_.insecure || !isLoopbackEndpoint(config_.endpoint)) {
      bound.set_value(fail(
          config_.insecure
              ? "an ingest without keys may only listen on loopback, not " + config_.endpoint +
                    "; give it --curve-secret-key and --allowed-nodes"
              : "the ingest needs keys: --curve-secret-key (make one with 'trainer_node keygen') "
                "and --allowed-nodes; or, for a loopback-only demo, --insecure"));
      return;
    }
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::router_mandatory, 1);  // sending to a gone node fails, not vanishes
    // Bounds each message part: ZeroMQ drops a connection at the size field
    // of a larger part, before allocating it. (It does not bound the number
    // of parts: see trainer_node/README.md, "Limits".)
    socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(maxPartBytes(config_)));
    socket.set(zmq::sockopt::rcvhwm, 4096);
    socket.bind(config_.endpoint);
  } catch (const zmq::error_t& e) {
    std::string hint = e.num() == EADDRINUSE ? " (the port is in use: stop the other trainer or "
                                               "choose another with --ingest)"
                                             : " (use --ingest tcp://HOST:PORT)";
    bound.set_value(
        fail("cannot bind ingest endpoint " + config_.endpoint + ": " + e.what() + hint));
    return;
  }
  bound_endpoint_ = socket.get(zmq::sockopt::last_endpoint);
  bound.set_value(okStatus());
  spdlog::info("ingest listening on {}", bound_endpoint_);

  auto last_check = clock_.steady();
  while (!stop.stop_requested()) {
    zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0},
                               {zap ? zap->socket().handle() : nullptr, 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, zap ? 2 : 1, std::chrono::milliseconds(20));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      spdlog::error("ingest poll failed: {}", e.what());
      break;
    }
    if (zap) {
      zap->handlePending();
      handshakes_refused_.store(zap->refused(), std::memory_order_relaxed);
    }
    // A bounded batch, so commands and timeouts still run under load; its
    // records are synced once and acked together.
    for (int i = 0; i < 512; ++i) {
      auto in = receiveEnvelope(socket, /*router=*/true, maxPartBytes(config_));
      if (!in.ok()) {
        ++messages_refused_;
        // The peer is unknown here (the message did not parse): one key.
        warnRepeated("malformed", "ingest: dropping malformed message: " + in.error());
        continue;
      }
      if (!in.value()) break;
      // Last resort: a message that makes its handler throw (out of
      // memory, a bug) is refused; the ingest goes on with the next one.
      try {
        handle(socket, in.value()->routing_id, in.value()->user_id, in.value()->envelope);
      } catch (const std::exception& e) {
        ++messages_refused_;
        spdlog::error("ingest: a message failed and was dropped: {}", e.what());
      } catch (...) {
        ++messages_refused_;
        spdlog::error("ingest: a message failed and was dropped (unknown exception)");
      }
    }
    try {
      flushAcks(socket);
      runCommands(socket);
      if (secondsBetween(last_check, clock_.steady()) > 0.5) {
        checkTimeouts(socket);
        for (auto& [id, session] : open_) publish(*session, false);
        if (zap) zap->reportHeldWarnings();
        for (const auto& [key, n] : warnings_.expired()) {
          spdlog::warn("ingest: {} more refusal(s) of the same kind ({})", n, quoted(key));
        }
        last_check = clock_.steady();
      }
    } catch (const std::exception& e) {
      spdlog::error("ingest: housekeeping failed: {}; going on", e.what());
    } catch (...) {
      spdlog::error("ingest: housekeeping failed; going on");
    }
  }
}

void IngestServer::runCommands(zmq::socket_t& socket) {
  std::deque<std::function<void(zmq::socket_t&)>> pending;
  {
    std::lock_guard lock(commands_mutex_);
    pending.swap(commands_);
  }
  for (auto& command : pending) {
    // A command that throws fails its caller (its promise breaks), not the ingest.
    try {
      command(socket);
    } catch (const std::exception& e) {
      spdlog::error("ingest: a command failed: {}", e.what());
    } catch (...) {
      spdlog::error("ingest: a command failed");
    }
  }
}

void IngestServer::handleForTest(zmq::socket_t& socket, const std::string& routing_id,
                                 const std::string& user_id, const v2::Envelope& env) {
  handle(socket, routing_id, user_id, env);
}

void IngestServer::warnRepeated(const std::string& key, const std::string& line) {
  if (auto n = warnings_.occurred(key)) spdlog::warn("{}{}", line, repeatSuffix(*n));
}

void IngestServer::protocolError(zmq::socket_t& socket, const std::string& routing_id,
                                 const std::string& error) {
  ++messages_refused_;
  // At most one answer a second per peer: a flood gets no amplification.
  const auto now = clock_.steady();
  auto [it, fresh] = recent_errors_.try_emplace(routing_id, now);
  if (!fresh) {
    if (now - it->second < std::chrono::seconds(1)) return;
    it->second = now;
  }
  v2::Envelope reply;
  reply.mutable_protocol_error()->set_error(error);
  sendEnvelope(socket, reply, routing_id);
}

void IngestServer::handle(zmq::socket_t& socket, const std::string& routing_id,
                          const std::string& user_id, const v2::Envelope& env) {
  if (const std::string mismatch = versionMismatch(env); !mismatch.empty()) {
    warnRepeated(peerKey(routing_id, user_id) + " version",
                 "ingest: refusing a message with " + mismatch);
    protocolError(socket, routing_id, "the trainer refuses " + mismatch);
    return;
  }
  if (config_.server_keys && user_id.empty()) {
    // Cannot happen through ZAP; refuse rather than trust anything else.
    protocolError(socket, routing_id, "unauthenticated connection");
    return;
  }
  if (env.body_case() == v2::Envelope::kHello) {
    onHello(socket, routing_id, user_id, env.hello());
    return;
  }
  auto it = nodes_.find(routing_id);
  if (it == nodes_.end()) {
    // Not introduced: nothing it says is taken.
    protocolError(socket, routing_id, "say Hello first: unknown capture node");
    return;
  }
  Node& node = *it->second;
  node.last_seen = clock_.steady();
  switch (env.body_case()) {
    case v2::Envelope::kFrame:
      onFrame(routing_id, node, env.frame());
      break;
    case v2::Envelope::kPose:
      onPose(routing_id, node, env.pose());
      break;
    case v2::Envelope::kManifest:
      onManifest(socket, routing_id, node, env.manifest());
      break;
    case v2::Envelope::kProtocolError:
      spdlog::error("capture node {} refused a message: {}", node.node_id,
                    quoted(env.protocol_error().error()));
      break;
    default:
      protocolError(socket, routing_id,
                    "unexpected message (case " + std::to_string(env.body_case()) + ")");
  }
}

void IngestServer::onHello(zmq::socket_t& socket, const std::string& routing_id,
                           const std::string& user_id, const v2::Hello& hello) {
  // With keys the node is who its key says; its Hello must agree.
  if (config_.server_keys && hello.node_id() != user_id) {
    ++hellos_refused_;
    warnRepeated(peerKey(routing_id, user_id) + " hello",
                 "ingest: the key of node '" + user_id + "' came with a Hello naming " +
                     quoted(hello.node_id()));
    protocolError(socket, routing_id,
                  "this key belongs to node '" + user_id + "', not " + quoted(hello.node_id()) +
                      "; set --node-id " + user_id);
    return;
  }
  if (!isSafeId(hello.node_id())) {
    ++hellos_refused_;
    warnRepeated(peerKey(routing_id, user_id) + " hello",
                 "ingest: refusing a Hello with the invalid node id " + quoted(hello.node_id()));
    protocolError(socket, routing_id,
                  "node id " + quoted(hello.node_id()) +
                      " is not valid: use 1-64 letters, digits, '.', '_' or '-'");
    return;
  }
  constexpr int kMaxCameras = 64;
  if (hello.cameras_size() > kMaxCameras) {
    ++hellos_refused_;
    protocolError(socket, routing_id, "a node may announce at most 64 cameras");
    return;
  }
  for (const auto& c : hello.cameras()) {
    if (!isSafeId(c.camera_id())) {
      ++hellos_refused_;
      protocolError(socket, routing_id,
                    "camera id " + quoted(c.camera_id()) + " is not valid");
      return;
    }
  }
  // The same node from a new connection (it restarted): the old one is stale.
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (it->first != routing_id && it->second->node_id == hello.node_id()) {
      spdlog::info("capture node '{}' reconnected", hello.node_id());
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  auto& node = nodes_[routing_id];
  if (!node) {
    node = std::make_unique<Node>();
    spdlog::info("capture node '{}' connected: {} camera(s), pose {}", hello.node_id(),
                 hello.cameras_size(), quoted(hello.pose_source()));
  }
  node->node_id = hello.node_id();
  node->last_seen = clock_.steady();
  node->info.node_id = hello.node_id();
  node->info.pose_source = hello.pose_source().substr(0, 200);
  node->info.cameras.clear();
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
    node->info.cameras.push_back(std::move(cam));
  }
  v2::Envelope ack;
  ack.mutable_hello_ack()->set_trainer_id(config_.trainer_id);
  ack.mutable_hello_ack()->set_credit_frames(config_.credit_records);
  ack.mutable_hello_ack()->set_credit_bytes(config_.credit_bytes);
  sendEnvelope(socket, ack, routing_id);

  // Sessions the node still holds: resume those the trainer still wants.
  for (const auto& u : hello.unfinished()) {
    v2::Envelope reply;
    auto it = open_.find(u.session_id());
    if (it != open_.end() && it->second->members.count(node->node_id) &&
        it->second->waiting.count(node->node_id)) {
      reply.mutable_session_resume()->set_session_id(u.session_id());
      it->second->last_progress[node->node_id] = clock_.steady();
      spdlog::info("session {}: node {} resumes it ({} frames and {} poses pending)",
                   u.session_id(), node->node_id, u.frames_pending(), u.poses_pending());
    } else {
      reply.mutable_session_stop()->set_session_id(u.session_id());
      reply.mutable_session_stop()->set_reason(
          "the trainer no longer expects this session from this node (finished, failed or "
          "unknown)");
    }
    sendEnvelope(socket, reply, routing_id);
  }
}

Result<IngestServer::OpenSession*> IngestServer::memberSession(const Node& node,
                                                               const std::string& session_id,
                                                               const std::string& camera_id) {
  auto it = open_.find(session_id);
  if (it == open_.end()) {
    return fail("session " + quoted(session_id) + " is not open on the trainer");
  }
  OpenSession& s = *it->second;
  if (!s.members.count(node.node_id)) {
    return fail("node " + node.node_id + " is not a member of session " + session_id);
  }
  const auto cams = s.cameras.find(node.node_id);
  if (cams == s.cameras.end() || !cams->second.count(camera_id)) {
    return fail("camera " + quoted(camera_id) + " was not announced by node " + node.node_id +
                " when session " + session_id + " started");
  }
  return &s;
}

void IngestServer::refuseRecord(const std::string& routing_id, const std::string& session_id,
                                const std::string& camera_id, v2::RecordKind kind,
                                std::uint64_t sequence, const std::string& error) {
  PendingAck a;
  a.routing_id = routing_id;
  a.session_id = session_id.substr(0, 128);
  a.camera_id = camera_id.substr(0, 128);
  a.kind = kind;
  a.sequence = sequence;
  a.ok = false;
  a.error = error;
  pending_acks_.push_back(std::move(a));
}

void IngestServer::onFrame(const std::string& routing_id, Node& node, const v2::Frame& f) {
  auto refuse = [&](const std::string& error) {
    ++frames_rejected_;
    refuseRecord(routing_id, f.session_id(), f.camera_id(), v2::RECORD_FRAME, f.sequence(), error);
  };
  auto session = memberSession(node, f.session_id(), f.camera_id());
  if (!session.ok()) {
    // A late resend of a session that is already complete is fine to ack.
    if (auto job = jobs_.bySession(f.session_id());
        job && job->state != JobState::kFailed && job->state != JobState::kCancelled &&
        job->state != JobState::kReceiving) {
      pending_acks_.push_back({routing_id, f.session_id(), f.camera_id(), v2::RECORD_FRAME,
                               f.sequence(), true, {}});
      return;
    }
    return refuse(session.error());
  }
  OpenSession& s = *session.value();
  auto refuse_member = [&](const std::string& error) {
    s.last_refusal[node.node_id] = "camera " + f.camera_id() + " frame " +
                                   std::to_string(f.sequence()) + ": " + error;
    if (s.refused_frame_count < kMaxRefusedFrames &&
        s.refused_frames[{node.node_id, f.camera_id()}].insert(f.sequence()).second) {
      ++s.refused_frame_count;
    }
    refuse(error);
  };
  if (f.data().size() > config_.max_frame_bytes) {
    return refuse_member("frame of " + std::to_string(f.data().size()) + " bytes is larger than the " +
                  std::to_string(config_.max_frame_bytes) + " allowed");
  }
  FrameToAppend frame;
  frame.sequence = f.sequence();
  frame.capture_time_us = f.capture_time_us();
  frame.data = f.data();
  if (f.encoding() == v2::ENCODING_JPEG) {
    const auto size = jpegSize(f.data());
    if (!size) return refuse_member("frame " + std::to_string(f.sequence()) + " is not a JPEG");
    frame.encoding = FrameEncoding::kJpeg;
    frame.width = size->width;
    frame.height = size->height;
  } else if (f.encoding() == v2::ENCODING_RAW_BGR) {
    frame.encoding = FrameEncoding::kRawBgr;
    frame.width = static_cast<int>(f.width());
    frame.height = static_cast<int>(f.height());
    if (static_cast<std::uint64_t>(frame.width) * static_cast<std::uint64_t>(frame.height) * 3 !=
        f.data().size()) {
      return refuse_member("raw frame size does not match " + std::to_string(f.width()) + "x" +
                    std::to_string(f.height()));
    }
  } else {
    return refuse_member("frame encoding " + std::to_string(f.encoding()) + " is not supported");
  }
  // The frame index stores sizes as 16-bit numbers; an empty frame has no
  // picture to train on.
  if (frame.width <= 0 || frame.height <= 0 || frame.width > 65535 || frame.height > 65535) {
    return refuse_member("frame of " + std::to_string(frame.width) + "x" +
                         std::to_string(frame.height) +
                         " pixels: width and height must be 1 to 65535");
  }
  if (static_cast<std::uint64_t>(frame.width) * static_cast<std::uint64_t>(frame.height) >
      config_.max_frame_pixels) {
    return refuse_member("frame of " + std::to_string(frame.width) + "x" + std::to_string(frame.height) +
                  " pixels is larger than the " + std::to_string(config_.max_frame_pixels) +
                  " pixels allowed");
  }
  if (s.total_frames >= config_.max_frames_per_session) {
    return refuse_member("session " + f.session_id() + " already has the " +
                  std::to_string(config_.max_frames_per_session) + " frames a session may have");
  }
  auto written = sessions_.writeFrame(f.session_id(), node.node_id, f.camera_id(), frame);
  if (!written.ok()) {
    spdlog::error("session {}: {}", f.session_id(), written.error());
    if (looksLikeDiskFull(written.error()) && s.fatal.empty()) {
      s.fatal = "disk full: the trainer could not store the session's frames (" +
                written.error() + ")";
    }
    // The trainer's fault, not the frame's: the node resends it, and its pose
    // must then be taken, so the frame is not remembered as refused.
    s.last_refusal[node.node_id] = "camera " + f.camera_id() + " frame " +
                                   std::to_string(f.sequence()) + ": " + written.error();
    return refuse(written.error());
  }
  if (written.value()) {
    ++s.frames[{node.node_id, f.camera_id()}];
    ++s.total_frames;
    ++frames_received_;
    bytes_received_ += f.data().size();
    s.last_progress[node.node_id] = clock_.steady();
  }
  pending_acks_.push_back(
      {routing_id, f.session_id(), f.camera_id(), v2::RECORD_FRAME, f.sequence(), true, {}});
}

void IngestServer::onPose(const std::string& routing_id, Node& node, const v2::PoseRecord& p) {
  auto session = memberSession(node, p.session_id(), p.camera_id());
  if (!session.ok()) {
    if (auto job = jobs_.bySession(p.session_id());
        job && job->state != JobState::kFailed && job->state != JobState::kCancelled &&
        job->state != JobState::kReceiving) {
      pending_acks_.push_back({routing_id, p.session_id(), p.camera_id(), v2::RECORD_POSE,
                               p.sequence(), true, {}});
      return;
    }
    return refuseRecord(routing_id, p.session_id(), p.camera_id(), v2::RECORD_POSE, p.sequence(),
                        session.error());
  }
  if (const auto refused = session.value()->refused_frames.find({node.node_id, p.camera_id()});
      refused != session.value()->refused_frames.end() && refused->second.count(p.sequence())) {
    return refuseRecord(routing_id, p.session_id(), p.camera_id(), v2::RECORD_POSE, p.sequence(),
                        "frame " + std::to_string(p.sequence()) +
                            " of this camera was refused, so its pose is not taken");
  }
  auto record = poseRecordFromProto(p);
  if (!record.ok()) {
    return refuseRecord(routing_id, p.session_id(), p.camera_id(), v2::RECORD_POSE, p.sequence(),
                        record.error());
  }
  auto written = sessions_.writePose(p.session_id(), node.node_id, record.value());
  if (!written.ok()) {
    spdlog::error("session {}: {}", p.session_id(), written.error());
    return refuseRecord(routing_id, p.session_id(), p.camera_id(), v2::RECORD_POSE, p.sequence(),
                        written.error());
  }
  if (written.value()) {
    ++poses_received_;
    session.value()->last_progress[node.node_id] = clock_.steady();
  }
  pending_acks_.push_back(
      {routing_id, p.session_id(), p.camera_id(), v2::RECORD_POSE, p.sequence(), true, {}});
}

void IngestServer::flushAcks(zmq::socket_t& socket) {
  if (pending_acks_.empty()) return;
  // Durable first: no ack leaves before its record is on disk.
  if (auto st = sessions_.sync(); !st.ok()) {
    spdlog::error("ingest: {}", st.error());
    if (looksLikeDiskFull(st.error())) {
      for (auto& [id, session] : open_) {
        if (session->fatal.empty()) session->fatal = "disk full: " + st.error();
      }
    }
    for (PendingAck& a : pending_acks_) {
      if (a.ok) {
        a.ok = false;
        a.error = st.error();
      }
    }
  }
  // One Ack per (peer, session, camera, kind, outcome).
  std::map<std::tuple<std::string, std::string, std::string, int, bool, std::string>,
           std::vector<std::uint64_t>>
      grouped;
  for (const PendingAck& a : pending_acks_) {
    grouped[{a.routing_id, a.session_id, a.camera_id, a.kind, a.ok, a.error}].push_back(a.sequence);
  }
  pending_acks_.clear();
  for (const auto& [key, sequences] : grouped) {
    const auto& [routing_id, session_id, camera_id, kind, ok, error] = key;
    v2::Envelope env;
    v2::Ack* ack = env.mutable_ack();
    ack->set_session_id(session_id);
    ack->set_camera_id(camera_id);
    ack->set_kind(static_cast<v2::RecordKind>(kind));
    ack->set_ok(ok);
    ack->set_error(error);
    for (std::uint64_t s : sequences) ack->add_sequences(s);
    sendEnvelope(socket, env, routing_id);
  }
}

void IngestServer::publish(OpenSession& session, bool force) {
  if (!force && secondsBetween(session.last_publish, clock_.steady()) < 0.5) return;
  std::vector<CameraFrames> cams;
  std::int64_t total = 0;
  for (const auto& [key, count] : session.frames) {
    cams.push_back({key.first, key.second, count});
    total += count;
  }
  if (!force && total == session.job.frames_received) return;
  session.job.cameras = std::move(cams);
  session.job.frames_received = total;
  if (total > 0 && session.job.state == JobState::kReceiving) {
    session.job.detail = "received " + std::to_string(total) + " frames";
  }
  if (auto st = jobs_.update(session.job); !st.ok()) spdlog::error("job update: {}", st.error());
  session.last_publish = clock_.steady();
}

void IngestServer::onManifest(zmq::socket_t& socket, const std::string& routing_id, Node& node,
                              const v2::SessionManifest& manifest) {
  v2::Envelope reply;
  v2::ManifestAck* ack = reply.mutable_manifest_ack();
  ack->set_session_id(manifest.session_id().substr(0, 128));
  auto it = open_.find(manifest.session_id());
  if (it == open_.end() || !it->second->members.count(node.node_id)) {
    // A repeated manifest after the session closed: answer as before.
    auto job = jobs_.bySession(manifest.session_id());
    const bool member =
        job && std::find(job->nodes.begin(), job->nodes.end(), node.node_id) != job->nodes.end();
    ack->set_ok(member && job->state != JobState::kFailed && job->state != JobState::kCancelled &&
                job->state != JobState::kReceiving);
    if (!ack->ok()) {
      ack->set_error("session " + quoted(manifest.session_id()) +
                     " is not open for node " + node.node_id);
    }
    sendEnvelope(socket, reply, routing_id);
    return;
  }
  OpenSession& session = *it->second;
  if (!session.waiting.count(node.node_id)) {
    ack->set_ok(true);  // already verified; the first answer was lost
    sendEnvelope(socket, reply, routing_id);
    return;
  }
  if (!manifest.error().empty()) {
    ack->set_ok(true);
    sendEnvelope(socket, reply, routing_id);
    failSession(socket, manifest.session_id(),
                "capture node " + node.node_id + ": " + manifest.error().substr(0, 500));
    return;
  }
  // Every announced camera must be accounted for, and nothing else.
  std::string problem;
  const auto& announced = session.cameras[node.node_id];
  std::set<std::string> listed;
  for (const auto& cam : manifest.cameras()) listed.insert(cam.camera_id());
  for (const std::string& c : announced) {
    if (!listed.count(c)) problem = "the manifest does not cover camera " + c;
  }
  for (const auto& cam : manifest.cameras()) {
    if (!problem.empty()) break;
    if (!announced.count(cam.camera_id())) {
      problem = "the manifest lists camera " + quoted(cam.camera_id()) + " that was not announced";
      break;
    }
    const CameraTotals totals = sessions_.totals(manifest.session_id(), node.node_id, cam.camera_id());
    if (totals.frames != cam.frame_count()) {
      problem = "camera " + cam.camera_id() + ": the manifest says " +
                std::to_string(cam.frame_count()) + " frames, the trainer stored " +
                std::to_string(totals.frames);
    } else if (totals.checksum != cam.checksum()) {
      problem = "camera " + cam.camera_id() + ": frame checksums do not match";
    } else if (totals.poses != cam.pose_count()) {
      problem = "camera " + cam.camera_id() + ": the manifest says " +
                std::to_string(cam.pose_count()) + " poses, the trainer stored " +
                std::to_string(totals.poses);
    }
  }
  if (!problem.empty()) {
    ack->set_ok(false);
    ack->set_error(problem);
    sendEnvelope(socket, reply, routing_id);
    failSession(socket, manifest.session_id(),
                "the data of node " + node.node_id + " does not match its manifest: " + problem);
    return;
  }
  ack->set_ok(true);
  sendEnvelope(socket, reply, routing_id);
  session.waiting.erase(node.node_id);
  session.capture_seconds = std::max(session.capture_seconds, manifest.capture_seconds());
  session.pose_seconds = std::max(session.pose_seconds, manifest.pose_seconds());
  if (!manifest.incomplete_reason().empty() && session.incomplete.empty()) {
    session.incomplete = "node " + node.node_id + ": " + manifest.incomplete_reason().substr(0, 300);
  }
  spdlog::info("session {}: node {} closed its stream ({} camera(s)){}", manifest.session_id(),
               node.node_id, manifest.cameras_size(),
               manifest.incomplete_reason().empty()
                   ? std::string()
                   : " incomplete: " + quoted(manifest.incomplete_reason()));
  if (!session.waiting.empty()) return;

  JobRecord& job = session.job;
  job.capture_seconds = session.capture_seconds;
  job.pose_seconds = session.pose_seconds;
  job.transfer_seconds = std::max(0.0, secondsBetween(session.started, clock_.steady()) -
                                           session.capture_seconds - session.pose_seconds);
  publish(session, true);
  if (auto st = jobs_.transition(job, JobEvent::kReceived,
                                 session.incomplete.empty()
                                     ? "queued for training"
                                     : "queued for training (capture incomplete: " +
                                           session.incomplete + ")");
      !st.ok()) {
    // Cancelled or failed meanwhile: the session is over either way.
    spdlog::warn("session {}: {}", job.session_id, st.error());
  } else {
    spdlog::info("session {}: {} frames verified; job {} queued", job.session_id,
                 job.frames_received, job.id);
  }
  sessions_.close(job.session_id);
  open_.erase(it);
}

void IngestServer::sendToNode(zmq::socket_t& socket, const std::string& node_id,
                              const v2::Envelope& env) {
  for (const auto& [rid, node] : nodes_) {
    if (node->node_id == node_id) sendEnvelope(socket, env, rid);
  }
}

void IngestServer::failSession(zmq::socket_t& socket, const std::string& session_id,
                               const std::string& reason, JobEvent event) {
  auto it = open_.find(session_id);
  if (it == open_.end()) return;
  // Members still capturing or streaming this session can stop (and drop
  // their spool).
  v2::Envelope stop;
  stop.mutable_session_stop()->set_session_id(session_id);
  stop.mutable_session_stop()->set_reason(reason);
  for (const std::string& node : it->second->members) sendToNode(socket, node, stop);
  publish(*it->second, true);
  JobRecord& job = it->second->job;
  if (auto st = jobs_.transition(job, event, reason); !st.ok()) {
    spdlog::error("session {}: {}", session_id, st.error());
  }
  spdlog::error("session {} {}: {}", session_id,
                event == JobEvent::kCancel ? "cancelled" : "failed", reason);
  sessions_.close(session_id);
  open_.erase(it);
}

void IngestServer::checkTimeouts(zmq::socket_t& socket) {
  const auto now = clock_.steady();
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (now - it->second->last_seen > config_.node_timeout) {
      spdlog::warn("capture node '{}' went silent; removed", it->second->node_id);
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = recent_errors_.begin(); it != recent_errors_.end();) {
    it = now - it->second > std::chrono::seconds(2) ? recent_errors_.erase(it) : std::next(it);
  }
  std::vector<std::pair<std::string, std::string>> expired;
  for (const auto& [id, session] : open_) {
    if (!session->fatal.empty()) {
      expired.emplace_back(id, session->fatal);
      continue;
    }
    for (const std::string& node : session->waiting) {
      const auto last = session->last_progress.at(node);
      if (now - last <= config_.session_stall_timeout) continue;
      bool connected = false;
      for (const auto& [rid, n] : nodes_) connected = connected || n->node_id == node;
      const auto secs = std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(config_.session_stall_timeout).count());
      const auto refusal = session->last_refusal.find(node);
      if (refusal != session->last_refusal.end()) {
        expired.emplace_back(id, "capture node " + node + " made no progress for " + secs +
                                     " s: the trainer refused its records (last: " +
                                     refusal->second + ")");
        break;
      }
      expired.emplace_back(
          id, connected ? "capture node " + node + " sent nothing new for " + secs +
                              " s (is its camera or pose stage stuck? see its log)"
                        : "capture node " + node + " went away and did not come back within " +
                              secs + " s (restart it: it resumes from its spool)");
      break;
    }
  }
  for (const auto& [id, reason] : expired) failSession(socket, id, reason);
}

}  // namespace booth
