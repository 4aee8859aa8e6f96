#pragma once
// Clock: the time source of every component that makes decisions by time
// (timeouts, resends, watchdogs, liveness). Injected, so that tests drive
// it by hand instead of sleeping. steady() is monotonic and is the only
// time used for durations; wall() is for humans (logs, ids, retention).
//
// Threading: implementations are safe to call from any thread.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace booth {

class Clock {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint steady() const = 0;
  virtual std::chrono::system_clock::time_point wall() const = 0;
};

// The process's real clocks.
class SystemClock final : public Clock {
 public:
  TimePoint steady() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::now();
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told to (tests).
class ManualClock final : public Clock {
 public:
  TimePoint steady() const override { return TimePoint(Duration(now_.load())); }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(Duration(now_.load())));
  }
  void advance(Duration d) { now_ += d.count(); }

 private:
  std::atomic<Duration::rep> now_{Duration(std::chrono::hours(1)).count()};
};

inline double secondsBetween(Clock::TimePoint from, Clock::TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace booth
