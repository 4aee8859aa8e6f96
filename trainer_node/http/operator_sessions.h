#pragma once
// OperatorSessions: the operator's signed-in browsers. POST /api/login
// trades the operator token for a session: a random 128-bit id that the
// browser keeps as its HttpOnly cookie, stored here with its expiry, so the
// token itself never sits in a cookie jar. A session ends when it expires
// (`lifetime`, --operator-session-hours), when its browser signs out, or
// when the trainer restarts (sessions live in memory only: a rotated
// operator token, which takes a restart, revokes every session).
//
// Bounded: at most `max_sessions`; a new one beyond that replaces the one
// that expires first.
//
// Threading: every method may be called from any thread (one mutex).
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/clock.h"

namespace booth {

class OperatorSessions {
 public:
  explicit OperatorSessions(std::chrono::seconds lifetime,
                            const Clock& clock = SystemClock::instance(),
                            std::size_t max_sessions = 64);

  // A new session; its id is the cookie's value.
  std::string create();
  // true while `id` names a session that has not expired or been revoked.
  // Compares every stored id in constant time (no lookup by the secret).
  bool valid(std::string_view id);
  // Signs `id` out; unknown ids are ignored.
  void revoke(std::string_view id);
  std::chrono::seconds lifetime() const { return lifetime_; }

 private:
  struct Session {
    std::string id;
    Clock::TimePoint expires;
  };
  void dropExpired(Clock::TimePoint now);  // caller holds mutex_

  const std::chrono::seconds lifetime_;
  const Clock& clock_;
  const std::size_t max_sessions_;
  std::mutex mutex_;  // guards sessions_
  std::vector<Session> sessions_;
};

}  // namespace booth
