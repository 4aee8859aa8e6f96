#pragma once
// FNV-1a 64 over bytes (Fowler/Noll/Vo, the 64-bit offset basis and prime
// of the published reference): the per-frame checksum of session
// manifests and the pose model's weights check. A camera's manifest
// checksum is the wrapping sum of its frames' checksums, so it does not
// depend on arrival order or resends.
#include <cstdint>
#include <string_view>

namespace booth {

inline constexpr std::uint64_t kFnv1a64OffsetBasis = 14695981039346656037ull;  // 0xcbf29ce484222325
inline constexpr std::uint64_t kFnv1a64Prime = 1099511628211ull;               // 0x100000001b3

inline std::uint64_t fnv1a64(std::string_view bytes) {
  std::uint64_t h = kFnv1a64OffsetBasis;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= kFnv1a64Prime;
  }
  return h;
}

}  // namespace booth
