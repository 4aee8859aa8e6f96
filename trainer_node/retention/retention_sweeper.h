#pragma once
// RetentionSweeper: visitors' data is deleted when it is no longer needed.
//   - a done job's frames, poses and per-job model (its session folder),
//     its clip and the clip's poster: `keep_done` after the job finished
//     (0 = kept until deleted by hand);
//   - a failed or cancelled job's frames and model: `keep_failed` after it ended (long
//     enough for the operator to look, no clip is ever made of them);
//   - orphans, i.e. session folders and clip files that no job refers to
//     (a job row lost, a render that failed half-way, frames of a session
//     the ingest refused): once untouched for `keep_failed`.
// A purged job keeps its row (timings, no personal data) in state expired
// (JobEvent::kExpire) with purged_ms set; its clip link then answers 404.
// The operator can purge a finished job at once (DELETE /api/jobs/{id}/data).
//
// Threading: start() runs a sweep every `interval` on the sweeper's own
// thread; purge() and sweepOnce() may be called from any thread (deletes
// are serialised by a mutex). Time is injected (wall-clock milliseconds
// since the epoch), so tests need not wait.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "common/core/result.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/session_store.h"

namespace booth {

struct RetentionConfig {
  std::chrono::seconds keep_done{std::chrono::hours(72)};  // 0: keep until deleted by hand
  std::chrono::seconds keep_failed{std::chrono::hours(1)};
  std::chrono::seconds interval{60};
};

class RetentionSweeper {
 public:
  using NowMillis = std::function<std::int64_t()>;

  RetentionSweeper(RetentionConfig config, JobStore& jobs, SessionStore& sessions,
                   std::filesystem::path clips_dir, NowMillis now = nowMillis);
  ~RetentionSweeper();
  void start();
  void stop();

  struct Report {
    int done_purged = 0;
    int failed_purged = 0;  // failed and cancelled
    int orphan_sessions = 0;
    int orphan_clips = 0;
  };
  Report sweepOnce();

  // Deletes the job's session folder, clip and poster and marks it purged.
  // Only for finished (done, failed or cancelled) jobs.
  Status purge(const JobRecord& job);

 private:
  void loop(std::stop_token stop);
  Status purgeLocked(const JobRecord& job);

  RetentionConfig config_;
  JobStore& jobs_;
  SessionStore& sessions_;
  std::filesystem::path clips_dir_;
  NowMillis now_;
  std::mutex mutex_;  // one purge or sweep at a time
  std::jthread thread_;
};

}  // namespace booth
