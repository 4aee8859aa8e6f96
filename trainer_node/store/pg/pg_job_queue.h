#pragma once
// PgJobQueue: the shared JobQueue in PostgreSQL, for any number of trainer
// processes on any number of machines. The contract is JobQueue's
// (trainer_node/jobs/job_queue.h); this is how it is kept:
//
//  - claim(): one statement takes the oldest queued job,
//      UPDATE jobs SET fence = fence + 1, worker_id = …, lease_until_ms = …
//      WHERE id = (SELECT id FROM jobs WHERE state = 'queued'
//                  ORDER BY created_ms, id FOR UPDATE SKIP LOCKED LIMIT 1)
//    so concurrent workers skip each other's rows instead of waiting; the
//    state change itself (claimed, attempts, detail) is JobStateMachine's,
//    written in the same transaction.
//  - Every worker write (heartbeat, advance, progress, checkpoint, finish,
//    fail, release) locks the job's row (SELECT … FOR UPDATE), compares the
//    row's fence with the claim's (kFenced when another claim took the job)
//    and its state (kNotRunning when cancelled, failed, recovered), and only
//    then writes, in one transaction. Blob writes that must be fenced the
//    same way (checkpoint, clip) use fenceCheck() as their BeforeCommit hook,
//    so the bytes become visible only while the claim still holds.
//  - recoverExpired() takes running jobs whose lease ended (SKIP LOCKED,
//    so several processes may sweep at once) back through JobEvent::kRecover.
//    Until a sweep does, a worker whose lease ran out still holds the job
//    (its fence is unchanged, so its writes and heartbeats still succeed);
//    once recovered or claimed again, it is fenced for good.
//  - Every committed change sends NOTIFY on a channel of the schema
//    (payload: the job id). The queue's listener thread LISTENs on its own
//    connection and calls the observers; after a lost connection it
//    reconnects with back-off (1 s doubling to 30 s) and then announces every
//    job changed since shortly before the loss, so an observer misses
//    nothing. NOTIFY is a wake-up, not the record: observers read the queue.
//
// Time: leases and timestamps come from the injected clock (wall time), so
// the trainer processes' clocks must agree to well within the lease (NTP);
// the default lease is 30 s.
//
// Errors: a database that cannot be reached is kUnavailable (nothing
// changed); get(), list() and queuePosition() answer nullopt / empty then.
//
// Threads: any thread may call any method. One listener thread (a member)
// calls the observers; the destructor stops and joins it.
#include <memory>

#include "common/core/clock.h"
#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/store/blob_store.h"

namespace booth {

class PgDatabase;

struct PgJobQueueOptions {
  JobStateMachineConfig machine;
  const Clock* clock = &SystemClock::instance();
  // The listener's first wait before reconnecting; doubles up to 30 s.
  std::chrono::milliseconds reconnect_delay{1000};
};

class PgJobQueue final : public JobQueue {
 public:
  PgJobQueue(std::shared_ptr<PgDatabase> db, PgJobQueueOptions options = {});
  ~PgJobQueue() override;
  PgJobQueue(const PgJobQueue&) = delete;
  PgJobQueue& operator=(const PgJobQueue&) = delete;

  QueueStatus add(const JobRecord& job) override;
  QueueStatus updateIntake(const JobRecord& job) override;
  using JobQueue::enqueue;
  QueueStatus enqueue(const JobRecord& job, const std::string& detail) override;
  QueueStatus failIntake(const JobRecord& job, const std::string& reason) override;

  Result<std::optional<Claimed>> claim(const std::string& worker_id,
                                       std::chrono::milliseconds lease) override;
  QueueStatus heartbeat(Claim& claim, std::chrono::milliseconds lease) override;
  QueueStatus advance(const Claim& claim, JobEvent stage, const std::string& detail) override;
  QueueStatus progress(const Claim& claim, const JobProgress& progress) override;
  QueueStatus checkpoint(const Claim& claim, const JobCheckpoint& checkpoint) override;
  QueueStatus finish(const Claim& claim, const JobClip& clip) override;
  QueueStatus fail(const Claim& claim, const std::string& reason) override;
  QueueStatus release(const Claim& claim, const std::string& detail,
                      ReleaseCause cause) override;

  QueueStatus cancel(const std::string& job_id, const std::string& reason) override;
  Result<int> recoverExpired() override;
  using JobQueue::expire;
  QueueStatus expire(const std::string& job_id, ExpiredFrames frames) override;
  QueueStatus markFramesPurged(const std::string& job_id) override;
  QueueStatus withdrawConsent(const std::string& job_id) override;
  Result<std::vector<JobRecord>> finishedBefore(JobState state, std::int64_t before_ms,
                                                int limit) override;
  Result<std::vector<JobRecord>> framesKept(int limit) override;
  Result<std::optional<JobRecord>> findBySession(const std::string& session_id) override;
  Result<std::optional<JobRecord>> findByClipToken(const std::string& token) override;
  // pg_try_advisory_lock on a connection of its own (one lock per schema),
  // so one retention sweep runs at a time among every process of the
  // database; the server drops it with the connection if the holder dies.
  std::unique_ptr<ExclusiveHold> tryRetentionLock() override;

  std::optional<JobRecord> get(const std::string& job_id) override;
  std::vector<JobRecord> list(int limit) override;
  std::optional<int> queuePosition(const std::string& job_id) override;
  std::map<JobState, int> countByState() override;
  // "database unavailable: …" while its latest call (or the listener's
  // reconnection) could not reach the server.
  std::optional<std::string> unavailable() override;

  std::uint64_t addObserver(Observer observer) override;
  void removeObserver(std::uint64_t id) override;

  // The fence check of the worker writes above, run inside the publishing
  // transaction of a PgBlobStore write of the same database (FOR SHARE).
  BeforeCommit fenceCheck(const Claim& claim) override;

  // Live workers: rows of the `workers` table (migration 3) whose
  // alive_until_ms has not passed; rows dead for an hour are deleted by
  // the next heartbeat.
  QueueStatus workerHeartbeat(const std::string& worker_id,
                              std::chrono::milliseconds ttl) override;
  QueueStatus workerGone(const std::string& worker_id) override;
  std::optional<int> liveWorkers() override;

  // Whether the listener is connected now (the operator page says the
  // database is unavailable when it is not).
  bool listening() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booth
