#include "trainer_node/ingest/ingest_transport.h"

#include <algorithm>
#include <tuple>

#include <spdlog/spdlog.h>

#include "common/transport/wire.h"
#include "trainer_node/ingest/node_registry.h"
#include "trainer_node/ingest/zap_handler.h"

namespace booth {
namespace {

// Room for an Envelope's fields around the largest frame (ids, sequence,
// sizes; a Hello of 64 cameras or a pose record of 64 people is smaller).
constexpr std::size_t kEnvelopeOverhead = 64 * 1024;

// The largest message part the ingest reads: an envelope with the largest
// frame allowed, within max_message_bytes.
std::size_t maxPartBytes(const IngestConfig& config) {
  return std::min(config.max_message_bytes, config.max_frame_bytes + kEnvelopeOverhead);
}

}  // namespace

std::string ingestPeerKey(const std::string& routing_id, const std::string& user_id) {
  return user_id.empty() ? "connection " + routing_id : "node " + user_id;
}

struct IngestTransport::PendingAck {
  std::string routing_id;
  std::string session_id;
  std::string camera_id;
  v2::RecordKind kind = v2::RECORD_FRAME;
  std::uint64_t sequence = 0;
  bool ok = true;
  std::string error;
};

IngestTransport::IngestTransport(const IngestConfig& config, Handler& handler, const Clock& clock)
    : config_(config), handler_(handler), clock_(clock), warnings_(clock, std::chrono::seconds(5)) {}

IngestTransport::~IngestTransport() { stop(); }

Status IngestTransport::start() {
  std::promise<Status> bound;
  auto result = bound.get_future();
  thread_ = std::jthread(
      [this, p = std::move(bound)](std::stop_token st) mutable { loop(st, std::move(p)); });
  Status status = result.get();
  if (!status.ok()) thread_ = {};
  return status;
}

void IngestTransport::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void IngestTransport::post(std::function<void()> command) {
  std::lock_guard lock(commands_mutex_);
  commands_.push_back(std::move(command));
}

void IngestTransport::loop(std::stop_token stop, std::promise<Status> bound) {
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
  socket_ = &socket;
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
        accept(in.value()->routing_id, in.value()->user_id, in.value()->envelope);
      } catch (const std::exception& e) {
        ++messages_refused_;
        spdlog::error("ingest: a message failed and was dropped: {}", e.what());
      } catch (...) {
        ++messages_refused_;
        spdlog::error("ingest: a message failed and was dropped (unknown exception)");
      }
    }
    try {
      flushAcks();
      runCommands();
      if (secondsBetween(last_check, clock_.steady()) > 0.5) {
        const auto now = clock_.steady();
        for (auto it = recent_errors_.begin(); it != recent_errors_.end();) {
          it = now - it->second > std::chrono::seconds(2) ? recent_errors_.erase(it)
                                                          : std::next(it);
        }
        handler_.housekeeping();
        if (zap) zap->reportHeldWarnings();
        for (const auto& [key, n] : warnings_.expired()) {
          spdlog::warn("ingest: {} more refusal(s) of the same kind ({})", n, quotedForLog(key));
        }
        last_check = clock_.steady();
      }
    } catch (const std::exception& e) {
      spdlog::error("ingest: housekeeping failed: {}; going on", e.what());
    } catch (...) {
      spdlog::error("ingest: housekeeping failed; going on");
    }
  }
  socket_ = nullptr;
}

void IngestTransport::runCommands() {
  std::deque<std::function<void()>> pending;
  {
    std::lock_guard lock(commands_mutex_);
    pending.swap(commands_);
  }
  for (auto& command : pending) {
    // A command that throws fails its caller (its promise breaks), not the ingest.
    try {
      command();
    } catch (const std::exception& e) {
      spdlog::error("ingest: a command failed: {}", e.what());
    } catch (...) {
      spdlog::error("ingest: a command failed");
    }
  }
}

void IngestTransport::accept(const std::string& routing_id, const std::string& user_id,
                             const v2::Envelope& env) {
  if (const std::string mismatch = versionMismatch(env); !mismatch.empty()) {
    warnRepeated(ingestPeerKey(routing_id, user_id) + " version",
                 "ingest: refusing a message with " + mismatch);
    protocolError(routing_id, "the trainer refuses " + mismatch);
    return;
  }
  if (config_.server_keys && user_id.empty()) {
    // Cannot happen through ZAP; refuse rather than trust anything else.
    protocolError(routing_id, "unauthenticated connection");
    return;
  }
  handler_.onMessage(routing_id, user_id, env);
}

void IngestTransport::send(const std::string& routing_id, const v2::Envelope& env) {
  if (socket_) sendEnvelope(*socket_, env, routing_id);
}

void IngestTransport::grantCredit(const std::string& routing_id) {
  v2::Envelope ack;
  ack.mutable_hello_ack()->set_trainer_id(config_.trainer_id);
  ack.mutable_hello_ack()->set_credit_frames(config_.credit_records);
  ack.mutable_hello_ack()->set_credit_bytes(config_.credit_bytes);
  send(routing_id, ack);
}

void IngestTransport::warnRepeated(const std::string& key, const std::string& line) {
  if (auto n = warnings_.occurred(key)) spdlog::warn("{}{}", line, repeatSuffix(*n));
}

void IngestTransport::protocolError(const std::string& routing_id, const std::string& error) {
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
  send(routing_id, reply);
}

void IngestTransport::queueAck(const std::string& routing_id, const std::string& session_id,
                               const std::string& camera_id, v2::RecordKind kind,
                               std::uint64_t sequence, bool ok, const std::string& error) {
  // Ids echoed back are cut: a refused record may carry anything.
  pending_acks_.push_back(PendingAck{routing_id, session_id.substr(0, 128),
                                     camera_id.substr(0, 128), kind, sequence, ok, error});
}

void IngestTransport::flushAcks() {
  if (pending_acks_.empty()) return;
  // Durable first: no ack leaves before its record is on disk.
  if (auto st = handler_.beforeAcks(); !st.ok()) {
    spdlog::error("ingest: {}", st.error());
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
    send(routing_id, env);
  }
}

}  // namespace booth
