#pragma once
// The stored sessions `trainer_node pretrain --sessions DIR` trains on:
// every camera of every session under DIR/sessions (a trainer's
// --data-dir) whose visitor agreed to improve the booth, as recorded in
// DIR/jobs.sqlite (JobRecord::may_improve_booth, not withdrawn, frames not
// deleted). Any other session is refused: not used, with a line naming it
// and why. A session that fails to load or shows no whole body is skipped
// with a line.
//
// A visitor who withdraws later is not taken out of a base already trained
// (or being trained) from their frames; retention deletes the frames, so
// the next pretrain does not see them.
//
// Threading: the calling thread only. DIR/jobs.sqlite may be open in a
// running trainer at the same time (SQLite's locking, WAL).
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.h"
#include "trainer_node/jobs/job_record.h"
#include "trainer_node/train/training_set.h"

namespace booth {

struct StoredSessionCorpus {
  std::vector<TrainingSet> clips;       // one per camera used
  std::vector<std::string> refused;     // sessions without consent, by id
  std::size_t sessions_used = 0;
};

// Why a session may not be trained on; nullopt when it may. `job` is the
// session's job as the store has it (nullopt: no job records it).
std::optional<std::string> consentRefusal(const std::string& session_id,
                                          const std::optional<JobRecord>& job);

// Fails when DIR/jobs.sqlite does not exist or does not open (nothing
// could say who agreed), or when stopped; refusals and skips are logged
// to `log` and do not fail it.
Result<StoredSessionCorpus> loadConsentedSessions(const std::filesystem::path& data_dir,
                                                  const TrainingSetOptions& options,
                                                  std::ostream& log);

}  // namespace booth
