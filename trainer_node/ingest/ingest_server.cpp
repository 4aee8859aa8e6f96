#include "trainer_node/ingest/ingest_server.h"

#include <random>
#include <set>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/transport/wire.h"

namespace booth {
namespace {

using Clock = std::chrono::steady_clock;

std::string newSessionId() {
  static std::mt19937_64 rng{std::random_device{}()};
  const auto t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rng() & 0xffff));
  return std::string("s") + stamp + "-" + suffix;
}

double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

struct IngestServer::Node {
  NodeInfo info;
  Clock::time_point last_seen;
};

struct IngestServer::OpenSession {
  JobRecord job;
  Clock::time_point started;
  std::set<std::string> waiting;                       // nodes whose manifest is still due
  std::map<std::string, Clock::time_point> last_data;  // per node
  std::map<std::pair<std::string, std::string>, std::int64_t> frames;  // (node, camera) -> count
  double capture_seconds = 0, pose_seconds = 0;
  Clock::time_point last_publish;
};

IngestServer::IngestServer(IngestConfig config, JobStore& jobs, SessionStore& sessions)
    : config_(std::move(config)), jobs_(jobs), sessions_(sessions) {}

IngestServer::~IngestServer() { stop(); }

Status IngestServer::start() {
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

Result<JobRecord> IngestServer::startSession(const SessionRequest& request) {
  auto promise = std::make_shared<std::promise<Result<JobRecord>>>();
  auto answer = promise->get_future();
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back([this, request, promise](zmq::socket_t& socket) {
      if (nodes_.empty()) {
        promise->set_value(
            fail("no capture node is connected; start capture_node --trainer " + bound_endpoint_));
        return;
      }
      if (!open_.empty()) {
        promise->set_value(fail("session " + open_.begin()->first +
                                " is still being captured or received; start the next one when "
                                "its job is queued"));
        return;
      }
      auto session = std::make_unique<OpenSession>();
      JobRecord& job = session->job;
      job.session_id = newSessionId();
      job.id = "job-" + job.session_id;
      job.state = JobState::kReceiving;
      job.created_ms = nowMillis();
      job.capture_seconds_requested = request.capture_seconds;
      job.train_budget_seconds = request.train_budget_seconds;
      job.choreography = request.choreography;
      nlohmann::json node_list = nlohmann::json::array();
      int cameras = 0;
      for (const auto& [id, node] : nodes_) {
        node_list.push_back(id);
        session->waiting.insert(id);
        session->last_data[id] = Clock::now();
        cameras += static_cast<int>(node->info.cameras.size());
      }
      job.nodes_json = node_list.dump();
      job.detail = "capturing " + std::to_string(static_cast<int>(request.capture_seconds)) +
                   " s on " + std::to_string(cameras) + " camera(s) of " +
                   std::to_string(nodes_.size()) + " node(s)";
      if (auto st = jobs_.insert(job); !st.ok()) {
        promise->set_value(fail("cannot record the job: " + st.error()));
        return;
      }
      v1::Envelope env;
      env.mutable_session_start()->set_session_id(job.session_id);
      env.mutable_session_start()->set_seconds(request.capture_seconds);
      for (const auto& [id, node] : nodes_) {
        if (!sendEnvelope(socket, env, id)) spdlog::warn("could not send SessionStart to {}", id);
      }
      session->started = Clock::now();
      spdlog::info("session {} started: {}", job.session_id, job.detail);
      promise->set_value(job);
      open_[job.session_id] = std::move(session);
    });
  }
  if (answer.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return fail("the ingest thread did not answer within 10 s");
  }
  return answer.get();
}

std::vector<NodeInfo> IngestServer::nodes() {
  auto promise = std::make_shared<std::promise<std::vector<NodeInfo>>>();
  auto answer = promise->get_future();
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back([this, promise](zmq::socket_t&) {
      std::vector<NodeInfo> out;
      for (const auto& [id, node] : nodes_) {
        NodeInfo info = node->info;
        info.seconds_since_seen = since(node->last_seen);
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
      if (open) failSession(socket, session_id, reason);
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
  return out;
}

void IngestServer::loop(std::stop_token stop, std::promise<Status> bound) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::router);
  try {
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::router_handover, 1);   // a restarted node takes its name back
    socket.set(zmq::sockopt::router_mandatory, 1);  // sending to a gone node fails, not vanishes
    socket.set(zmq::sockopt::rcvhwm, 0);
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

  auto last_check = Clock::now();
  while (!stop.stop_requested()) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      spdlog::error("ingest poll failed: {}", e.what());
      break;
    }
    for (int i = 0; i < 1000; ++i) {  // bounded: commands and timeouts still run under load
      auto in = receiveEnvelope(socket, /*router=*/true);
      if (!in.ok()) {
        spdlog::warn("ingest: dropping malformed message: {}", in.error());
        continue;
      }
      if (!in.value()) break;
      handle(socket, in.value()->peer, in.value()->envelope);
    }
    runCommands(socket);
    if (since(last_check) > 0.5) {
      checkTimeouts(socket);
      for (auto& [id, session] : open_) publish(*session, false);
      last_check = Clock::now();
    }
  }
}

