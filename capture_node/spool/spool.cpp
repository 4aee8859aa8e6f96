#include "capture_node/spool/spool.h"

#include <algorithm>
#include <system_error>

#include "common/os/durable_file.h"
#include "common/os/list_directory.h"

namespace booth {
namespace fs = std::filesystem;

Spool::Spool(fs::path root, std::uint64_t budget_bytes)
    : root_(std::move(root)), budget_(budget_bytes) {}

Status Spool::open() {
  if (auto st = makeDirectories(root_); !st.ok()) {
    return fail(st.error() + " (set --spool-dir to a writable folder)");
  }
  return okStatus();
}

std::vector<std::unique_ptr<SessionSpool>> Spool::recoverAll(std::vector<std::string>& problems) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  auto listed = listDirectory(root_, EntryKind::kDirectories);
  if (!listed.ok()) problems.push_back("cannot list spool: " + listed.error());
  for (const fs::path& dir : listed.ok() ? listed.value() : std::vector<fs::path>{}) {
    if (dir.extension() != ".damaged") dirs.push_back(dir);
  }
  std::sort(dirs.begin(), dirs.end());  // session ids start with their creation time
  std::vector<std::unique_ptr<SessionSpool>> sessions;
  for (const fs::path& dir : dirs) {
    auto session = SessionSpool::recover(dir, budget_);
    if (!session.ok()) {
      const fs::path aside = dir.string() + ".damaged";
      fs::rename(dir, aside, ec);
      problems.push_back("spooled session " + dir.filename().string() +
                         " cannot be read and was moved to " + aside.string() + ": " +
                         session.error());
      continue;
    }
    budget_.adopt(session.value()->allocatedBytes());
    sessions.push_back(std::move(session.value()));
  }
  std::stable_sort(sessions.begin(), sessions.end(), [](const auto& a, const auto& b) {
    return a->meta().created_unix_ms < b->meta().created_unix_ms;
  });
  return sessions;
}

Result<std::unique_ptr<SessionSpool>> Spool::create(const SessionMeta& meta) {
  return SessionSpool::create(root_, meta, budget_);
}

}  // namespace booth
