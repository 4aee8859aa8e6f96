#pragma once
// JobLease: a worker's hold on one claimed job while it runs it. Renews the
// claim's lease every lease/3 on a thread of its own (and whenever the job's
// loops call renewIfDue()), makes the worker's queue writes and fenced blob
// commits, and remembers when any of them says the claim is lost (kFenced,
// kNotRunning, kNotFound; a refused fence check): from then on lost() is
// true and the worker must stop without publishing anything.
//
// A write the database cannot take now (kUnavailable) is retried, when
// asked, with back-off (0.5 s doubling to 5 s) for as long as the lease
// lasts; heartbeats that fail so are tried again at the next period.
//
// Threading: every method may be called from any thread; the destructor
// stops and joins the lease thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "trainer_node/jobs/job_queue.h"

namespace booth {

class JobLease {
 public:
  // `now_seconds`: the clock of renewIfDue() (the runner's), read only by
  // the constructor and renewIfDue()'s callers.
  JobLease(JobQueue& queue, Claim claim, std::chrono::milliseconds lease,
           std::function<double()> now_seconds);
  ~JobLease();
  JobLease(const JobLease&) = delete;
  JobLease& operator=(const JobLease&) = delete;

  const Claim& claim() const { return claim_; }
  bool lost() const { return lost_; }
  // Why the claim was lost (empty while it holds).
  std::string lostReason() const;

  // Renews the lease now when `period_seconds` have passed since the last
  // renewal (on the runner's clock). Returns !lost().
  bool renewIfDue(double period_seconds);

  // One worker write (`write` is called with the claim). With `retry`, a
  // kUnavailable answer is retried while the lease lasts and `stop` is not
  // requested. Marks the lease lost on kFenced / kNotRunning / kNotFound.
  QueueStatus write(const std::function<QueueStatus(const Claim&)>& write, bool retry,
                    std::stop_token stop = {});

  // The queue's fence check for this claim, as a BeforeCommit hook that
  // also marks the lease lost when it refuses.
  BeforeCommit fenceCheck();

 private:
  void renew();
  void keep(std::stop_token stop);
  void markLost(const QueueStatus& status);

  JobQueue& queue_;
  const Claim claim_;
  const std::chrono::milliseconds lease_;
  std::function<double()> now_seconds_;
  std::atomic<bool> lost_{false};
  mutable std::mutex mutex_;  // guards renewal_, last_renewal_, lost_reason_
  Claim renewal_;             // the claim as last renewed (its lease_until_ms)
  double last_renewal_ = 0;
  std::string lost_reason_;
  std::mutex wait_mutex_;
  std::condition_variable_any wake_;
  std::jthread keeper_;  // last: stopped and joined first
};

}  // namespace booth
