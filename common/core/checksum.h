#pragma once
// FNV-1a 64 over bytes: the per-frame checksum of session manifests. A
// camera's manifest checksum is the wrapping sum of its frames' checksums,
// so it does not depend on arrival order or resends.
#include <cstdint>
#include <string_view>

namespace booth {

inline std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace booth
