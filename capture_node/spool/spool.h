#pragma once
// Spool: the capture node's spool directory as a whole: where sessions are
// created, how much disk they may use (SpoolBudget), and, at start-up,
// which unfinished sessions a previous run left behind.
//
// Threading: create() and recoverAll() from the node's control thread.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "capture_node/spool/session_spool.h"
#include "capture_node/spool/spool_budget.h"
#include "common/core/result.h"

namespace booth {

class Spool {
 public:
  Spool(std::filesystem::path root, std::uint64_t budget_bytes);

  // Creates the directory (0700) when missing.
  Status open();
  // Every session a previous run left, oldest first, their disk use counted
  // against the budget. A session that cannot be read is renamed to
  // "<id>.damaged" (never deleted: it may still hold a visitor's frames)
  // and described in `problems`.
  std::vector<std::unique_ptr<SessionSpool>> recoverAll(std::vector<std::string>& problems);
  Result<std::unique_ptr<SessionSpool>> create(const SessionMeta& meta);

  SpoolBudget& budget() { return budget_; }
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
  SpoolBudget budget_;
};

}  // namespace booth
