#pragma once
// JobQueue: where jobs wait, which worker runs each, and every write a
// worker makes. Two implementations: the embedded one (SQLite, one
// machine) and the shared one (PostgreSQL, any number of trainer
// processes). Both drive each job's state through JobStateMachine and pass
// the same conformance tests.
//
// Claims, leases and fencing:
//   - claim() takes the oldest queued job (created_ms, then id) for one
//     worker, atomically: two workers never get the same job. The claim
//     moves the job to `claimed`, counts an attempt (JobStateMachine) and
//     bumps the job's fence: a counter that only ever grows, one step per
//     claim. The Claim handed back carries that fence value.
//   - The claim holds a lease of `lease` from the queue's clock. The worker
//     renews it with heartbeat() well before it runs out (a third of the
//     lease is a good period). A job whose lease ran out is taken back by
//     recoverExpired(): JobEvent::kRecover puts it back in the queue, or
//     fails it once it has used max_attempts. Where the lease is kept is
//     the implementation's: the embedded queue keeps it in the process (a
//     restart loses it, and the next recoverExpired() recovers every job
//     that was running), the shared one in the job's row (it outlives any
//     process). Until a sweep recovers it, a job whose lease ran out is still
//     its worker's (its writes succeed).
//   - Every write a worker makes (heartbeat, progress, checkpoint, stage,
//     finish, fail, release) names its Claim, and succeeds only while the
//     job's fence still equals the claim's and the job is still running
//     (claimed, training or rendering): the check and the write are one
//     transaction. A worker that lost its job (lease expired and the job
//     claimed again, cancelled, recovered) gets JobQueueError::kFenced or
//     kNotRunning and must stop the job at once without publishing
//     anything (no clip, no done).
//
// Errors: every method returns its failure as a value (never throws):
// JobQueueError says what kind, `message` names the job, the states and
// the values involved. kUnavailable means the database could not be
// reached or written (a lost connection, a full disk): the caller retries
// later; nothing was changed.
//
// Events: every committed change of a job (state, progress, anything the
// page shows) is announced to the observers with the job's id, after the
// commit, on the writer's thread (embedded) or on the queue's listener
// thread (shared: another process's writes too). Observers must be quick
// (hand the id to another thread) and may read the queue, but must not
// add or remove observers.
//
// Threading: every method may be called from any thread at any time; an
// implementation serialises what it must.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.h"
#include "trainer_node/jobs/job_record.h"
#include "trainer_node/store/blob_store.h"

namespace booth {

enum class JobQueueError {
  kNotFound,     // no job with that id
  kRefused,      // the state machine refused the event (the message says why)
  kFenced,       // the claim's fence is stale: another claim took the job since
  kNotRunning,   // the job is no longer claimed/training/rendering (cancelled, failed, ...)
  kUnavailable,  // the database cannot be reached or written now; retry later
};
const char* jobQueueErrorName(JobQueueError error);

struct JobQueueFailure {
  JobQueueError error = JobQueueError::kUnavailable;
  std::string message;
};

// A queue operation's outcome: ok, or what failed.
class [[nodiscard]] QueueStatus {
 public:
  QueueStatus() = default;  // ok
  QueueStatus(JobQueueFailure failure) : failure_(std::move(failure)) {}  // NOLINT
  bool ok() const { return !failure_; }
  explicit operator bool() const { return ok(); }
  JobQueueError error() const { return failure_ ? failure_->error : JobQueueError::kUnavailable; }
  const std::string& message() const { return failure_ ? failure_->message : empty_; }

