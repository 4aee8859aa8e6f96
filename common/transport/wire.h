#pragma once
// The edge between in-memory types and the booth.v1 wire contract:
// Pose <-> Keypoints conversion, and Envelope send/receive over ZeroMQ.
// Receiving treats the peer as untrusted: malformed messages come back as
// Error, never as a crash.
#include <optional>
#include <string>

#include <zmq.hpp>

#include "booth.pb.h"
#include "common/core/keypoints.h"
#include "common/core/result.h"

namespace booth {

void poseToProto(const Pose& pose, v1::PoseSource source, v1::Keypoints* out);
// Accepts COCO-17 (17 points) and OpenPose COCO-18 (18 points, converted).
Result<Pose> poseFromProto(const v1::Keypoints& keypoints);

// A received message: the ROUTER's peer identity (empty on DEALER sockets)
// and the decoded envelope.
struct Incoming {
  std::string peer;
  v1::Envelope envelope;
};

// Sends one envelope; on a ROUTER socket `peer` addresses the node. Returns
// false when the message could not be queued (peer gone, would block).
bool sendEnvelope(zmq::socket_t& socket, const v1::Envelope& envelope,
                  const std::string& peer = {});

// Receives one message if one is waiting (non-blocking). nullopt: nothing
// waiting; Error: a message arrived but was not a valid Envelope.
Result<std::optional<Incoming>> receiveEnvelope(zmq::socket_t& socket, bool router);

}  // namespace booth
