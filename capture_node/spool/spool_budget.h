#pragma once
// SpoolBudget: the disk space the capture node's spool may use, shared by
// every session and camera. Writers reserve before they append and give
// back what acks free, so a full budget is noticed before the disk is.
//
// Threading: lock-free; any thread.
#include <atomic>
#include <cstdint>

namespace booth {

class SpoolBudget {
 public:
  explicit SpoolBudget(std::uint64_t max_bytes) : max_(max_bytes) {}

  // true: `bytes` more fit and are now counted as used.
  bool reserve(std::uint64_t bytes) {
    std::uint64_t used = used_.load(std::memory_order_relaxed);
    do {
      if (used + bytes > max_) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  void release(std::uint64_t bytes) {
    std::uint64_t used = used_.load(std::memory_order_relaxed);
    std::uint64_t next;
    do {
      next = used > bytes ? used - bytes : 0;
    } while (!used_.compare_exchange_weak(used, next, std::memory_order_relaxed));
  }
  // Counts bytes found on disk at start-up (they may exceed the budget).
  void adopt(std::uint64_t bytes) { used_.fetch_add(bytes, std::memory_order_relaxed); }
  std::uint64_t used() const { return used_.load(std::memory_order_relaxed); }
  std::uint64_t max() const { return max_; }

 private:
  const std::uint64_t max_;
  std::atomic<std::uint64_t> used_{0};
};

}  // namespace booth
