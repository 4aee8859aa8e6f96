#pragma once
// TrainerLink: the capture node's only ZeroMQ socket (a DEALER connected to
// a trainer's ingest), owned by its own thread. The node's control thread
// never touches the socket: it hands envelopes to send(), a bounded queue
// that wakes the link thread through an eventfd, and receives what the
// trainer sends through the `on_message` callback (called on the link
// thread; it hands the envelope to the node's event queue). ZeroMQ
// reconnects by itself when the trainer goes away and comes back.
//
// Several trainers (ingest gateways): the link talks to one endpoint at a
// time, the first at start. When that one has sent nothing for
// `failover_after` (the node says Hello every second and every Hello is
// answered, so silence means the trainer or the way to it is gone), the
// link moves to the next endpoint (round robin): it drops the old
// connection and what was queued for it, connects to the next, and calls
// `on_switch` with the new endpoint (on the link thread). The node then
// says Hello there and resends everything the old trainer had not acked
// (the streamer's resend; durable acks make a resend harmless).
//
// Malformed or wrong-version messages from the trainer are logged and
// dropped here; a wrong version is logged once per minute with what to do.
//
// Lifecycle: start() connects (fails on a bad endpoint) -> send()/messages
// -> stop() or destructor. Threading: send() from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "booth.pb.h"
#include "common/core/bounded_queue.h"
#include "common/core/result.h"
#include "common/os/unique_fd.h"
#include "common/transport/curve_keys.h"

namespace booth {

struct TrainerLinkConfig {
  // The trainers' ingest endpoints, in the order they are tried.
  std::vector<std::string> endpoints = {"tcp://127.0.0.1:5555"};
  // With several endpoints: nothing heard from the current one for this
  // long moves the link to the next.
  std::chrono::milliseconds failover_after{5000};
  // CURVE: the trainer's public key and this node's key pair. Without them
  // (insecure) the link is plain TCP, allowed only to loopback endpoints.
  // Several gateways share the trainer's key pair.
  std::string trainer_public_key;
  std::optional<CurveKeyPair> node_keys;
  bool insecure = false;
  // Envelopes waiting for the socket. While the trainer is away, credit
  // flow keeps this small; the bound is what keeps memory flat regardless.
  std::size_t send_queue = 1024;
  std::size_t max_message_bytes = 64u << 20;
};

class TrainerLink {
 public:
  using MessageHandler = std::function<void(v2::Envelope&&)>;
  using SwitchHandler = std::function<void(const std::string& endpoint)>;

  explicit TrainerLink(TrainerLinkConfig config);
  ~TrainerLink();
  TrainerLink(const TrainerLink&) = delete;
  TrainerLink& operator=(const TrainerLink&) = delete;

  // Connects to the first endpoint. `on_switch` (optional) hears of every
  // move to another endpoint.
  Status start(MessageHandler on_message, SwitchHandler on_switch = {});
  void stop();
  // Queues an envelope for the trainer. false: the queue is full (the
  // caller tries again later; resend timers make this safe).
  bool send(v2::Envelope envelope);

  std::uint64_t sentMessages() const { return sent_.load(); }
  std::uint64_t droppedOnSend() const { return send_failed_.load(); }
  std::uint64_t switches() const { return switches_.load(); }
  // The endpoint the link talks to now (any thread).
  std::string endpoint() const;

 private:

  TrainerLinkConfig config_;
  BoundedQueue<v2::Envelope> outgoing_;
  UniqueFd wake_;  // eventfd: outgoing has something
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> send_failed_{0};
  std::atomic<std::uint64_t> switches_{0};
  std::atomic<std::size_t> current_{0};  // index into config_.endpoints
  std::jthread thread_;
  std::string start_error_;
};

}  // namespace booth
