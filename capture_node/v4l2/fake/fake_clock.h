#pragma once
// FakeClock: the time a fake V4L2 device lives in, and a booth Clock
// (common/core/clock.h), so that the same object can drive the fake device
// and the components around it (a CameraWorker's watchdog). SimulatedClock
// (tests: waiting is a jump, so a 15 s stream runs in microseconds and
// nothing depends on the machine's speed) or RealTimeClock (the benchmark:
// frames arrive on the wall clock whether or not the camera thread is
// ready, as from real hardware). Both count microseconds on one monotonic
// time line; steady() is that time line.
#include <chrono>
#include <cstdint>

#include "common/core/clock.h"

namespace booth {

class FakeClock : public Clock {
 public:
  virtual std::int64_t nowMicros() const = 0;
  // Returns once nowMicros() >= t: sleeps (real time) or moves the time
  // forward (simulated). Thread-safe.
  virtual void waitUntil(std::int64_t t) = 0;

  TimePoint steady() const override {
    return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::microseconds(nowMicros())));
  }
};

}  // namespace booth
