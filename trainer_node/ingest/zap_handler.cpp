#include "trainer_node/ingest/zap_handler.h"

#include <vector>

#include <spdlog/spdlog.h>

namespace booth {

ZapHandler::ZapHandler(zmq::context_t& context, CurveAllowList allow, const Clock& clock,
                       std::chrono::milliseconds warn_period)
    : socket_(context, zmq::socket_type::rep),
      allow_(std::move(allow)),
      warnings_(clock, warn_period) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
}

void ZapHandler::handlePending() {
  while (true) {
    std::vector<zmq::message_t> request;
    try {
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::dontwait)) return;
      bool more = part.more();
      request.push_back(std::move(part));
      while (more) {
        zmq::message_t next;
        (void)socket_.recv(next, zmq::recv_flags::none);
        more = next.more();
        request.push_back(std::move(next));
      }
    } catch (const zmq::error_t& e) {
      spdlog::error("authentication handler: {}", e.what());
      return;
    }
    // version, request id, domain, address, identity, mechanism, credentials...
    std::string status = "400", text = "malformed ZAP request", user;
    if (request.size() >= 6 && request[0].to_string() == "1.0") {
      const std::string mechanism = request[5].to_string();
      const std::string address = request[3].to_string();
      if (mechanism != "CURVE" || request.size() < 7 || request[6].size() != 32) {
        text = "only CURVE clients are admitted";
        if (auto n = warnings_.occurred(address + " not CURVE")) {
          spdlog::warn("refused a client from {} that does not use CURVE ({}){}", address,
                       mechanism.substr(0, 16), repeatSuffix(*n));
        }
      } else {
        char z85[41];
        zmq_z85_encode(z85, static_cast<const std::uint8_t*>(request[6].data()), 32);
        user = allow_.nodeFor(z85);
        if (user.empty()) {
          text = "unknown key";
          if (auto n = warnings_.occurred(address + " unknown key")) {
            spdlog::warn("refused a capture node from {} with unknown public key {}{}", address,
                         z85, repeatSuffix(*n));
          }
        } else {
          status = "200";
          text = "OK";
        }
      }
    }
    if (status != "200") ++refused_;
    const std::string request_id = request.size() > 1 ? request[1].to_string() : std::string();
    try {
      socket_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(status), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(text), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(user), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(std::string()), zmq::send_flags::none);
    } catch (const zmq::error_t& e) {
      spdlog::error("authentication handler: cannot answer: {}", e.what());
    }
  }
}

void ZapHandler::reportHeldWarnings() {
  for (const auto& [key, n] : warnings_.expired()) {
    spdlog::warn("refused {} more handshake(s): {}", n, key);
  }
}

}  // namespace booth
