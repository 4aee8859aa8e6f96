#include "trainer_node/jobs/job_lease.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace booth {
namespace {

bool meansLost(JobQueueError error) {
  return error == JobQueueError::kFenced || error == JobQueueError::kNotRunning ||
         error == JobQueueError::kNotFound;
}

std::int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

JobLease::JobLease(JobQueue& queue, Claim claim, std::chrono::milliseconds lease,
                   std::function<double()> now_seconds)
    : queue_(queue),
      claim_(claim),
      lease_(lease),
      now_seconds_(std::move(now_seconds)),
      renewal_(std::move(claim)) {
  last_renewal_ = now_seconds_();
  keeper_ = std::jthread([this](std::stop_token stop) { keep(stop); });
}

JobLease::~JobLease() {
  keeper_.request_stop();
  wake_.notify_all();
}

std::string JobLease::lostReason() const {
  std::lock_guard lock(mutex_);
  return lost_reason_;
}

void JobLease::markLost(const QueueStatus& status) {
  std::lock_guard lock(mutex_);
  if (!lost_) lost_reason_ = std::string(jobQueueErrorName(status.error())) + ": " + status.message();
  lost_ = true;
}

void JobLease::renew() {
  if (lost_) return;
  QueueStatus st;
  {
    std::lock_guard lock(mutex_);
    st = queue_.heartbeat(renewal_, lease_);
  }
  if (st.ok()) return;
  if (meansLost(st.error())) {
    markLost(st);
  } else {
    spdlog::warn("job {}: cannot renew the lease of worker {} now: {}", claim_.job_id,
                 claim_.worker_id, st.message());
  }
}

bool JobLease::renewIfDue(double period_seconds) {
  // Only the caller's thread reads its clock (a test's clock is not
  // thread-safe); the lease thread renews on its own period.
  const double now = now_seconds_();
  bool due = false;
  {
    std::lock_guard lock(mutex_);
    due = now - last_renewal_ >= period_seconds;
    if (due) last_renewal_ = now;
  }
  if (due) renew();
  return !lost_;
}

void JobLease::keep(std::stop_token stop) {
  const auto period = std::max<std::chrono::milliseconds>(lease_ / 3, std::chrono::milliseconds(10));
  while (!stop.stop_requested() && !lost_) {
    {
      std::unique_lock lock(wait_mutex_);
      wake_.wait_for(lock, stop, period, [] { return false; });
    }
    if (stop.stop_requested()) break;
    // Last resort: a failed renewal is retried next period, never the end
    // of the process.
    try {
      renew();
    } catch (const std::exception& e) {
      spdlog::error("job {}: renewing the lease: {}", claim_.job_id, e.what());
    } catch (...) {
      spdlog::error("job {}: renewing the lease: unknown exception", claim_.job_id);
    }
  }
}

QueueStatus JobLease::write(const std::function<QueueStatus(const Claim&)>& write, bool retry,
                            std::stop_token stop) {
  if (lost_) {
    return JobQueueFailure{JobQueueError::kNotRunning,
                           "job '" + claim_.job_id + "' was lost: " + lostReason()};
  }
  auto delay = std::chrono::milliseconds(500);
  while (true) {
    QueueStatus st = write(claim_);
    if (st.ok()) return st;
    if (meansLost(st.error())) {
      markLost(st);
      return st;
    }
    std::int64_t lease_until = 0;
    {
      std::lock_guard lock(mutex_);
      lease_until = renewal_.lease_until_ms;
    }
    if (!retry || st.error() != JobQueueError::kUnavailable || stop.stop_requested() ||
        wallMs() + delay.count() > lease_until) {
      return st;
    }
    spdlog::warn("job {}: {}; trying again in {} ms", claim_.job_id, st.message(), delay.count());
    {
      std::unique_lock lock(wait_mutex_);
      wake_.wait_for(lock, stop, delay, [] { return false; });
    }
    delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(5));
  }
}

BeforeCommit JobLease::fenceCheck() {
  BeforeCommit check = queue_.fenceCheck(claim_);
  return [this, check = std::move(check)](StoreTransaction& tx) -> Status {
    Status st = check(tx);
    if (!st.ok()) {
      std::lock_guard lock(mutex_);
      if (!lost_) lost_reason_ = st.error();
      lost_ = true;
    }
    return st;
  };
}

}  // namespace booth
