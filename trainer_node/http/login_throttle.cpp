#include "trainer_node/http/login_throttle.h"

#include <algorithm>

namespace booth {

LoginThrottle::LoginThrottle(LoginThrottleConfig config, const Clock& clock)
    : config_(config), clock_(clock) {}

std::chrono::seconds LoginThrottle::delayAfter(int failures) const {
  const int over = failures - config_.free_failures;
  if (over < 0) return std::chrono::seconds(0);
  const long long doubling = 1LL << std::min(over, 30);
  return std::min(std::chrono::seconds(doubling), config_.max_delay);
}

std::optional<std::chrono::seconds> LoginThrottle::retryAfter(const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(address);
  if (it == entries_.end()) return std::nullopt;
  const auto free_at = it->second.last_failure + delayAfter(it->second.failures);
  const auto now = clock_.steady();
  if (now >= free_at) return std::nullopt;
  // Rounded up: a client that waits exactly this long is heard.
  const auto left = std::chrono::ceil<std::chrono::seconds>(free_at - now);
  return std::max(left, std::chrono::seconds(1));
}

void LoginThrottle::failed(const std::string& address) {
  std::lock_guard lock(mutex_);
  const auto now = clock_.steady();
  std::erase_if(entries_, [&](const auto& e) {
    return now - e.second.last_failure >= config_.forget_after;
  });
  if (!entries_.count(address) && entries_.size() >= config_.max_addresses) {
    entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](const auto& a,
                                                                         const auto& b) {
      return a.second.last_failure < b.second.last_failure;
    }));
  }
  Entry& e = entries_[address];
  ++e.failures;
  e.last_failure = now;
}

void LoginThrottle::succeeded(const std::string& address) {
  std::lock_guard lock(mutex_);
  entries_.erase(address);
}

}  // namespace booth
