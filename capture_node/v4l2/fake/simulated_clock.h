#pragma once
// SimulatedClock: a FakeClock that only moves when told to, or when a
// waiter asks it to (waitUntil() jumps forward at once). Thread-safe.
// Starts at 1 s so that a zero timestamp is never a real one.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

#include "capture_node/v4l2/fake/fake_clock.h"

namespace booth {

class SimulatedClock final : public FakeClock {
 public:
  explicit SimulatedClock(std::int64_t start_micros = 1'000'000) : now_(start_micros) {}

  std::int64_t nowMicros() const override { return now_.load(std::memory_order_acquire); }
  void waitUntil(std::int64_t t) override {
    std::int64_t now = now_.load(std::memory_order_acquire);
    while (now < t && !now_.compare_exchange_weak(now, t, std::memory_order_acq_rel)) {
    }
  }
  // The simulated time read as the epoch's microseconds (for logs only).
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::time_point(std::chrono::microseconds(nowMicros()));
  }
  void advance(std::chrono::microseconds by) {
    now_.fetch_add(std::max<std::int64_t>(0, by.count()), std::memory_order_acq_rel);
  }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace booth
