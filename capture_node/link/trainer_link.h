#pragma once
// TrainerLink: the capture node's only ZeroMQ socket (a DEALER connected to
// the trainer's ingest), owned by its own thread. The node's control thread
// never touches the socket: it hands envelopes to send(), a bounded queue
// that wakes the link thread through an eventfd, and receives what the
// trainer sends through the `on_message` callback (called on the link
// thread; it hands the envelope to the node's event queue). ZeroMQ
// reconnects by itself when the trainer goes away and comes back.
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

#include "booth.pb.h"
#include "common/core/bounded_queue.h"
#include "common/core/result.h"
#include "common/os/unique_fd.h"
#include "common/transport/curve_keys.h"

namespace booth {

struct TrainerLinkConfig {
  std::string endpoint = "tcp://127.0.0.1:5555";
  // CURVE: the trainer's public key and this node's key pair. Without them
  // (insecure) the link is plain TCP, allowed only to a loopback endpoint.
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

  explicit TrainerLink(TrainerLinkConfig config);
  ~TrainerLink();
  TrainerLink(const TrainerLink&) = delete;
  TrainerLink& operator=(const TrainerLink&) = delete;

  Status start(MessageHandler on_message);
  void stop();
  // Queues an envelope for the trainer. false: the queue is full (the
  // caller tries again later; resend timers make this safe).
  bool send(v2::Envelope envelope);

  std::uint64_t sentMessages() const { return sent_.load(); }
  std::uint64_t droppedOnSend() const { return send_failed_.load(); }

 private:
  void run(std::stop_token stop, MessageHandler on_message);

  TrainerLinkConfig config_;
  BoundedQueue<v2::Envelope> outgoing_;
  UniqueFd wake_;  // eventfd: outgoing has something
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> send_failed_{0};
  std::jthread thread_;
  std::string start_error_;
};

}  // namespace booth