void IngestServer::runCommands(zmq::socket_t& socket) {
  std::deque<std::function<void(zmq::socket_t&)>> pending;
  {
    std::lock_guard lock(commands_mutex_);
    pending.swap(commands_);
  }
  for (auto& command : pending) command(socket);
}

void IngestServer::handle(zmq::socket_t& socket, const std::string& peer, const v1::Envelope& env) {
  switch (env.body_case()) {
    case v1::Envelope::kHello: {
      const auto& hello = env.hello();
      if (hello.node_id() != peer) {
        spdlog::warn("ingest: Hello from '{}' names node '{}'; using the connection's name", peer,
                     hello.node_id());
      }
      auto& node = nodes_[peer];
      if (!node) {
        node = std::make_unique<Node>();
        spdlog::info("capture node '{}' connected: {} camera(s), pose {}", peer,
                     hello.cameras_size(), hello.pose_source());
      }
      node->info.node_id = peer;
      node->info.cameras.clear();
      for (const auto& c : hello.cameras()) {
        CameraStatus cam;
        cam.camera_id = c.camera_id();
        cam.kind = c.kind();
        cam.width = static_cast<int>(c.width());
        cam.height = static_cast<int>(c.height());
        cam.fps = c.fps();
        node->info.cameras.push_back(std::move(cam));
      }
      node->info.pose_source = hello.pose_source();
      node->last_seen = Clock::now();
      v1::Envelope ack;
      ack.mutable_hello_ack()->set_trainer_id(config_.trainer_id);
      sendEnvelope(socket, ack, peer);
      break;
    }
    case v1::Envelope::kRecord:
      onRecord(socket, peer, env.record());
      break;
    case v1::Envelope::kManifest:
      onManifest(socket, peer, env.manifest());
      break;
    default:
      spdlog::warn("ingest: unexpected message (case {}) from '{}'",
                   static_cast<int>(env.body_case()), peer);
  }
}

void IngestServer::onRecord(zmq::socket_t& socket, const std::string& peer,
                            const v1::FrameRecord& record) {
  const auto& f = record.frame();
  v1::Envelope reply;
  v1::Ack* ack = reply.mutable_ack();
  ack->set_session_id(f.session_id());
  ack->set_camera_id(f.camera_id());
  ack->set_sequence(f.sequence());
  if (auto it = nodes_.find(peer); it != nodes_.end()) it->second->last_seen = Clock::now();

  auto session = open_.find(f.session_id());
  if (session == open_.end()) {
    // Closed already (a late resend) is fine to ack if it was stored.
    ack->set_ok(false);
    ack->set_error("unknown or closed session '" + f.session_id() + "'");
    if (auto job = jobs_.bySession(f.session_id()); job && job->state != JobState::kFailed) {
      ack->set_ok(true);
      ack->clear_error();
    }
    sendEnvelope(socket, reply, peer);
    if (!ack->ok()) {
      frames_rejected_.fetch_add(1, std::memory_order_relaxed);
      // Nothing will ever accept these frames: tell the node to stop
      // resending them.
      v1::Envelope stop;
      stop.mutable_session_stop()->set_session_id(f.session_id());
      stop.mutable_session_stop()->set_reason(ack->error() + " on the trainer (failed or unknown)");
      sendEnvelope(socket, stop, peer);
    }
    return;
  }
  auto written = sessions_.write(peer, record);
  if (!written.ok()) {
    spdlog::error("session {}: {}", f.session_id(), written.error());
    ack->set_ok(false);
    ack->set_error(written.error());
    frames_rejected_.fetch_add(1, std::memory_order_relaxed);
  } else {
    ack->set_ok(true);
    if (written.value()) {
      ++session->second->frames[{peer, f.camera_id()}];
      frames_received_.fetch_add(1, std::memory_order_relaxed);
    }
    session->second->last_data[peer] = Clock::now();
  }
  sendEnvelope(socket, reply, peer);
}

