#pragma once
// RealTimeClock: a FakeClock on CLOCK_MONOTONIC (steady_clock), the clock
// real V4L2 buffer timestamps use; waitUntil() sleeps. Thread-safe.
#include <chrono>
#include <cstdint>
#include <thread>

#include "capture_node/v4l2/fake/fake_clock.h"

namespace booth {

class RealTimeClock final : public FakeClock {
 public:
  std::int64_t nowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  TimePoint steady() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::now();
  }
  void waitUntil(std::int64_t t) override {
    std::this_thread::sleep_until(
        std::chrono::steady_clock::time_point(std::chrono::microseconds(t)));
  }
};

}  // namespace booth
