#include "trainer_node/store/disk_space.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace booth {

Result<std::uint64_t> freeBytes(const std::filesystem::path& path) {
  std::error_code ec;
  const auto info = std::filesystem::space(path, ec);
  if (ec) return fail("cannot read the free space of " + path.string() + ": " + ec.message());
  return static_cast<std::uint64_t>(info.available);
}

std::string lowSpaceReason(const std::filesystem::path& dir, std::uint64_t free,
                           std::uint64_t min_free) {
  if (free >= min_free) return {};
  constexpr double kMiB = 1024.0 * 1024.0;
  char text[200];
  std::snprintf(text, sizeof text, "only %.0f MiB free, at least %.0f MiB needed", free / kMiB,
                min_free / kMiB);
  return "the trainer's data disk (" + dir.string() + ") is almost full: " + text +
         "; free some space (finished jobs' data can be deleted from the operator page) or "
         "lower --min-free-disk-mb";
}

bool looksLikeDiskFull(const std::string& error) {
  const std::string signs[] = {std::strerror(ENOSPC), std::strerror(EDQUOT),
                               "database or disk is full", "unexpected pos", "disk full"};
  for (const std::string& sign : signs) {
    if (error.find(sign) != std::string::npos) return true;
  }
  return false;
}

}  // namespace booth
