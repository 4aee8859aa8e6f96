#pragma once
// LiveTap<T>: a flow-limited side exit for live use (a preview), modelled on
// MediaPipe's FlowLimiterCalculator: the producer never waits and the
// consumer only ever sees the newest item. At most `max_in_flight` items
// are with the consumer at once (taken and not yet done()); while that many
// are out, a new item replaces the one waiting, and the replaced item is
// counted as dropped. The lossless path (spool -> trainer) never goes
// through here: only what may be skipped does.
//
// Threading: offer() from producers, take()/done() from the consumer.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

namespace booth {

template <class T>
class LiveTap {
 public:
  explicit LiveTap(std::size_t max_in_flight = 1)
      : max_in_flight_(max_in_flight == 0 ? 1 : max_in_flight) {}

  void offer(T item) {
    {
      std::lock_guard lock(mutex_);
      ++offered_;
      if (waiting_) ++dropped_;  // newer wins
      waiting_.emplace(std::move(item));
    }
    ready_.notify_one();
  }

  // The newest item, once fewer than max_in_flight are out; nullopt after
  // `timeout`.
  template <class Rep, class Period>
  std::optional<T> take(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, timeout,
                         [&] { return waiting_.has_value() && in_flight_ < max_in_flight_; })) {
      return std::nullopt;
    }
    std::optional<T> out = std::move(waiting_);
    waiting_.reset();
    ++in_flight_;
    ++delivered_;
    return out;
  }

  // The consumer finished with an item it took.
  void done() {
    {
      std::lock_guard lock(mutex_);
      if (in_flight_ > 0) --in_flight_;
    }
    ready_.notify_one();
  }

  std::uint64_t offered() const {
    std::lock_guard lock(mutex_);
    return offered_;
  }
  std::uint64_t delivered() const {
    std::lock_guard lock(mutex_);
    return delivered_;
  }
  std::uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }

 private:
  const std::size_t max_in_flight_;
  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable ready_;
  std::optional<T> waiting_;
  std::size_t in_flight_ = 0;
  std::uint64_t offered_ = 0, delivered_ = 0, dropped_ = 0;
};

}  // namespace booth
