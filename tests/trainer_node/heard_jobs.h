#pragma once
// Test support: a JobQueue observer that records the job ids it hears, and
// waits (bounded) until it has heard one.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>

#include "trainer_node/jobs/job_queue.h"

namespace booth::testing {

class HeardJobs {
 public:
  // Registered while it lives (declare it after the HeardJobs it feeds).
  class Subscription {
   public:
    Subscription(JobQueue& queue, HeardJobs& heard)
        : queue_(queue), id_(queue.addObserver(heard.observer())) {}
    ~Subscription() { queue_.removeObserver(id_); }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    JobQueue& queue_;
    std::uint64_t id_;
  };

  JobQueue::Observer observer() {
    return [this](const std::string& id) {
      std::lock_guard lock(mutex_);
      heard_.insert(id);
      changed_.notify_all();
    };
  }
  // true once `id` was heard `times` times (false after `timeout`).
  bool waitFor(const std::string& id, std::size_t times = 1,
               std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return heard_.count(id) >= times; });
  }
  std::size_t count(const std::string& id) {
    std::lock_guard lock(mutex_);
    return heard_.count(id);
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::multiset<std::string> heard_;
};

}  // namespace booth::testing
