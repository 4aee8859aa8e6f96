#pragma once
// The edge between domain types and the booth.v2 wire contract: pose
// records <-> protobuf, and Envelope send/receive over ZeroMQ. Everything
// received is treated as hostile: malformed messages, wrong versions,
// oversized or out-of-range values come back as Error, never as a crash.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "booth.pb.h"
#include "common/core/keypoints.h"
#include "common/core/pose_record.h"
#include "common/core/result.h"

namespace booth {

// The protocol version this build speaks; every Envelope carries it.
// 3: the schema of package booth.v2 unchanged, the manifest checksum is
// standard FNV-1a 64 (version 2 used a wrong offset basis).
inline constexpr std::uint32_t kProtocolVersion = 3;

void keypointsToProto(const Pose& pose, v2::Keypoints* out);
// Exactly 17 points (COCO-17), finite coordinates within +-1e6 pixels,
// confidences in [0, 1].
Result<Pose> keypointsFromProto(const v2::Keypoints& keypoints);

void poseRecordToProto(const std::string& session_id, const PoseRecord& record,
                       v2::PoseRecord* out);
Result<PoseRecord> poseRecordFromProto(const v2::PoseRecord& record);

// A received message: the ROUTER's routing id (empty on DEALER sockets),
// the authenticated peer identity ZeroMQ attached to it (the ZAP "User-Id":
// the node's CURVE public key; empty without authentication) and the
// decoded envelope.
struct Incoming {
  std::string routing_id;
  std::string user_id;
  v2::Envelope envelope;
};

// Sends one envelope, stamped with kProtocolVersion; on a ROUTER socket
// `routing_id` addresses the peer. false when it could not be queued (peer
// gone, would block).
bool sendEnvelope(zmq::socket_t& socket, v2::Envelope envelope, const std::string& routing_id = {});

// Receives one message if one is waiting (non-blocking). nullopt: nothing
// waiting; Error: a message arrived but was not a valid Envelope (too many
// parts, larger than `max_bytes`, not parseable). The version is not
// checked here: the caller answers a wrong one with a ProtocolError.
Result<std::optional<Incoming>> receiveEnvelope(zmq::socket_t& socket, bool router,
                                                std::size_t max_bytes = 64u << 20);

// "protocol version 1, expected 2" or empty when the envelope's version is
// this build's.
std::string versionMismatch(const v2::Envelope& envelope);

}  // namespace booth
