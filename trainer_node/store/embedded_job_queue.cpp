#include "trainer_node/store/embedded_job_queue.h"

#include <chrono>

#include "trainer_node/store/disk_space.h"

namespace booth {
namespace {

JobQueueFailure failure(JobQueueError error, std::string message) {
  return JobQueueFailure{error, std::move(message)};
}

// The detail of a job cancelled through the store's flag (the HTTP cancel
// of a running job).
constexpr const char* kCancelledByOperator = "cancelled by the operator";

}  // namespace

EmbeddedJobQueue::EmbeddedJobQueue(JobStore& store, std::function<std::int64_t()> now_ms)
    : store_(store), now_ms_(std::move(now_ms)) {
  if (!now_ms_) now_ms_ = nowMillis;
}

JobQueueFailure EmbeddedJobQueue::classify(const std::string& job_id, std::uint64_t fence,
                                           const std::string& error) {
  const auto now = store_.get(job_id);
  if (!now) return failure(JobQueueError::kNotFound, "no job with id '" + job_id + "'");
  if (fence != 0 && now->fence != fence) return failure(JobQueueError::kFenced, error);
  if (fence != 0 && !isRunning(now->state)) return failure(JobQueueError::kNotRunning, error);
  if (looksLikeDiskFull(error)) return failure(JobQueueError::kUnavailable, error);
  return failure(JobQueueError::kRefused, error);
}

QueueStatus EmbeddedJobQueue::add(const JobRecord& job) {
  if (store_.get(job.id)) {
    return failure(JobQueueError::kRefused, "job '" + job.id + "' exists already");
  }
  if (auto st = store_.insert(job); !st.ok()) {
    return failure(looksLikeDiskFull(st.error()) ? JobQueueError::kUnavailable
                                                 : JobQueueError::kRefused,
                   st.error());
  }
  return {};
}

QueueStatus EmbeddedJobQueue::updateIntake(const JobRecord& job) {
  if (job.state != JobState::kReceiving) {
    return failure(JobQueueError::kRefused, "job '" + job.id + "': intake writes only while "
                                                "receiving, not " + jobStateName(job.state));
  }
  if (auto st = store_.update(job); !st.ok()) return classify(job.id, 0, st.error());
  return {};
}

QueueStatus EmbeddedJobQueue::enqueue(const JobRecord& job, const std::string& detail) {
  JobRecord copy = job;
  if (auto st = store_.transition(copy, JobEvent::kReceived, detail); !st.ok())
    return classify(job.id, 0, st.error());
  return {};
}

QueueStatus EmbeddedJobQueue::failIntake(const JobRecord& job, const std::string& reason) {
  const auto now = store_.get(job.id);
  if (!now) return failure(JobQueueError::kNotFound, "no job with id '" + job.id + "'");
  if (now->state != JobState::kReceiving) {
    return failure(JobQueueError::kRefused, "job '" + job.id + "' is " +
                                                jobStateName(now->state) +
                                                ": the intake fails a job only while receiving");
  }
  JobRecord copy = job;
  if (auto st = store_.transition(copy, JobEvent::kFail, reason); !st.ok())
    return classify(job.id, 0, st.error());
  return {};
}

Result<std::optional<JobQueue::Claimed>> EmbeddedJobQueue::claim(
    const std::string& worker_id, std::chrono::milliseconds lease) {
  auto claimed = store_.claimNext();
  if (!claimed.ok()) return booth::fail(claimed.error());
  if (!claimed.value()) return std::optional<Claimed>();
  const JobRecord& job = *claimed.value();
  Claim c{job.id, worker_id, job.fence, now_ms_() + lease.count()};
  {
    std::lock_guard lock(mutex_);
    leases_[job.id] = c.lease_until_ms;
  }
  return std::optional<Claimed>(Claimed{c, job});
}

Result<JobRecord> EmbeddedJobQueue::held(const Claim& claim, JobQueueFailure& why) {
  auto job = store_.get(claim.job_id);
  if (!job) {
    why = failure(JobQueueError::kNotFound, "no job with id '" + claim.job_id + "'");
    return booth::fail(why.message);
  }
  if (job->fence != claim.fence) {
    why = failure(JobQueueError::kFenced,
                  "job '" + claim.job_id + "' was claimed again (fence " +
                      std::to_string(claim.fence) + ", now " + std::to_string(job->fence) +
                      "): worker " + claim.worker_id + " lost it");
    return booth::fail(why.message);
  }
  if (isRunning(job->state) && store_.cancelRequested(claim.job_id)) {
    // The operator asked whoever runs it to stop: its worker learns it here.
    if (auto cancelled = store_.transition(claim.job_id, JobEvent::kCancel, kCancelledByOperator);
        cancelled.ok()) {
      job = cancelled.value();
      std::lock_guard lock(mutex_);
      leases_.erase(claim.job_id);
    }
  }
  if (!isRunning(job->state)) {
    why = failure(JobQueueError::kNotRunning, "job '" + claim.job_id + "' is " +
                                                  jobStateName(job->state) + ", not running");
    return booth::fail(why.message);
  }
  return *job;
}

QueueStatus EmbeddedJobQueue::heartbeat(Claim& claim, std::chrono::milliseconds lease) {
  JobQueueFailure why;
  if (!held(claim, why).ok()) return why;
  claim.lease_until_ms = now_ms_() + lease.count();
  std::lock_guard lock(mutex_);
  leases_[claim.job_id] = claim.lease_until_ms;
  return {};
}

QueueStatus EmbeddedJobQueue::write(const Claim& claim,
                                    const std::function<void(JobRecord&)>& change,
                                    std::optional<JobEvent> event, const std::string& reason) {
  JobQueueFailure why;
  auto job = held(claim, why);
  if (!job.ok()) return why;
  JobRecord& j = job.value();
  change(j);
  // The store checks the fence and the state again in the same locked step
  // as the write: a claim or cancel in between is caught there.
  auto st = event ? store_.transition(j, *event, reason) : store_.update(j);
  if (!st.ok()) return classify(claim.job_id, claim.fence, st.error());
  if (event && !isRunning(j.state)) {
    std::lock_guard lock(mutex_);
    leases_.erase(claim.job_id);
  }
  return {};
}

QueueStatus EmbeddedJobQueue::advance(const Claim& claim, JobEvent stage,
                                      const std::string& detail) {
  if (stage != JobEvent::kStartTraining && stage != JobEvent::kStartRendering) {
    return failure(JobQueueError::kRefused,
                   std::string("advance takes start_training or start_rendering, not ") +
                       jobEventName(stage));
  }
  return write(claim, [](JobRecord& j) { j.resume_phase.clear(); }, stage, detail);
}

QueueStatus EmbeddedJobQueue::progress(const Claim& claim, const JobProgress& p) {
  return write(claim, [&](JobRecord& j) { applyProgress(j, p); }, std::nullopt, {});
}

QueueStatus EmbeddedJobQueue::checkpoint(const Claim& claim, const JobCheckpoint& c) {
  return write(claim, [&](JobRecord& j) { applyCheckpoint(j, c); }, std::nullopt, {});
}

QueueStatus EmbeddedJobQueue::finish(const Claim& claim, const JobClip& c) {
  return write(claim, [&](JobRecord& j) { applyClip(j, c); }, JobEvent::kFinish, {});
}

QueueStatus EmbeddedJobQueue::fail(const Claim& claim, const std::string& reason) {
  return write(claim, [](JobRecord&) {}, JobEvent::kFail, reason);
}

QueueStatus EmbeddedJobQueue::release(const Claim& claim, const std::string& detail,
                                      ReleaseCause cause) {
  return write(
      claim, [](JobRecord& j) { j.resume_phase = resumePhaseFrom(j.state, j.resume_phase); },
      releaseEvent(cause), detail);
}

QueueStatus EmbeddedJobQueue::cancel(const std::string& job_id, const std::string& reason) {
  if (auto st = store_.requestCancel(job_id); !st.ok()) return classify(job_id, 0, st.error());
  auto cancelled = store_.transition(job_id, JobEvent::kCancel, reason);
  if (!cancelled.ok()) return classify(job_id, 0, cancelled.error());
  std::lock_guard lock(mutex_);
  leases_.erase(job_id);
  return {};
}

Result<int> EmbeddedJobQueue::recoverExpired() {
  store_.retryPending();
  const std::int64_t now = now_ms_();
  int recovered = 0;
  for (JobState state : {JobState::kClaimed, JobState::kTraining, JobState::kRendering}) {
    for (JobRecord job : store_.withState(state)) {
      {
        std::lock_guard lock(mutex_);
        auto it = leases_.find(job.id);
        if (it != leases_.end() && it->second >= now) continue;  // still held
        leases_.erase(job.id);
      }
      job.resume_phase = resumePhaseFrom(state, job.resume_phase);
      if (auto st = store_.transition(job, JobEvent::kRecover); !st.ok())
        return booth::fail(st.error());
      ++recovered;
    }
  }
  return recovered;
}

QueueStatus EmbeddedJobQueue::expire(const std::string& job_id, ExpiredFrames frames) {
  if (auto st = store_.expire(job_id, now_ms_(), frames == ExpiredFrames::kKept); !st.ok())
    return classify(job_id, 0, st.error());
  return {};
}

QueueStatus EmbeddedJobQueue::markFramesPurged(const std::string& job_id) {
  if (auto st = store_.markFramesPurged(job_id, now_ms_()); !st.ok())
    return classify(job_id, 0, st.error());
  return {};
}

QueueStatus EmbeddedJobQueue::withdrawConsent(const std::string& job_id) {
  if (auto st = store_.withdrawConsent(job_id, now_ms_()); !st.ok())
    return classify(job_id, 0, st.error());
  return {};
}

Result<std::vector<JobRecord>> EmbeddedJobQueue::finishedBefore(JobState state,
                                                                std::int64_t before_ms,
                                                                int limit) {
  return store_.finishedBefore(state, before_ms, limit);
}

Result<std::vector<JobRecord>> EmbeddedJobQueue::framesKept(int limit) {
  return store_.framesKept(limit);
}

Result<std::optional<JobRecord>> EmbeddedJobQueue::findBySession(const std::string& session_id) {
  return store_.bySession(session_id);
}

Result<std::optional<JobRecord>> EmbeddedJobQueue::findByClipToken(const std::string& token) {
  return store_.byClipToken(token);
}

namespace {
class MutexHold final : public JobQueue::ExclusiveHold {
 public:
  explicit MutexHold(std::unique_lock<std::mutex> lock) : lock_(std::move(lock)) {}