 private:
  std::optional<JobQueueFailure> failure_;
  std::string empty_;
};

// A worker's hold on one job.
struct Claim {
  std::string job_id;
  std::string worker_id;
  std::uint64_t fence = 0;  // the job's fence when it was claimed
  std::int64_t lease_until_ms = 0;  // wall-clock ms since the epoch (the queue's clock)
};

// What a worker reports while it trains or renders. Written as one change.
struct JobProgress {
  std::string detail;
  double progress = 0;  // 0..1 through the current state
  float loss_g = 0, loss_d = 0, loss_l1 = 0;
  double eta_seconds = 0;
  // The two kinds of training step, counted and timed apart (a face-GAN
  // step costs a small fraction of a generator step; their sum means
  // nothing). Rates: steps per wall-clock second of that phase.
  std::int64_t generator_steps = 0, face_steps = 0;
  double generator_steps_per_second = 0, face_steps_per_second = 0;
  double budget_spent_seconds = 0;
};

// Where a job's training state stands (written when a checkpoint is kept).
struct JobCheckpoint {
  std::string checkpoint_path;     // the training state to resume from; empty when none
  std::string model_path;          // the trained model to render from; empty when none
  double budget_spent_seconds = 0;
  double train_budget_planned = 0;
  double train_seconds = 0;
};

// The finished clip.
struct JobClip {
  std::string clip_token;  // store/clip_names.h
  std::string clip_path;
  int frames = 0, width = 0, height = 0;
  std::int64_t bytes = 0;
  double render_seconds = 0;
  double budget_spent_seconds = 0;
};

// What each worker write puts into the job's record (the same in every
// implementation): the fields of the report, and for the clip progress 1
// and no time left.
void applyProgress(JobRecord& job, const JobProgress& progress);
void applyCheckpoint(JobRecord& job, const JobCheckpoint& checkpoint);
void applyClip(JobRecord& job, const JobClip& clip);

// About how long a queued job at `position` (1 = next) waits before a
// worker takes it, when `live_workers` workers take jobs of about
// `job_seconds` each: the jobs ahead of it share the workers, and a job
// being trained now is on average half done. nullopt without a live worker.
std::optional<double> queueWaitSeconds(int position, int live_workers, double job_seconds);

// Why a worker gives its job back (JobQueue::release).
enum class ReleaseCause {
  kStop,              // the worker stops (shutdown): not the job's attempt
  kStoreUnreachable,  // the shared store could not be reached: counted
};

// The state machine's event for a release of that cause.
inline JobEvent releaseEvent(ReleaseCause cause) {
  return cause == ReleaseCause::kStop ? JobEvent::kRelease : JobEvent::kReleaseUnreachable;
}

class JobQueue {
 public:
  virtual ~JobQueue() = default;

  // --- intake (the ingest) ---
  // A new job in state receiving. kRefused when job.state is not receiving
  // or the id exists.
  virtual QueueStatus add(const JobRecord& job) = 0;
  // What the intake learnt (cameras, frames, timings) while the job is
  // receiving; never changes the state.
  virtual QueueStatus updateIntake(const JobRecord& job) = 0;
  // receiving -> queued (JobEvent::kReceived), with the intake fields of
  // `job`; `detail` is the job's new detail line (the machine's "queued for
  // training" when empty).
  virtual QueueStatus enqueue(const JobRecord& job, const std::string& detail) = 0;
  QueueStatus enqueue(const JobRecord& job) { return enqueue(job, {}); }
  // receiving -> failed (JobEvent::kFail) with the reason and the intake
  // fields of `job`: the session could not be completed (a member failed or
  // stalled, its data did not verify, the disk is full). kRefused when the
  // job is no longer receiving.
  virtual QueueStatus failIntake(const JobRecord& job, const std::string& reason) = 0;

  // --- workers ---
  // The oldest queued job, now claimed by `worker_id` for `lease`; nullopt
  // when none is queued. The returned record is the job as claimed.
  struct Claimed {
    Claim claim;
    JobRecord job;
  };
  virtual Result<std::optional<Claimed>> claim(const std::string& worker_id,
                                               std::chrono::milliseconds lease) = 0;
  // Renews the lease for another `lease` from now.
  virtual QueueStatus heartbeat(Claim& claim, std::chrono::milliseconds lease) = 0;
  // claimed -> training, claimed/training -> rendering (JobEvent::kStartTraining,
  // kStartRendering) with the detail line; the job's resume_phase is cleared
  // (the phase it resumed has started).
  virtual QueueStatus advance(const Claim& claim, JobEvent stage, const std::string& detail) = 0;
  virtual QueueStatus progress(const Claim& claim, const JobProgress& progress) = 0;
  virtual QueueStatus checkpoint(const Claim& claim, const JobCheckpoint& checkpoint) = 0;
  // rendering -> done with the clip (JobEvent::kFinish).
  virtual QueueStatus finish(const Claim& claim, const JobClip& clip) = 0;
  // -> failed with the reason (JobEvent::kFail).
  virtual QueueStatus fail(const Claim& claim, const std::string& reason) = 0;
  // -> queued: the worker gives the job back and another may resume it from
  // its checkpoint (resume_phase: resumePhaseFrom() of the state it was in).
  // kStop (JobEvent::kRelease): it stops cleanly (shutdown), the attempt
  // given back. kStoreUnreachable (JobEvent::kReleaseUnreachable): a stage
  // could not reach the shared store; the attempt stays counted, and a job
  // that has used max_attempts is failed instead.
  virtual QueueStatus release(const Claim& claim, const std::string& detail,
                              ReleaseCause cause) = 0;

  // --- anyone (the operator, retention, recovery) ---
  // Cancels a job that has not finished (JobEvent::kCancel): a receiving or
  // queued job at once; a running one is cancelled too, and its worker's
  // next write gets kNotRunning, so it stops within one progress period.
  virtual QueueStatus cancel(const std::string& job_id, const std::string& reason) = 0;
  // Running jobs whose lease ended before now: JobEvent::kRecover each
  // (queued again, or failed at max_attempts). Returns how many.
  virtual Result<int> recoverExpired() = 0;

