#include "common/os/list_directory.h"

namespace booth {
namespace fs = std::filesystem;

Result<std::vector<fs::path>> listDirectory(const fs::path& dir, EntryKind kind,
                                            bool missing_ok) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (missing_ok && !fs::exists(dir, ec) && !ec) return out;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code type_ec;
    const auto status = it->symlink_status(type_ec);
    if (type_ec) continue;  // gone meanwhile
    if (kind == EntryKind::kDirectories && !fs::is_directory(status)) continue;
    if (kind == EntryKind::kFiles && !fs::is_regular_file(status)) continue;
    out.push_back(it->path());
  }
  if (ec) return fail("cannot list " + dir.string() + ": " + ec.message());
  return out;
}

}  // namespace booth