void IngestServer::publish(OpenSession& session, bool force) {
  if (!force && since(session.last_publish) < 0.5) return;
  nlohmann::json cams = nlohmann::json::array();
  std::int64_t total = 0;
  for (const auto& [key, count] : session.frames) {
    cams.push_back({{"node", key.first}, {"camera", key.second}, {"frames", count}});
    total += count;
  }
  if (!force && total == session.job.frames_received) return;
  session.job.cameras_json = cams.dump();
  session.job.frames_received = total;
  if (total > 0 && session.job.state == JobState::kReceiving) {
    session.job.detail = "received " + std::to_string(total) + " frames";
  }
  if (auto st = jobs_.update(session.job); !st.ok()) spdlog::error("job update: {}", st.error());
  session.last_publish = Clock::now();
}

void IngestServer::onManifest(zmq::socket_t& socket, const std::string& peer,
                              const v1::SessionManifest& manifest) {
  v1::Envelope reply;
  v1::ManifestAck* ack = reply.mutable_manifest_ack();
  ack->set_session_id(manifest.session_id());
  auto it = open_.find(manifest.session_id());
  if (it == open_.end()) {
    // A repeated manifest after the session closed: answer as before.
    auto job = jobs_.bySession(manifest.session_id());
    ack->set_ok(job && job->state != JobState::kFailed);
    if (!ack->ok()) ack->set_error("unknown or failed session '" + manifest.session_id() + "'");
    sendEnvelope(socket, reply, peer);
    return;
  }
  OpenSession& session = *it->second;
  if (!manifest.error().empty()) {
    ack->set_ok(true);
    sendEnvelope(socket, reply, peer);
    failSession(socket, manifest.session_id(), "capture node " + peer + ": " + manifest.error());
    return;
  }
  Status verified = sessions_.verify(manifest);
  if (!verified.ok()) {
    ack->set_ok(false);
    ack->set_error(verified.error());
    sendEnvelope(socket, reply, peer);
    failSession(socket, manifest.session_id(),
                "manifest of node " + peer + " does not match: " + verified.error());
    return;
  }
  ack->set_ok(true);
  sendEnvelope(socket, reply, peer);
  session.waiting.erase(peer);
  session.capture_seconds = std::max(session.capture_seconds, manifest.capture_seconds());
  session.pose_seconds = std::max(session.pose_seconds, manifest.pose_seconds());
  spdlog::info("session {}: node {} closed its stream ({} camera(s)), pose {}",
               manifest.session_id(), peer, manifest.cameras_size(), manifest.pose_source());
  if (!session.waiting.empty()) return;

  JobRecord& job = session.job;
  job.capture_seconds = session.capture_seconds;
  job.pose_seconds = session.pose_seconds;
  job.transfer_seconds =
      std::max(0.0, since(session.started) - session.capture_seconds - session.pose_seconds);
  job.state = JobState::kQueued;
  job.detail = "queued for training";
  publish(session, true);
  spdlog::info("session {}: {} frames verified; job {} queued", job.session_id, job.frames_received,
               job.id);
  open_.erase(it);
}

void IngestServer::failSession(zmq::socket_t& socket, const std::string& session_id,
                               const std::string& reason) {
  auto it = open_.find(session_id);
  if (it == open_.end()) return;
  // Nodes still capturing or streaming this session can stop now.
  v1::Envelope stop;
  stop.mutable_session_stop()->set_session_id(session_id);
  stop.mutable_session_stop()->set_reason(reason);
  for (const std::string& node : it->second->waiting) sendEnvelope(socket, stop, node);
  JobRecord& job = it->second->job;
  job.state = JobState::kFailed;
  job.detail = reason;
  publish(*it->second, true);
  spdlog::error("session {} failed: {}", session_id, reason);
  open_.erase(it);
}

void IngestServer::checkTimeouts(zmq::socket_t& socket) {
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (Clock::now() - it->second->last_seen > config_.node_timeout) {
      spdlog::warn("capture node '{}' went silent; removed", it->first);
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  std::vector<std::pair<std::string, std::string>> expired;
  for (const auto& [id, session] : open_) {
    for (const std::string& node : session->waiting) {
      const auto last = session->last_data.at(node);
      const bool connected = nodes_.count(node) > 0;
      // While a node is connected it may still be capturing or running pose;
      // the session waits. A node that is gone for session_timeout fails it.
      if (!connected && Clock::now() - last > config_.session_timeout) {
        expired.emplace_back(id,
                             "capture node " + node + " disconnected before closing the session");
      }
    }
  }
  for (const auto& [id, reason] : expired) failSession(socket, id, reason);
}

}  // namespace booth