  // --- retention (retention/retention_sweeper.h) ---
  // Every call below is conditional on the job as stored, so that two
  // processes deleting the same visitor's data never both record it: the
  // second gets kRefused (and may re-read the job to see who did).
  // done/failed/cancelled -> expired (JobEvent::kExpire), purged_ms = now;
  // the frames and poses went too (frames_purged_ms = now) unless
  // ExpiredFrames::kKept (the visitor's consent keeps them until
  // markFramesPurged()). kRefused for a job that is not finished (an
  // expired one included).
  enum class ExpiredFrames { kPurged, kKept };
  virtual QueueStatus expire(const std::string& job_id, ExpiredFrames frames) = 0;
  QueueStatus expire(const std::string& job_id) { return expire(job_id, ExpiredFrames::kPurged); }
  // The frames and poses consent kept are deleted: frames_purged_ms = now.
  // kRefused unless the job is expired with its frames still stored.
  virtual QueueStatus markFramesPurged(const std::string& job_id) = 0;
  // The visitor withdrew their consent: may_improve_booth false,
  // consent_withdrawn_ms = now; updated_ms stays (retention counts a
  // finished job's time from it, and a withdrawal must not put off the
  // clip's deletion). kRefused when the consent is not given (never, or
  // withdrawn already).
  virtual QueueStatus withdrawConsent(const std::string& job_id) = 0;
  // Jobs in `state` (done, failed or cancelled), not purged, last changed
  // before `before_ms`: oldest change first, at most `limit`.
  virtual Result<std::vector<JobRecord>> finishedBefore(JobState state, std::int64_t before_ms,
                                                        int limit) = 0;
  // Expired jobs whose frames and poses consent kept (frames_purged_ms 0),
  // oldest first, at most `limit`.
  virtual Result<std::vector<JobRecord>> framesKept(int limit) = 0;
  // The job of a session, and the job whose clip has a token; nullopt when
  // there is none, an error when the queue cannot be read (so that
  // retention never takes a live job's data for an orphan's).
  virtual Result<std::optional<JobRecord>> findBySession(const std::string& session_id) = 0;
  virtual Result<std::optional<JobRecord>> findByClipToken(const std::string& token) = 0;
  // A lock held by at most one process among every one that shares the
  // queue (a retention sweep runs under it), released when the returned
  // object is destroyed; nullptr when another holds it now or the queue
  // cannot be reached.
  class ExclusiveHold {
   public:
    virtual ~ExclusiveHold() = default;
  };
  virtual std::unique_ptr<ExclusiveHold> tryRetentionLock() = 0;

  virtual std::optional<JobRecord> get(const std::string& job_id) = 0;
  virtual std::vector<JobRecord> list(int limit) = 0;  // newest first
  // The job whose clip has this token (the visitor's link); nullopt when
  // none or when the queue cannot be read now.
  std::optional<JobRecord> byClipToken(const std::string& token) {
    auto found = findByClipToken(token);
    return found.ok() ? found.value() : std::nullopt;
  }
  // How many jobs are in each state (states with none are absent).
  virtual std::map<JobState, int> countByState() = 0;
  // Why the queue's store cannot be used now, judged by its latest calls
  // (the database unreachable, its disk full); nullopt while it works. The
  // operator page and /api/health show it.
  virtual std::optional<std::string> unavailable() = 0;
  // 1 for the next job to be claimed; nullopt when the job is not queued.
  virtual std::optional<int> queuePosition(const std::string& job_id) = 0;

  // A BeforeCommit hook for a blob the claim's worker publishes (a
  // checkpoint, the clip): the blob becomes visible only while `claim`
  // still holds its job (the fence check of the worker writes above; in
  // PostgreSQL inside the blob's publishing transaction). Refuses with
  // "fenced" / "not running" like them. The claim is copied.
  virtual BeforeCommit fenceCheck(const Claim& claim) = 0;

  // --- live workers (queue positions and waiting-time estimates) ---
  // The worker process `worker_id` is alive for another `ttl` (call it
  // every ttl/3 or so). workerGone(): it stopped cleanly.
  virtual QueueStatus workerHeartbeat(const std::string& worker_id,
                                      std::chrono::milliseconds ttl) = 0;
  virtual QueueStatus workerGone(const std::string& worker_id) = 0;
  // Workers whose last heartbeat has not run out; nullopt when the queue
  // cannot be read now.
  virtual std::optional<int> liveWorkers() = 0;

  using Observer = std::function<void(const std::string& job_id)>;
  virtual std::uint64_t addObserver(Observer observer) = 0;
  // After it returns the observer is not running and is never called again.
  virtual void removeObserver(std::uint64_t id) = 0;
};

}  // namespace booth
