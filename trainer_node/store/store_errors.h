#pragma once
// How a shared store's error says that its server could not be reached (a
// database restart, a network cut): the same call may succeed later, and
// the job it was made for is not to blame. Every such error of the
// PostgreSQL stores (store/pg/) starts with kStoreUnreachable; a full disk
// or a refused write does not.
#include <string_view>

namespace booth {

inline constexpr std::string_view kStoreUnreachable = "PostgreSQL unavailable while ";

inline bool isStoreUnreachable(std::string_view error) {
  return error.find(kStoreUnreachable) != std::string_view::npos;
}

}  // namespace booth
