#pragma once
// RetentionSweeper: visitors' data is deleted when it is no longer needed.
//   - a done job's frames, poses and per-job model (everything of its
//     session), its clip and the clip's poster: `keep_done` after the job
//     finished (0 = kept until deleted by hand);
//   - a failed or cancelled job's frames and model: `keep_failed` after it ended (long
//     enough for the operator to look, no clip is ever made of them);
//   - orphans, i.e. session data and clip files that no job refers to
//     (a job row lost, a render that failed half-way, frames of a session
//     the ingest refused): once untouched for `keep_failed`; and a
//     session's data left behind by a job already purged (another process
//     purged it, or a delete failed half-way): at the next sweep.
//   - a done job whose visitor agreed to improve the booth (consentHolds)
//     keeps its frames and poses past `keep_done`, for `trainer_node
//     pretrain --sessions`, until `keep_consented` after the session started
//     (0 = consent keeps nothing beyond the clip) or until the visitor
//     withdraws: at `keep_done` only its clip, poster and model go. A failed
//     or cancelled job's visitor has no page to withdraw from, so consent
//     keeps nothing of it.
// A purged job keeps its row (timings, no personal data) in state expired
// (JobQueue::expire, JobEvent::kExpire) with purged_ms set; its clip link
// then answers 404. Frames kept by consent are marked by frames_purged_ms
// == 0 once expired. The operator can purge a finished job at once, or the
// frames consent kept (DELETE /api/jobs/{id}/data).
//
// Where a visitor's data lives (the same rules for the embedded and the
// shared stores):
//   - in the BlobStore: every key under `sessions/<session>/` (frames and
//     poses deeper down, the job's own files such as its model and training
//     state directly below it), the clip `clips/<token>.mp4` and its poster
//     `clips/<token>.jpg` (store/clip_names.h);
//   - in this process's data folder: the SessionStore's
//     `DATA/sessions/<session>/` (the ingest's frames), when present.
// A session's data is deleted from both (each harmless when absent); with a
// LocalBlobStore rooted at the data folder they are the same files.
//
// Several processes: every process with the ingest or HTTP role runs a
// sweeper. The jobs and the blob store are swept only under the queue's
// retention lock (JobQueue::tryRetentionLock: one process at a time); the
// data folder of this process is swept by each (it is its own; a session
// found there to be an orphan or left over loses its blobs too, which is
// harmless twice). Every
// record of a deletion is conditional in the queue (expire,
// markFramesPurged), so a job is counted by one sweeper only, even when two
// (a sweep and an operator's delete elsewhere) race.
//
// Threading: start() runs a sweep every `interval` on the sweeper's own
// thread; purge(), withdrawConsent() and sweepOnce() may be called from any
// thread (serialised by a mutex in this process). Time is injected
// (wall-clock milliseconds since the epoch) for the cut-offs; the times the
// queue records are the queue's clock.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "common/core/result.h"
#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/store/blob_store.h"
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
  // The error of a deletion whose record another process made first (the
  // data is gone either way; purge() and withdrawConsent() answer ok).
  static constexpr const char* kRecordedElsewhere =
      "another process deleted this data and recorded it first";

  // `sessions`: this process's data folder (its sessionDir()s are swept).
  // `now`: the wall clock when empty.
  RetentionSweeper(RetentionConfig config, JobQueue& jobs, BlobStore& blobs,
                   const SessionStore& sessions, NowMillis now = {});
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
    // Another process held the retention lock: only this process's data
    // folder was swept.
    bool jobs_skipped = false;
  };
  Report sweepOnce();

  // Deletes the job's session data, clip and poster and marks it purged.
  // Only for finished (done, failed or cancelled) jobs, and for expired
  // ones whose frames consent kept (those frames go now).
  Status purge(const JobRecord& job);

  // The visitor withdrew their consent: recorded in the queue, and the
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
  // Every blob under sessions/<session>/ and the local session folder.
  Status removeSessionData(const std::string& session_id);
  // The job's own files: blobs directly under sessions/<session>/ and
  // files directly in the local session folder (not its frames and poses).
  Status removeJobFiles(const std::string& session_id);
  Status removeClip(const JobRecord& job);
  // A refused record of a deletion: fine when `done(job as stored now)`
  // (another process recorded it first), else the refusal.
  Status settled(const std::string& job_id, const QueueStatus& recorded,
                 const std::function<bool(const JobRecord&)>& done);
  // Whether consent keeps the frames of `job` at wall-clock `now`.
  bool consentKeeps(const JobRecord& job, std::int64_t now) const;

  void sweepJobs(Report& report, std::int64_t now);
  // Session data in the blob store (when `with_blobs`) and in the data
  // folder that no live job refers to.
  void sweepOrphanSessions(Report& report, std::int64_t now, bool with_blobs);
  void sweepOrphanClips(Report& report, std::int64_t now);

  RetentionConfig config_;
  JobQueue& jobs_;
  BlobStore& blobs_;
  const SessionStore& sessions_;
  NowMillis now_;
  std::mutex mutex_;  // one purge or sweep at a time in this process
  std::jthread thread_;
};

}  // namespace booth
