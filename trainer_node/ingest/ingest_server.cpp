#include "trainer_node/ingest/ingest_server.h"

#include <spdlog/spdlog.h>

#include "trainer_node/ingest/performer_status_intake.h"

namespace booth {

IngestServer::IngestServer(IngestConfig config, JobQueue& jobs, SessionSink& sessions,
                           const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      registry_(clock_),
      intake_(config_, jobs, sessions, clock_),
      transport_(config_, *this, clock_) {}

IngestServer::~IngestServer() { stop(); }

Status IngestServer::start() {
  intake_.reopenReceiving();
  return transport_.start();
}

void IngestServer::stop() { transport_.stop(); }

Result<JobRecord> IngestServer::startSession(const SessionRequest& request) {
  auto answer = transport_.call<Result<JobRecord>>([this, request] { return openSession(request); },
                                                   std::chrono::seconds(10));
  if (!answer) return fail("the ingest thread did not answer within 10 s");
  return std::move(*answer);
}

Result<JobRecord> IngestServer::startSessionForTest(zmq::socket_t& socket,
                                                    const SessionRequest& request) {
  transport_.useSocketForTest(socket);
  return openSession(request);
}

Result<JobRecord> IngestServer::openSession(const SessionRequest& request) {
  if (registry_.empty()) {
    return fail("no capture node is connected; start capture_node --trainer " +
                transport_.endpoint());
  }
  return intake_.open(request, registry_.snapshot(), *this);
}

std::vector<NodeInfo> IngestServer::nodes() {
  return transport_
      .call<std::vector<NodeInfo>>([this] { return registry_.snapshot(); },
                                   std::chrono::seconds(5))
      .value_or(std::vector<NodeInfo>{});
}

bool IngestServer::cancelSession(const std::string& session_id, const std::string& reason) {
  return transport_
      .call<bool>([this, session_id, reason] { return intake_.cancel(session_id, reason, *this); },
                  std::chrono::seconds(10))
      .value_or(false);
}

IngestStats IngestServer::stats() const {
  IngestStats out;
  out.frames_received = intake_.framesReceived();
  out.frames_rejected = intake_.framesRejected();
  out.poses_received = intake_.posesReceived();
  out.bytes_received = intake_.bytesReceived();
  out.messages_refused = transport_.messagesRefused();
  out.hellos_refused = registry_.refusedHellos();
  out.handshakes_refused = transport_.handshakesRefused();
  return out;
}

void IngestServer::handleForTest(zmq::socket_t& socket, const std::string& routing_id,
                                 const std::string& user_id, const v2::Envelope& env) {
  transport_.useSocketForTest(socket);
  transport_.receiveForTest(routing_id, user_id, env);
}

void IngestServer::flushForTest(zmq::socket_t& socket) {
  transport_.useSocketForTest(socket);
  transport_.flushAcks();
}

void IngestServer::toNode(const std::string& node_id, const v2::Envelope& env) {
  for (const std::string& route : registry_.routesOf(node_id)) transport_.send(route, env);
}

void IngestServer::onMessage(const std::string& routing_id, const std::string& user_id,
                             const v2::Envelope& env) {
  if (env.body_case() == v2::Envelope::kHello) {
    onHello(routing_id, user_id, env.hello());
    return;
  }
  RegisteredNode* node = registry_.find(routing_id);
  if (!node) {
    // Not introduced: nothing it says is taken.
    transport_.protocolError(routing_id, "say Hello first: unknown capture node");
    return;
  }
  registry_.touch(*node);
  const std::string node_id = node->node_id;
  switch (env.body_case()) {
    case v2::Envelope::kFrame: {
      const v2::Frame& f = env.frame();
      const RecordAnswer a = intake_.frame(node_id, f);
      transport_.queueAck(routing_id, f.session_id(), f.camera_id(), v2::RECORD_FRAME,
                          f.sequence(), a.ok, a.error);
      break;
    }
    case v2::Envelope::kPose: {
      const v2::PoseRecord& p = env.pose();
      const RecordAnswer a = intake_.pose(node_id, p);
      transport_.queueAck(routing_id, p.session_id(), p.camera_id(), v2::RECORD_POSE,
                          p.sequence(), a.ok, a.error);
      break;
    }
    case v2::Envelope::kManifest:
      intake_.manifest(
          node_id, env.manifest(),
          [&](const v2::Envelope& reply) { transport_.send(routing_id, reply); }, *this);
      break;
    case v2::Envelope::kPerformerStatus:
      if (auto st = applyPerformerStatus(env.performer_status(), node->info.cameras); !st.ok()) {
        transport_.protocolError(routing_id, "performer status refused: " + st.error());
      }
      break;
    case v2::Envelope::kProtocolError:
      spdlog::error("capture node {} refused a message: {}", node_id,
                    quotedForLog(env.protocol_error().error()));
      break;
    default:
      transport_.protocolError(
          routing_id, "unexpected message (case " + std::to_string(env.body_case()) + ")");
  }
}

void IngestServer::onHello(const std::string& routing_id, const std::string& user_id,
                           const v2::Hello& hello) {
  if (auto refused = registry_.hello(routing_id, user_id, config_.server_keys.has_value(), hello)) {
    if (!refused->warning.empty()) {
      transport_.warnRepeated(
          ingestPeerKey(routing_id, user_id) + " hello",
          refused->warning);
    }
    transport_.protocolError(routing_id, refused->answer);
    return;
  }
  transport_.grantCredit(routing_id);
  // Sessions the node still holds: resume those the trainer still wants.
  for (const auto& u : hello.unfinished()) {
    transport_.send(routing_id, intake_.resume(hello.node_id(), u));
  }
}

void IngestServer::housekeeping() {
  registry_.dropSilent(config_.node_timeout);
  intake_.checkStalls(*this, [this](const std::string& id) { return registry_.connected(id); });
  intake_.publishProgress();
}

}  // namespace booth