 private:
  std::unique_lock<std::mutex> lock_;
};
}  // namespace

std::unique_ptr<JobQueue::ExclusiveHold> EmbeddedJobQueue::tryRetentionLock() {
  std::unique_lock lock(retention_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return nullptr;
  return std::make_unique<MutexHold>(std::move(lock));
}

std::optional<JobRecord> EmbeddedJobQueue::get(const std::string& job_id) {
  return store_.get(job_id);
}
std::vector<JobRecord> EmbeddedJobQueue::list(int limit) { return store_.list(limit); }
std::optional<int> EmbeddedJobQueue::queuePosition(const std::string& job_id) {
  return store_.queuePosition(job_id);
}
BeforeCommit EmbeddedJobQueue::fenceCheck(const Claim& claim) {
  // One process: the check runs just before the blob is published (see
  // BlobStore's contract for the local folder).
  return [self = this, claim](StoreTransaction&) -> Status {
    JobQueueFailure why;
    if (!self->held(claim, why).ok()) {
      return booth::fail(std::string(jobQueueErrorName(why.error)) + ": " + why.message);
    }
    return okStatus();
  };
}

QueueStatus EmbeddedJobQueue::workerHeartbeat(const std::string& worker_id,
                                              std::chrono::milliseconds ttl) {
  if (worker_id.empty()) return failure(JobQueueError::kRefused, "a worker heartbeat needs an id");
  std::lock_guard lock(mutex_);
  workers_[worker_id] = now_ms_() + ttl.count();
  return {};
}

QueueStatus EmbeddedJobQueue::workerGone(const std::string& worker_id) {
  std::lock_guard lock(mutex_);
  workers_.erase(worker_id);
  return {};
}

std::optional<int> EmbeddedJobQueue::liveWorkers() {
  const std::int64_t now = now_ms_();
  std::lock_guard lock(mutex_);
  std::erase_if(workers_, [now](const auto& w) { return w.second < now; });
  return static_cast<int>(workers_.size());
}

std::map<JobState, int> EmbeddedJobQueue::countByState() { return store_.countByState(); }
std::optional<std::string> EmbeddedJobQueue::unavailable() {
  // The store keeps changes its disk refused (full) in memory until they
  // can be written; while any wait, the database is not writable.
  const int pending = store_.pendingWrites();
  if (pending == 0) return std::nullopt;
  return "the job database cannot be written (is the disk full?): " + std::to_string(pending) +
         " change(s) held in memory until it can";
}
std::uint64_t EmbeddedJobQueue::addObserver(Observer observer) {
  return store_.addObserver(std::move(observer));
}
void EmbeddedJobQueue::removeObserver(std::uint64_t id) { store_.removeObserver(id); }

}  // namespace booth
