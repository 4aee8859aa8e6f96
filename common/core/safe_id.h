#pragma once
// Ids that come from the other node or an HTTP client and become file or
// folder names (sessions, nodes, cameras): 1..64 of [A-Za-z0-9_.-], not
// starting with '.', so they can never climb out of a data directory or
// hide as dot files. Both nodes check with this one predicate.
#include <algorithm>
#include <string_view>

namespace booth {

inline bool isSafeId(std::string_view id) {
  if (id.empty() || id.size() > 64 || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

}  // namespace booth
