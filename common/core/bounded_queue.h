#pragma once
// BoundedQueue<T>: the typed channel between two stages on different
// threads. Bounded on purpose: a producer that must never wait (a camera
// thread) uses tryPush() and counts what did not fit; a producer that may
// wait uses push(), which waits for room until the queue is closed or the
// stop token fires. Consumers pop() with a timeout, so a stage can still
// notice its own stop request while its input is idle.
//
// Threading: any number of producers and consumers on any threads.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>
#include <utility>

namespace booth {

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Never waits. false: full or closed (the item is left untouched).
  bool tryPush(T& item) {
    {
      std::lock_guard lock(mutex_);
      if (closed_ || items_.size() >= capacity_) return false;
      items_.push_back(std::move(item));
      high_water_ = std::max(high_water_, items_.size());
    }
    not_empty_.notify_one();
    return true;
  }
  bool tryPush(T&& item) { return tryPush(item); }

  // Waits for room. false: closed or stop requested before there was room.
  bool push(T item, std::stop_token stop = {}) {
    {
      std::unique_lock lock(mutex_);
      not_full_.wait(lock, stop, [&] { return closed_ || items_.size() < capacity_; });
      if (closed_ || stop.stop_requested()) return false;
      items_.push_back(std::move(item));
      high_water_ = std::max(high_water_, items_.size());
    }
    not_empty_.notify_one();
    return true;
  }

  // Waits up to `timeout` for an item. nullopt: none came (or closed and
  // drained).
  template <class Rep, class Period>
  std::optional<T> pop(std::chrono::duration<Rep, Period> timeout) {
    std::optional<T> out;
    {
      std::unique_lock lock(mutex_);
      if (!not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); })) {
        return std::nullopt;
      }
      if (items_.empty()) return std::nullopt;
      out.emplace(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.notify_one();
    return out;
  }

  std::optional<T> tryPop() { return pop(std::chrono::milliseconds(0)); }

  // Producers are refused from now on; consumers drain what is left.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }
  bool closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  std::size_t capacity() const { return capacity_; }
  // The most items ever queued at once: how close the queue came to full.
  std::size_t highWater() const {
    std::lock_guard lock(mutex_);
    return high_water_;
  }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;  // guards items_, closed_, high_water_
  std::condition_variable not_empty_;
  std::condition_variable_any not_full_;
  std::deque<T> items_;
  bool closed_ = false;
  std::size_t high_water_ = 0;
};

}  // namespace booth
