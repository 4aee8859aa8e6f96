#pragma once
// JobStore: sessions' jobs in one embedded SQLite file. One job per
// session; its row is the single source of truth for the job's state, which
// the HTTP API reads and the job runner and ingest write.
//
// The state is written only by transition(): the store reads the job's
// stored state in the same transaction, asks JobStateMachine what the event
// makes of it, and writes the answer with the rest of the row, or refuses.
// insert() takes only new jobs (receiving); update() writes everything but
// the state and the attempts, and only while the job is still in the state
// the caller holds (a job the operator cancelled meanwhile refuses the
// runner's progress, which then stops).
//
// Threading: every method may be called from any thread; one connection,
// serialized by a mutex (the write rate is a few rows a second).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/core/clock.h"
#include "common/core/result.h"
#include "trainer_node/jobs/job_record.h"
#include "trainer_node/jobs/job_state_machine.h"

struct sqlite3;

namespace booth {

class JobStore {
 public:
  // Opens or creates the database; fails naming the path and SQLite's reason.
  // `clock` stamps every write (updated_ms) and every state change.
  static Result<std::unique_ptr<JobStore>> open(const std::string& path,
                                                JobStateMachineConfig machine = {},
                                                const Clock& clock = SystemClock::instance());
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // A new job; its state must be receiving (the only way in).
  Status insert(const JobRecord& job);
  // Every field but state, attempts, fence and purged_ms, by id; updated_ms
  // is set here. Refused (naming both states) when the stored job is no
  // longer in job.state, and when it was claimed again since `job` was read
  // (its fence is stale: the writer lost the job).
  Status update(const JobRecord& job);
  // The one way to change a job's state: `event` applied to the stored
  // state by the state machine; on success the row is written from `job`
  // (its other fields too) and `job` takes the new state, detail, attempts,
  // fence and updated_ms. Refused like update() when `job`'s fence is stale.
  // On refusal nothing is written and `job` is unchanged.
  Status transition(JobRecord& job, JobEvent event, const std::string& reason = {});
  // The same for a job the caller does not hold: only the state, detail,
  // attempts (and eta, 0 once finished) change. Returns the job as written.
  Result<JobRecord> transition(const std::string& id, JobEvent event,
                               const std::string& reason = {});
  // The oldest queued job, claimed (JobEvent::kClaim, an attempt counted,
  // the fence bumped) in one step; nullopt when none is queued.
  Result<std::optional<JobRecord>> claimNext();
  // done/failed/cancelled -> expired with purged_ms = now_ms. The frames
  // and poses went too (frames_purged_ms = now_ms) unless `frames_kept`
  // (the visitor's consent keeps them; markFramesPurged() when they go).
  Status expire(const std::string& id, std::int64_t now_ms, bool frames_kept = false);

  // --- the visitor's consent to improve the booth (JobRecord::may_improve_booth) ---
  // The visitor withdrew it: may_improve_booth false, consent_withdrawn_ms =
  // now_ms; refused when it is not given (never, or withdrawn already).
  // Deleting what it kept is retention's (RetentionSweeper).
  Status withdrawConsent(const std::string& id, std::int64_t now_ms);
  // The frames and poses that consent kept are deleted: frames_purged_ms =
  // now_ms; refused unless the job is expired with its frames stored.
  Status markFramesPurged(const std::string& id, std::int64_t now_ms);
  // Expired jobs whose frames and poses are still stored, oldest first.
  std::vector<JobRecord> framesKept(int limit = 100);

  std::optional<JobRecord> get(const std::string& id);
  std::optional<JobRecord> bySession(const std::string& session_id);
  std::vector<JobRecord> list(int limit = 100);  // newest first
  std::optional<JobRecord> byClipToken(const std::string& token);
  // Asks whoever runs the job to stop it. Kept apart from the record's
  // columns: update() never overwrites it, so a runner saving progress cannot
  // lose an operator's cancel. Fails when there is no such job.
  Status requestCancel(const std::string& id);
  bool cancelRequested(const std::string& id);
  // Jobs in one state, oldest first.
  std::vector<JobRecord> withState(JobState state);
  // How many jobs are queued before this one (1 = next); nullopt when it is
  // not queued.
  std::optional<int> queuePosition(const std::string& id);

  // A transition the database could not take (the disk is full, an I/O
  // error) is kept here and shown by every read as if written; each later
  // write, and retryPending(), tries it again. Returns how many are still
  // waiting.
  int retryPending();
  int pendingWrites();

  // --- for the HTTP API, live events and retention ---
  // Called after every successful insert, update, transition, expire and
  // requestCancel with the job's id, on the writer's thread, outside the
  // store's lock (an observer may read the store, but must not add or remove
  // observers). Observers must be quick: hand the id to another thread.
  // After removeObserver() returns, the observer is not running and is
  // never called again.
  using Observer = std::function<void(const std::string& job_id)>;
  std::uint64_t addObserver(Observer observer);
  void removeObserver(std::uint64_t id);
  // Done, failed or cancelled jobs not purged yet, last written before `before_ms`.
  std::vector<JobRecord> finishedBefore(JobState state, std::int64_t before_ms, int limit = 100);
  // Number of jobs per state (states with no job are absent).
  std::map<JobState, int> countByState();

  const JobStateMachine& machine() const { return machine_; }

  // For tests: makes every later write fail as a full disk does (SQLITE_FULL)
  // while `full` is true.
  void simulateFullDiskForTest(bool full) { simulate_full_ = full; }

 private:
  JobStore(sqlite3* db, JobStateMachineConfig machine, const Clock& clock);
  std::optional<JobRecord> queryOne(const std::string& where, const std::string& arg);
  std::vector<JobRecord> query(const std::string& sql_tail, const std::string& arg, int limit);
  std::vector<JobRecord> queryLocked(const std::string& sql_tail, const std::string& arg,
                                     int limit);
  // Applies `event` to the stored job under the lock, writing `job` (or
  // only the state columns of the stored row when `whole` is false).
  Status transitionLocked(JobRecord& job, JobEvent event, const std::string& reason, bool whole);
  Status writeRowLocked(const JobRecord& job, const std::string& where_state);
  void retryPendingLocked();
  // Sets consent columns (`sql_set`, ?1 = now_ms) by id, and `apply` on a
  // pending copy of the job, when `only_if` finds nothing against it (it
  // answers why not) in the job as stored, in the same locked step.
  using ConsentCondition = std::function<std::optional<std::string>(const JobRecord&)>;
  Status setConsentColumns(const std::string& id, const std::string& sql_set,
                           const ConsentCondition& only_if, std::int64_t now_ms,
                           const std::string& what, const std::function<void(JobRecord&)>& apply);
  JobRecord overlay(JobRecord row) const;
  std::int64_t nowMs() const;
  void notify(const std::string& id);

  JobStateMachine machine_;
  const Clock& clock_;
  mutable std::mutex mutex_;  // guards db_ and pending_
  sqlite3* db_;       // owned; closed in the destructor
  std::map<std::string, JobRecord> pending_;  // transitions not yet written (disk full)
  std::atomic<bool> simulate_full_{false};
  std::mutex observers_mutex_;  // guards observers_ and is held while they run
  std::map<std::uint64_t, Observer> observers_;
  std::uint64_t next_observer_ = 1;
};

std::int64_t nowMillis();

}  // namespace booth
