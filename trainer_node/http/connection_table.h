#pragma once
// ConnectionTable: every open HTTP connection, and who may open one more.
// The HTTP server's accept thread asks admit() for each new connection;
// the head reader and the workers move connections between "waiting"
// (for the first byte or the rest of a request: no thread held) and "busy"
// (a worker serves its request), and release them.
//
// Limits: at most `max_connections` in all and `max_per_address` from one
// client address. At a limit, the connection that has waited longest for
// its request is cut off (if it has waited at least `evict_after`: a
// client that sends its request promptly is never cut), so slow or idle
// clients, however many, cannot keep a prompt one (the operator's page) out.
// When every counted connection is busy or young, the new one is refused
// (the server answers 503 and closes it).
//
// File descriptors: the table owns each admitted fd until release(),
// which closes it under the table's lock, so that an eviction (shutdown)
// can never reach a reused descriptor number.
//
// Threading: every method may be called from any thread (one mutex).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "common/core/clock.h"

namespace booth {

struct ConnectionLimits {
  std::size_t max_connections = 2048;
  std::size_t max_per_address = 512;
  std::chrono::milliseconds evict_after{1000};
};

class ConnectionTable {
 public:
  explicit ConnectionTable(ConnectionLimits limits) : limits_(limits) {}
  ~ConnectionTable();  // closes what is left

  struct Admission {
    std::uint64_t id = 0;  // 0: refused
    std::string refusal;   // why, for the 503 body
  };
  // Registers `fd` (now owned) from `address`, waiting since `now`.
  Admission admit(int fd, const std::string& address, Clock::TimePoint now);
  // The connection waits for (the rest of) a request from `since`.
  void waiting(std::uint64_t id, Clock::TimePoint since);
  // A worker serves the connection's request.
  void busy(std::uint64_t id);
  // Closes the connection's fd and forgets it.
  void release(std::uint64_t id);
  // Shuts every connection down (reads and writes fail at once); the
  // owners then release them.
  void shutdownAll();

  std::size_t counted() const;  // open and not cut off
  std::uint64_t evictedTotal() const;
  std::uint64_t refusedTotal() const;

 private:
  struct Entry {
    int fd = -1;
    std::string address;
    bool waiting = true;
    bool evicted = false;  // shut down; its owner has yet to release it
    Clock::TimePoint since;
  };
  // Cuts off the counted waiting entry (of `address`, or any when empty)
  // that has waited longest, if it waited at least evict_after. Caller
  // holds mutex_.
  bool evictOne(const std::string& address, Clock::TimePoint now);

  const ConnectionLimits limits_;
  mutable std::mutex mutex_;  // guards everything below
  std::map<std::uint64_t, Entry> entries_;
  std::map<std::string, std::size_t> per_address_;  // counted entries by address
  std::size_t counted_ = 0;
  std::uint64_t next_id_ = 1;
  std::uint64_t evicted_total_ = 0;
  std::uint64_t refused_total_ = 0;
};

}  // namespace booth
