#pragma once
// A capture node as far as the wire is concerned (a DEALER socket that
// says Hello, sends records and waits for answers), for tests of the
// trainer's ingest over real sockets on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <zmq.hpp>

#include "common/transport/curve_keys.h"
#include "common/transport/wire.h"

namespace booth {
namespace test_ingest {

using namespace std::chrono_literals;

inline std::string tinyJpeg(int w = 32, int h = 24) {
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", cv::Mat(h, w, CV_8UC3, cv::Scalar(1, 2, 3)), jpeg);
  return std::string(jpeg.begin(), jpeg.end());
}

// A capture node as far as the wire is concerned.
class Client {
 public:
  Client(const std::string& endpoint, const std::optional<CurveKeyPair>& keys = std::nullopt,
         const std::string& server_key = {}, const std::string& routing_id = {})
      : socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    if (!routing_id.empty()) socket_.set(zmq::sockopt::routing_id, routing_id);
    if (keys) {
      socket_.set(zmq::sockopt::curve_serverkey, server_key);
      socket_.set(zmq::sockopt::curve_publickey, keys->public_key);
      socket_.set(zmq::sockopt::curve_secretkey, keys->secret_key);
    }
    socket_.connect(endpoint);
  }
  void send(v2::Envelope env) { ASSERT_TRUE(sendEnvelope(socket_, std::move(env))); }
  void sendBytes(const std::string& bytes) {
    socket_.send(zmq::buffer(bytes), zmq::send_flags::none);
  }
  void sendRaw(v2::Envelope env, std::uint32_t version) {
    env.set_version(version);
    std::string bytes;
    env.SerializeToString(&bytes);
    socket_.send(zmq::buffer(bytes), zmq::send_flags::none);
  }
  void hello(const std::string& node_id, std::vector<std::string> cameras = {"cam0"}) {
    v2::Envelope env;
    env.mutable_hello()->set_node_id(node_id);
    for (const auto& c : cameras) env.mutable_hello()->add_cameras()->set_camera_id(c);
    send(env);
  }
  // The next message of `kind`, skipping others, within `timeout`.
  std::optional<v2::Envelope> await(v2::Envelope::BodyCase kind,
                                    std::chrono::milliseconds timeout = 3s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 20ms);
      while (true) {
        auto in = receiveEnvelope(socket_, false);
        if (!in.ok() || !in.value()) break;
        if (in.value()->envelope.body_case() == kind) return in.value()->envelope;
      }
    }
    return std::nullopt;
  }
  void frame(const std::string& session, const std::string& camera, std::uint64_t seq,
             std::string data = tinyJpeg()) {
    v2::Envelope env;
    auto* f = env.mutable_frame();
    f->set_session_id(session);
    f->set_camera_id(camera);
    f->set_sequence(seq);
    f->set_encoding(v2::ENCODING_JPEG);
    f->set_data(std::move(data));
    send(env);
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

}  // namespace test_ingest
}  // namespace booth
