#include "trainer_node/http/operator_sessions.h"

#include <algorithm>

#include "trainer_node/http/operator_auth.h"

namespace booth {

OperatorSessions::OperatorSessions(std::chrono::seconds lifetime, const Clock& clock,
                                   std::size_t max_sessions)
    : lifetime_(lifetime), clock_(clock), max_sessions_(std::max<std::size_t>(1, max_sessions)) {}

void OperatorSessions::dropExpired(Clock::TimePoint now) {
  std::erase_if(sessions_, [now](const Session& s) { return s.expires <= now; });
}

std::string OperatorSessions::create() {
  Session session{randomHexToken(), clock_.steady() + lifetime_};
  std::lock_guard lock(mutex_);
  dropExpired(clock_.steady());
  if (sessions_.size() >= max_sessions_) {
    sessions_.erase(std::min_element(
        sessions_.begin(), sessions_.end(),
        [](const Session& a, const Session& b) { return a.expires < b.expires; }));
  }
  sessions_.push_back(session);
  return session.id;
}

bool OperatorSessions::valid(std::string_view id) {
  std::lock_guard lock(mutex_);
  const auto now = clock_.steady();
  bool found = false;
  for (const Session& s : sessions_) found |= sameSecret(id, s.id) && s.expires > now;
  return found;
}

void OperatorSessions::revoke(std::string_view id) {
  std::lock_guard lock(mutex_);
  std::erase_if(sessions_, [id](const Session& s) { return sameSecret(id, s.id); });
}

}  // namespace booth
