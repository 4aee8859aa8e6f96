#pragma once
// BandwidthLimiter: one budget of bytes per second shared by every clip
// download, so that however many visitors download at once, serving clips
// costs the trainer a bounded share of CPU and network (training goes on
// at nearly full speed). A token bucket: up to `burst_bytes` go out at
// once, then `bytes_per_second` on average; callers reserve before sending
// and sleep for the time reserve() returns, outside any lock.
//
// Threading: reserve() may be called from any thread. The clock is
// injected so tests need no sleeping.
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>

namespace booth {

class BandwidthLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // bytes_per_second <= 0: unlimited (reserve() always returns zero).
  BandwidthLimiter(double bytes_per_second, double burst_bytes,
                   std::function<Clock::time_point()> now = Clock::now);
  // Reserves `bytes`; returns how long to wait before sending them.
  std::chrono::nanoseconds reserve(std::size_t bytes);
  bool limited() const { return rate_ > 0; }

 private:
  double rate_;
  double burst_;
  std::function<Clock::time_point()> now_;
  std::mutex mutex_;  // guards next_free_
  // Virtual time up to which the budget is spent; the bucket holds
  // (now - next_free_) * rate bytes, at most burst_.
  Clock::time_point next_free_;
};

}  // namespace booth
