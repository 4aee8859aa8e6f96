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
#include <cstdint>
#include <string>

#include <zmq.hpp>

#include "common/transport/curve_keys.h"

namespace booth {

class ZapHandler {
 public:
  ZapHandler(zmq::context_t& context, CurveAllowList allow);
  // Answers every waiting request; never blocks.
  void handlePending();
  zmq::socket_t& socket() { return socket_; }
  std::uint64_t refused() const { return refused_; }

 private:
  zmq::socket_t socket_;
  CurveAllowList allow_;
  std::uint64_t refused_ = 0;
};

}  // namespace booth
