#pragma once
#include <cstdint>

namespace booth {

// Counters since the trainer started, for /metrics.
struct IngestStats {
  std::uint64_t frames_received = 0;  // frame records newly stored (resends not counted)
  std::uint64_t frames_rejected = 0;  // frame records refused (not a member, too big, write error)
  std::uint64_t poses_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_refused = 0;  // malformed, wrong version, unknown peer
  std::uint64_t hellos_refused = 0;     // Hello with a bad node id, camera or key mismatch
  std::uint64_t handshakes_refused = 0;  // CURVE handshakes refused (key not allowed)
};

}  // namespace booth
