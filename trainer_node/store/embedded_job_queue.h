#pragma once
// EmbeddedJobQueue: the JobQueue of one trainer process (jobs/job_queue.h),
// over the SQLite JobStore. Claims, the state machine and the fencing
// counter are the store's (one locked step each); leases live in this
// object, since only this process's workers can hold them: after a restart
// every running job's lease is gone, and recoverExpired() recovers it.
// Likewise the live workers: a map in this process.
//
// The store's cancel flag (JobStore::requestCancel, which the HTTP cancel
// of a running job sets) is honoured here: the next write or heartbeat of
// the job's worker cancels the job ("cancelled by the operator") and gets
// kNotRunning. recoverExpired() also retries the store's writes that a
// full disk held back (JobStore::retryPending).
//
// Threading: any thread (the store serialises; the lease map has its own
// mutex).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/store/job_store.h"

namespace booth {

class EmbeddedJobQueue final : public JobQueue {
 public:
  // `now_ms`: wall-clock milliseconds for leases (the store's clock when empty).
  explicit EmbeddedJobQueue(JobStore& store, std::function<std::int64_t()> now_ms = {});

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
  // One process: a lock of this queue's (the store is this process's alone).
  std::unique_ptr<ExclusiveHold> tryRetentionLock() override;
  std::optional<JobRecord> get(const std::string& job_id) override;
  std::vector<JobRecord> list(int limit) override;
  std::optional<int> queuePosition(const std::string& job_id) override;
  BeforeCommit fenceCheck(const Claim& claim) override;
  QueueStatus workerHeartbeat(const std::string& worker_id,
                              std::chrono::milliseconds ttl) override;
  QueueStatus workerGone(const std::string& worker_id) override;
  std::optional<int> liveWorkers() override;
  std::map<JobState, int> countByState() override;
  std::optional<std::string> unavailable() override;
  std::uint64_t addObserver(Observer observer) override;
  void removeObserver(std::uint64_t id) override;

 private:
  // The job as the claim's holder may write it, or why it may not.
  Result<JobRecord> held(const Claim& claim, JobQueueFailure& why);
  // A store refusal, classified by what the job is now.
  JobQueueFailure classify(const std::string& job_id, std::uint64_t fence,
                           const std::string& error);
  QueueStatus write(const Claim& claim, const std::function<void(JobRecord&)>& change,
                    std::optional<JobEvent> event, const std::string& reason);

  JobStore& store_;
  std::function<std::int64_t()> now_ms_;
  std::mutex mutex_;  // guards leases_ and workers_
  std::map<std::string, std::int64_t> leases_;  // job id -> lease end (ms)
  std::map<std::string, std::int64_t> workers_;  // worker id -> alive until (ms)
  std::mutex retention_mutex_;  // held by tryRetentionLock()'s hold
};

}  // namespace booth
