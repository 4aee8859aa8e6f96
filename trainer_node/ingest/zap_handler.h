#pragma once
// ZapHandler: ZeroMQ's authentication hook (ZAP, RFC 27) for the ingest
// socket. When a capture node connects with CURVE, libzmq asks this handler
// whether its public key may in; the answer names the node (its id in the
// allow-list), and ZeroMQ attaches that name to every message of the
// connection as "User-Id". So a node's identity comes from its key alone,
// never from a routing id or a message field.
//
// Threading: owned and polled by the ingest thread (the handshake waits
// for its answer, which the ingest loop gives within one poll period).
// Must be constructed before any socket of the same context binds with
// CURVE.
//
// Refusals are counted (refused(), in /metrics) and logged at most once per
// address and reason every `warn_period`, with the count of the others
// (a client retrying unknown keys in a loop makes a line every few seconds,
// not one per try).
#include <chrono>
#include <cstdint>
#include <string>

#include <zmq.hpp>

#include "common/core/clock.h"
#include "common/core/repeat_limiter.h"
#include "common/transport/curve_keys.h"

namespace booth {

class ZapHandler {
 public:
  ZapHandler(zmq::context_t& context, CurveAllowList allow,
             const Clock& clock = SystemClock::instance(),
             std::chrono::milliseconds warn_period = std::chrono::seconds(5));
  // Answers every waiting request; never blocks.
  void handlePending();
  // Logs the refusals held back for a whole period (call now and then).
  void reportHeldWarnings();
  zmq::socket_t& socket() { return socket_; }
  std::uint64_t refused() const { return refused_; }

 private:
  zmq::socket_t socket_;
  CurveAllowList allow_;
  RepeatLimiter warnings_;  // key: address and reason
  std::uint64_t refused_ = 0;
};

}  // namespace booth
