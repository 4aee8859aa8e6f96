#include "trainer_node/store/data_dir.h"

namespace booth {
namespace fs = std::filesystem;

Status secureDataDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create --data-dir " + dir.string() + ": " + ec.message());
  constexpr auto kDirMode = fs::perms::owner_all;
  constexpr auto kFileMode = fs::perms::owner_read | fs::perms::owner_write;
  fs::permissions(dir, kDirMode, ec);
  if (ec) return fail("cannot make --data-dir " + dir.string() + " private: " + ec.message());
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const auto status = it->symlink_status(ec);
    if (ec) break;
    std::error_code perm_ec;
    if (fs::is_directory(status)) {
      if ((status.permissions() & (fs::perms::group_all | fs::perms::others_all)) !=
          fs::perms::none)
        fs::permissions(it->path(), kDirMode, perm_ec);
    } else if (fs::is_regular_file(status)) {
      if ((status.permissions() & (fs::perms::group_all | fs::perms::others_all)) !=
          fs::perms::none)
        fs::permissions(it->path(), kFileMode, perm_ec);
    }
    if (perm_ec) {
      return fail("cannot make " + it->path().string() + " private: " + perm_ec.message());
    }
  }
  if (ec) return fail("cannot walk --data-dir " + dir.string() + ": " + ec.message());
  return okStatus();
}

}  // namespace booth
