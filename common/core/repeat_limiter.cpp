#include "common/core/repeat_limiter.h"

namespace booth {

RepeatLimiter::RepeatLimiter(const Clock& clock, std::chrono::milliseconds period,
                             std::size_t max_keys)
    : clock_(clock), period_(period), max_keys_(max_keys < 1 ? 1 : max_keys) {}

std::string RepeatLimiter::admit(const std::string& key) {
  if (entries_.count(key) || entries_.size() < max_keys_) return key;
  // Full: forget keys that are quiet (nothing held, reported a period ago).
  const auto now = clock_.steady();
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.held == 0 && now - it->second.last_report >= period_) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  return entries_.size() < max_keys_ ? key : std::string(kOverflowKey);
}

std::optional<std::uint64_t> RepeatLimiter::occurred(const std::string& key) {
  const auto now = clock_.steady();
  auto [it, fresh] = entries_.try_emplace(admit(key));
  Entry& e = it->second;
  if (fresh || now - e.last_report >= period_) {
    const std::uint64_t n = e.held + 1;
    e.held = 0;
    e.last_report = now;
    return n;
  }
  ++e.held;
  return std::nullopt;
}

std::vector<std::pair<std::string, std::uint64_t>> RepeatLimiter::expired() {
  const auto now = clock_.steady();
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (auto it = entries_.begin(); it != entries_.end();) {
    Entry& e = it->second;
    if (now - e.last_report < period_) {
      ++it;
    } else if (e.held > 0) {
      out.emplace_back(it->first, e.held);
      e.held = 0;
      e.last_report = now;
      ++it;
    } else {
      it = entries_.erase(it);  // quiet for a period: forgotten
    }
  }
  return out;
}

std::string repeatSuffix(std::uint64_t n) {
  if (n <= 1) return {};
  return " (" + std::to_string(n) + " times since the last such line)";
}

}  // namespace booth
