#pragma once
// Credit: how much the node may have sent and not yet seen acked, as the
// trainer granted it (HelloAck): a number of records (frames and poses)
// and a number of frame bytes. Shared by every session the node streams,
// so the trainer bounds the node as a whole.
//
// Threading: the node's control thread only.
#include <cstdint>

namespace booth {

struct Credit {
  std::uint64_t max_records = 64;
  std::uint64_t max_bytes = 32u << 20;
  std::uint64_t records_in_flight = 0;
  std::uint64_t bytes_in_flight = 0;

  // A record of `bytes` fits. One record always fits when nothing is in
  // flight, so a frame larger than max_bytes still goes (alone).
  bool fits(std::uint64_t bytes) const {
    if (records_in_flight == 0) return true;
    return records_in_flight < max_records && bytes_in_flight + bytes <= max_bytes;
  }
  void take(std::uint64_t bytes) {
    ++records_in_flight;
    bytes_in_flight += bytes;
  }
  void give(std::uint64_t bytes) {
    if (records_in_flight > 0) --records_in_flight;
    bytes_in_flight = bytes_in_flight > bytes ? bytes_in_flight - bytes : 0;
  }
};

}  // namespace booth
