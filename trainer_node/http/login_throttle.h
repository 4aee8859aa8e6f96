#pragma once
// LoginThrottle: slows down guessing the operator token. Per client
// address: after `free_failures` failed sign-ins each attempt must wait
// after the last failure: 1 s, then 2, 4, ... up to `max_delay`. An
// attempt that comes earlier is answered at once with 429 and Retry-After,
// without checking the token; no worker thread waits.
// A successful sign-in clears the address; an address that stays quiet for
// `forget_after` is forgotten.
//
// Addresses come from outside: at most `max_addresses` are tracked; when
// full, the one quiet the longest is dropped.
//
// Threading: every method may be called from any thread (one mutex).
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/core/clock.h"

namespace booth {

struct LoginThrottleConfig {
  int free_failures = 5;
  std::chrono::seconds max_delay{300};
  std::chrono::seconds forget_after{3600};
  std::size_t max_addresses = 4096;
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleConfig config = {},
                         const Clock& clock = SystemClock::instance());

  // How long `address` must still wait before its next attempt is heard;
  // nullopt when it may try now.
  std::optional<std::chrono::seconds> retryAfter(const std::string& address);
  void failed(const std::string& address);
  void succeeded(const std::string& address);

 private:
  struct Entry {
    int failures = 0;
    Clock::TimePoint last_failure;
  };
  std::chrono::seconds delayAfter(int failures) const;

  const LoginThrottleConfig config_;
  const Clock& clock_;
  std::mutex mutex_;  // guards entries_
  std::map<std::string, Entry> entries_;
};

}  // namespace booth
