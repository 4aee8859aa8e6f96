#pragma once
// IngestTransport: the trainer's end of the wire (booth.v2, protocol
// version 3; proto/README.md). Owns the ZeroMQ ROUTER socket and its
// thread: binds (CURVE with ZAP, or without keys on loopback only when
// asked), reads messages in bounded batches, refuses what does not parse,
// carries another protocol version or comes unauthenticated, grants each
// node its credit (HelloAck) and sends acks durably: acks queued during a
// batch leave only after the handler's beforeAcks() made their records
// durable (one sync per batch); if that fails every positive ack of the
// batch turns into a refusal with the reason, so the nodes resend.
//
// What a message means is the Handler's business (IngestServer: node
// registry and session intake). The transport calls it on the ingest
// thread only: onMessage() for each accepted message, beforeAcks() before
// a batch's acks leave, housekeeping() about twice a second.
//
// Failure: a message whose handler throws is dropped and counted, a
// command that throws breaks its caller's promise, housekeeping that
// throws is logged; none of them stops the thread. Answers to a peer that
// keeps sending wrong messages are limited to one a second, and warnings
// to a line per peer and reason every few seconds.
//
// Threading: the socket lives on the ingest thread. Other threads hand
// work over with call(), which runs a function there and waits (bounded)
// for its result; the counters are atomics.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "booth.pb.h"
#include "common/core/clock.h"
#include "common/core/repeat_limiter.h"
#include "common/core/result.h"
#include "trainer_node/ingest/ingest_config.h"

namespace booth {

// Who a peer is, for rate-limited warnings: its key's node id when it has
// one (stable across reconnections), else its connection.
std::string ingestPeerKey(const std::string& routing_id, const std::string& user_id);

class IngestTransport {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void onMessage(const std::string& routing_id, const std::string& user_id,
                           const v2::Envelope& env) = 0;
    // Makes the records of the acks queued so far durable.
    virtual Status beforeAcks() = 0;
    virtual void housekeeping() = 0;
  };

  IngestTransport(const IngestConfig& config, Handler& handler, const Clock& clock);
  ~IngestTransport();
  IngestTransport(const IngestTransport&) = delete;
  IngestTransport& operator=(const IngestTransport&) = delete;

  // Binds and starts the ingest thread; fails naming the endpoint when the
  // port is in use, the endpoint is invalid or keys are missing.
  Status start();
  void stop();
  // The bound endpoint (with the real port when configured as tcp://HOST:*).
  // Valid after a successful start().
  const std::string& endpoint() const { return bound_endpoint_; }

  // Any thread: runs `work` on the ingest thread and returns its result, or
  // nullopt when the thread did not answer within `timeout`.
  template <class T>
  std::optional<T> call(std::function<T()> work, std::chrono::milliseconds timeout) {
    auto promise = std::make_shared<std::promise<T>>();
    auto answer = promise->get_future();
    post([work = std::move(work), promise] { promise->set_value(work()); });
    if (answer.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return answer.get();
  }

  // --- the ingest thread (the handler's calls) ---
  void send(const std::string& routing_id, const v2::Envelope& env);
  // The node's credit: records and frame bytes it may have in flight.
  void grantCredit(const std::string& routing_id);
  // A ProtocolError for the peer (at most one a second per peer); counted.
  void protocolError(const std::string& routing_id, const std::string& error);
  // A record's answer, sent with the batch's acks.
  void queueAck(const std::string& routing_id, const std::string& session_id,
                const std::string& camera_id, v2::RecordKind kind, std::uint64_t sequence,
                bool ok, const std::string& error);
  // A warning about what a peer sends wrong, rate-limited by `key`.
  void warnRepeated(const std::string& key, const std::string& line);
  // Sends the queued acks (after beforeAcks()).
  void flushAcks();

  std::uint64_t messagesRefused() const { return messages_refused_.load(std::memory_order_relaxed); }
  std::uint64_t handshakesRefused() const {
    return handshakes_refused_.load(std::memory_order_relaxed);
  }

  // Tests and the fuzzer drive the handler without the thread: replies go
  // to `socket`, which must outlive its use.
  void useSocketForTest(zmq::socket_t& socket) { socket_ = &socket; }
  // Runs `message` through the checks the thread makes, then the handler.
  void receiveForTest(const std::string& routing_id, const std::string& user_id,
                      const v2::Envelope& env) {
    accept(routing_id, user_id, env);
  }

 private:
  struct PendingAck;
  void post(std::function<void()> command);
  void loop(std::stop_token stop, std::promise<Status> bound);
  void accept(const std::string& routing_id, const std::string& user_id, const v2::Envelope& env);
  void runCommands();

  const IngestConfig& config_;
  Handler& handler_;
  const Clock& clock_;
  std::string bound_endpoint_;  // written before start() returns, then read-only

  std::mutex commands_mutex_;                    // guards commands_
  std::deque<std::function<void()>> commands_;  // run on the ingest thread

  // Ingest thread only.
  zmq::socket_t* socket_ = nullptr;
  std::vector<PendingAck> pending_acks_;
  std::map<std::string, Clock::TimePoint> recent_errors_;  // routing id -> last ProtocolError
  RepeatLimiter warnings_;

  std::atomic<std::uint64_t> messages_refused_{0};
  std::atomic<std::uint64_t> handshakes_refused_{0};
  std::jthread thread_;
};

}  // namespace booth
