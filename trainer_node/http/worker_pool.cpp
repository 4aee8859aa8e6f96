#include "trainer_node/http/worker_pool.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace booth {

WorkerPool::WorkerPool(std::size_t threads, int nice) : nice_(nice) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() { shutdown(); }

void WorkerPool::enqueue(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void WorkerPool::shutdown() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void WorkerPool::work() {
  // On Linux the nice value is per thread: only this worker is lowered.
  if (nice_ != 0) {
    const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
    if (::setpriority(PRIO_PROCESS, tid, nice_) != 0) {
      spdlog::debug("http worker: cannot set nice {} (ignored)", nice_);
    }
  }
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping and drained
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    // Last resort: a connection whose handling throws is dropped (its
    // owner closes it on unwinding); the worker serves the next one.
    try {
      job();
    } catch (const std::exception& e) {
      spdlog::error("http worker: a connection failed: {}", e.what());
    } catch (...) {
      spdlog::error("http worker: a connection failed (unknown exception)");
    }
  }
}

}  // namespace booth
