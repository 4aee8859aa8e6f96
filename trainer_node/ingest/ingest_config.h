#pragma once
// IngestConfig: the ingest's settings, parsed once by trainer_options and
// shared by its parts (transport, node registry, session intake).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/transport/curve_keys.h"
#include "trainer_node/store/disk_space.h"

namespace booth {

struct IngestConfig {
  std::string endpoint = "tcp://127.0.0.1:5555";  // bound here
  std::string trainer_id = "trainer";
  // This gateway's name on the jobs it creates (JobRecord::gateway_id): the
  // same after a restart, different for every gateway sharing a database
  // (--gateway-id; the host name and the endpoint by default). Empty: the
  // only gateway of its queue (the embedded trainer), which reopens every
  // receiving job after a restart.
  std::string gateway_id;
  // Authentication. With keys, only capture nodes whose public keys are on
  // the allow-list get in (CURVE, checked by ZAP) and each is known by the
  // id it is listed under. Without keys (insecure), a node is known by the
  // id it says in Hello: allowed only on a loopback endpoint, and only when
  // asked for explicitly.
  std::optional<CurveKeyPair> server_keys;
  CurveAllowList allow;
  bool insecure = false;
  std::chrono::milliseconds node_timeout{5000};  // no message for this long: node away
  // A member of an open session that stores nothing new for this long
  // fails the session, connected or not (capture plus the pose stage's
  // catch-up keep records flowing; silence means stuck or gone).
  std::chrono::milliseconds session_stall_timeout{60000};
  // Credit granted to each node (HelloAck): records and frame bytes in flight.
  std::uint32_t credit_records = 256;
  std::uint64_t credit_bytes = 64ull << 20;
  // Limits on what a node may send.
  std::size_t max_message_bytes = 16u << 20;
  std::size_t max_frame_bytes = 8u << 20;
  std::uint64_t max_frame_pixels = 3840ull * 2160;
  std::uint64_t max_frames_per_session = 200000;
  // New sessions are refused while the data disk has less than this free
  // (checked through free_space when set; main sets it to the data folder's).
  std::uint64_t min_free_bytes = 512ull << 20;
  FreeSpaceProbe free_space;
};

}  // namespace booth
