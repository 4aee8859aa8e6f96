#include "common/transport/wire.h"

#include <cmath>
#include <vector>

namespace booth {
namespace {

constexpr float kMaxCoordinate = 1e6f;

v2::PoseSource toProto(PoseOrigin origin) {
  return origin == PoseOrigin::kGroundTruth ? v2::POSE_SOURCE_GROUND_TRUTH
                                            : v2::POSE_SOURCE_NETWORK;
}

}  // namespace

void keypointsToProto(const Pose& pose, v2::Keypoints* out) {
  out->Clear();
  for (const Keypoint& k : pose.points) {
    out->add_x(k.x);
    out->add_y(k.y);
    out->add_confidence(k.confidence);
    out->add_imputed(k.imputed);
  }
}

Result<Pose> keypointsFromProto(const v2::Keypoints& kp) {
  const int n = kp.x_size();
  if (n != kCoco17Count || kp.y_size() != n || kp.confidence_size() != n) {
    return fail("keypoints must have 17 COCO-17 points, got x " + std::to_string(n) + ", y " +
                std::to_string(kp.y_size()) + ", confidence " +
                std::to_string(kp.confidence_size()));
  }
  if (kp.imputed_size() != 0 && kp.imputed_size() != n) {
    return fail("keypoints have " + std::to_string(kp.imputed_size()) + " imputed flags for " +
                std::to_string(n) + " points");
  }
  Pose pose;
  for (int i = 0; i < n; ++i) {
    const float x = kp.x(i), y = kp.y(i), c = kp.confidence(i);
    if (!std::isfinite(x) || !std::isfinite(y) || std::fabs(x) > kMaxCoordinate ||
        std::fabs(y) > kMaxCoordinate) {
      return fail("keypoint " + std::string(coco17Name(i)) + " at (" + std::to_string(x) + ", " +
                  std::to_string(y) + ") is not a pixel position");
    }
    if (!(c >= 0.f && c <= 1.f)) {
      return fail("keypoint " + std::string(coco17Name(i)) + " has confidence " +
                  std::to_string(c) + ", expected 0..1");
    }
    pose.points[i] = Keypoint{x, y, c, kp.imputed_size() ? kp.imputed(i) : false};
  }
  return pose;
}

void poseRecordToProto(const std::string& session_id, const PoseRecord& r, v2::PoseRecord* out) {
  out->Clear();
  out->set_session_id(session_id);
  out->set_camera_id(r.camera_id);
  out->set_sequence(r.sequence);
  out->set_capture_time_us(r.capture_time_us);
  out->set_source(toProto(r.origin));
  for (const PosedPerson& p : r.people) {
    v2::Person* person = out->add_people();
    person->set_track_id(p.track_id);
    keypointsToProto(p.pose, person->mutable_keypoints());
  }
  out->set_performer_track(r.performer_track);
  if (r.performer) keypointsToProto(*r.performer, out->mutable_performer());
  out->set_error(r.error);
}

Result<PoseRecord> poseRecordFromProto(const v2::PoseRecord& in) {
  constexpr int kMaxPeople = 64;
  PoseRecord r;
  r.camera_id = in.camera_id();
  r.sequence = in.sequence();
  r.capture_time_us = in.capture_time_us();
  r.origin = in.source() == v2::POSE_SOURCE_GROUND_TRUTH ? PoseOrigin::kGroundTruth
                                                         : PoseOrigin::kNetwork;
  if (in.people_size() > kMaxPeople) {
    return fail("pose record lists " + std::to_string(in.people_size()) +
                " people, at most " + std::to_string(kMaxPeople) + " are accepted");
  }
  for (const auto& p : in.people()) {
    auto pose = keypointsFromProto(p.keypoints());
    if (!pose.ok()) return fail("person " + std::to_string(p.track_id()) + ": " + pose.error());
    r.people.push_back({p.track_id(), pose.value()});
  }
  r.performer_track = in.performer_track();
  if (in.has_performer()) {
    auto pose = keypointsFromProto(in.performer());
    if (!pose.ok()) return fail("performer: " + pose.error());
    r.performer = pose.value();
  }
  r.error = in.error();
  return r;
}

bool sendEnvelope(zmq::socket_t& socket, v2::Envelope envelope, const std::string& routing_id) {
  envelope.set_version(kProtocolVersion);
  std::string bytes;
  envelope.SerializeToString(&bytes);
  try {
    if (!routing_id.empty()) {
      if (!socket.send(zmq::buffer(routing_id),
                       zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
        return false;
      }
    }
    return socket.send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    // EHOSTUNREACH on a ROUTER with ROUTER_MANDATORY: the peer is gone.
    return false;
  }
}

Result<std::optional<Incoming>> receiveEnvelope(zmq::socket_t& socket, bool router,
                                                std::size_t max_bytes) {
  constexpr std::size_t kMaxParts = 4;
  std::vector<zmq::message_t> parts;
  std::string user_id;
  try {
    zmq::message_t msg;
    if (!socket.recv(msg, zmq::recv_flags::dontwait)) return std::optional<Incoming>{};
    bool more = msg.more();
    parts.push_back(std::move(msg));
    // Drain every part of this message even when there are too many, so the
    // next receive starts at a message boundary.
    std::size_t count = 1;
    while (more) {
      zmq::message_t part;
      (void)socket.recv(part, zmq::recv_flags::none);
      more = part.more();
      ++count;
      if (parts.size() < kMaxParts) parts.push_back(std::move(part));
    }
    if (count > parts.size()) {
      return fail("expected at most " + std::to_string(kMaxParts) + " message parts, got " +
                  std::to_string(count));
    }
    // The authenticated identity rides on the message that carries data.
    if (const char* id = parts.back().size() > 0 ? parts.back().gets("User-Id") : nullptr) {
      user_id = id;
    }
  } catch (const zmq::error_t& e) {
    // gets() throws when the message carries no such property (no ZAP).
    if (parts.empty() || e.num() != EINVAL) return fail(std::string("receive failed: ") + e.what());
  }
  Incoming in;
  in.user_id = std::move(user_id);
  const std::size_t expected = router ? 2 : 1;
  if (parts.size() != expected) {
    return fail("expected " + std::to_string(expected) + " message parts, got " +
                std::to_string(parts.size()));
  }
  if (router) in.routing_id = parts[0].to_string();
  const zmq::message_t& body = parts.back();
  if (body.size() > max_bytes) {
    return fail("message of " + std::to_string(body.size()) + " bytes is larger than the " +
                std::to_string(max_bytes) + " allowed");
  }
  if (!in.envelope.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return fail("message of " + std::to_string(body.size()) + " bytes is not a booth.v2.Envelope");
  }
  return std::optional<Incoming>(std::move(in));
}

std::string versionMismatch(const v2::Envelope& envelope) {
  if (envelope.version() == kProtocolVersion) return {};
  return "protocol version " + std::to_string(envelope.version()) + ", this peer speaks " +
         std::to_string(kProtocolVersion) + "; update the older of trainer_node and capture_node";
}

}  // namespace booth
