#include "common/transport/wire.h"

#include <vector>

namespace booth {

void poseToProto(const Pose& pose, v1::PoseSource source, v1::Keypoints* out) {
  out->Clear();
  out->set_layout(v1::LAYOUT_COCO17);
  out->set_source(source);
  for (const Keypoint& k : pose.points) {
    out->add_x(k.x);
    out->add_y(k.y);
    out->add_confidence(k.confidence);
    out->add_imputed(k.imputed);
  }
}

Result<Pose> poseFromProto(const v1::Keypoints& kp) {
  const int n = kp.x_size();
  if (kp.y_size() != n || kp.confidence_size() != n) {
    return fail("keypoints arrays differ in length: x " + std::to_string(n) + ", y " +
                std::to_string(kp.y_size()) + ", confidence " +
                std::to_string(kp.confidence_size()));
  }
  if (kp.imputed_size() != 0 && kp.imputed_size() != n) {
    return fail("keypoints imputed flags: " + std::to_string(kp.imputed_size()) + " for " +
                std::to_string(n) + " points");
  }
  auto point = [&](int i) {
    return Keypoint{kp.x(i), kp.y(i), kp.confidence(i), kp.imputed_size() ? kp.imputed(i) : false};
  };
  switch (kp.layout()) {
    case v1::LAYOUT_COCO17: {
      if (n != kCoco17Count)
        return fail("COCO-17 keypoints need 17 points, got " + std::to_string(n));
      Pose pose;
      for (int i = 0; i < n; ++i) pose.points[i] = point(i);
      return pose;
    }
    case v1::LAYOUT_OPENPOSE18: {
      if (n != kOpenPose18Count) {
        return fail("OpenPose COCO-18 keypoints need 18 points, got " + std::to_string(n));
      }
      OpenPose18Points points{};
      for (int i = 0; i < n; ++i) points[i] = point(i);
      return fromOpenPose18(points);
    }
    default:
      return fail("unknown keypoint layout " + std::to_string(kp.layout()));
  }
}

bool sendEnvelope(zmq::socket_t& socket, const v1::Envelope& envelope, const std::string& peer) {
  std::string bytes;
  envelope.SerializeToString(&bytes);
  try {
    if (!peer.empty()) {
      if (!socket.send(zmq::buffer(peer), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        return false;
      }
    }
    return socket.send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    // EHOSTUNREACH on a ROUTER with ROUTER_MANDATORY: the peer is gone.
    return false;
  }
}

Result<std::optional<Incoming>> receiveEnvelope(zmq::socket_t& socket, bool router) {
  std::vector<zmq::message_t> parts;
  try {
    zmq::message_t msg;
    if (!socket.recv(msg, zmq::recv_flags::dontwait)) return std::optional<Incoming>{};
    parts.push_back(std::move(msg));
    while (parts.back().more()) {
      zmq::message_t part;
      (void)socket.recv(part, zmq::recv_flags::none);
      parts.push_back(std::move(part));
    }
  } catch (const zmq::error_t& e) {
    return fail(std::string("receive failed: ") + e.what());
  }
  Incoming in;
  const size_t expected = router ? 2 : 1;
  if (parts.size() != expected) {
    return fail("expected " + std::to_string(expected) + " message parts, got " +
                std::to_string(parts.size()));
  }
  if (router) in.peer = parts[0].to_string();
  const zmq::message_t& body = parts.back();
  if (!in.envelope.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return fail("message of " + std::to_string(body.size()) + " bytes is not a booth.v1.Envelope");
  }
  return std::optional<Incoming>(std::move(in));
}

}  // namespace booth
