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
//   - a done job whose visitor agreed to improve the booth (consentHolds)
//     keeps its frames and poses past `keep_done`, for `trainer_node
//     pretrain --sessions`, until `keep_consented` after the session started
//     (0 = consent keeps nothing beyond the clip) or until the visitor
//     withdraws: at `keep_done` only its clip, poster and model go. A failed
//     or cancelled job's visitor has no page to withdraw from, so consent
//     keeps nothing of it.
// A purged job keeps its row (timings, no personal data) in state expired
// (JobEvent::kExpire) with purged_ms set; its clip link then answers 404.
// Frames kept by consent are marked by frames_purged_ms == 0 once expired.
// The operator can purge a finished job at once, or the frames consent
// kept (DELETE /api/jobs/{id}/data).
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
#include <optional>
#include <thread>

#include "common/core/result.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/session_store.h"

namespace booth {

struct RetentionConfig {
  std::chrono::seconds keep_done{std::chrono::hours(72)};  // 0: keep until deleted by hand
  std::chrono::seconds keep_failed{std::chrono::hours(1)};
  std::chrono::seconds interval{60};
  // Frames and poses of a visitor who agreed to improve the booth, counted
  // from the session's start (--consented-retention-days); 0: not kept.
  std::chrono::seconds keep_consented{std::chrono::hours(24 * 90)};
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
    int consent_kept = 0;      // done jobs expired with their frames kept by consent
    int consented_purged = 0;  // frames kept by consent, deleted (time up or withdrawn)
  };
  Report sweepOnce();

  // Deletes the job's session folder, clip and poster and marks it purged.
  // Only for finished (done, failed or cancelled) jobs, and for expired
  // ones whose frames consent kept (those frames go now).
  Status purge(const JobRecord& job);

  // The visitor withdrew their consent: recorded in the job store, and the
  // frames and poses consent kept past the clip are deleted at once (a job
  // whose clip still exists loses them with it, as without consent).
  Status withdrawConsent(const JobRecord& job);

  // Until when consent keeps this job's frames and poses (wall-clock ms);
  // nullopt when it keeps nothing (no consent, withdrawn, keep_consented 0,
  // not a done or expired job, the frames already gone).
  std::optional<std::int64_t> framesKeptUntil(const JobRecord& job) const;

 private:
  void loop(std::stop_token stop);
  Status purgeLocked(const JobRecord& job);
  // Deletes the frames and poses consent kept, marking them gone.
  Status purgeKeptFramesLocked(const JobRecord& job);
  // A done job whose frames consent keeps: its clip, poster and model go.
  Status purgeAllButFramesLocked(const JobRecord& job);
  Status removeClip(const JobRecord& job);
  // Whether consent keeps the frames of `job` at wall-clock `now`.
  bool consentKeeps(const JobRecord& job, std::int64_t now) const;

  RetentionConfig config_;
  JobStore& jobs_;
  SessionStore& sessions_;
  std::filesystem::path clips_dir_;
  NowMillis now_;
  std::mutex mutex_;  // one purge or sweep at a time
  std::jthread thread_;
};

}  // namespace booth
