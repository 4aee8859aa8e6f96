#pragma once
// RepeatLimiter: turns a flood of the same event into one log line every
// `period`, with a count. Each event has a key (e.g. peer and reason); the
// first occurrence of a key is reported at once, later ones within the
// period only counted; the next occurrence after the period, or expired()
// when none comes, reports how many there were. So 20 000 malformed
// messages in 3 s from one peer make two lines, not 20 000.
//
// Keys come from outside (addresses, ids): at most `max_keys` are tracked;
// beyond that, events of new keys are counted under kOverflowKey.
//
// Threading: not thread-safe; one owner (the ingest thread, or a caller
// holding its own lock). The clock is injected (tests drive it by hand).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/core/clock.h"

namespace booth {

class RepeatLimiter {
 public:
  static constexpr const char* kOverflowKey = "(other peers)";

  RepeatLimiter(const Clock& clock, std::chrono::milliseconds period, std::size_t max_keys = 1024);

  // One event of `key`. Returns the number of events to report now (this one
  // and those held back since the last report), or nullopt to stay quiet.
  std::optional<std::uint64_t> occurred(const std::string& key);
  // Keys with events held back for a whole period and no report since:
  // (key, count), each reported once. Call it now and then (a few times a
  // period) so that the tail of a flood is not lost.
  std::vector<std::pair<std::string, std::uint64_t>> expired();
  std::chrono::milliseconds period() const { return period_; }

 private:
  struct Entry {
    Clock::TimePoint last_report;
    std::uint64_t held = 0;  // events since last_report, not reported yet
  };
  std::string admit(const std::string& key);  // the key to count under

  const Clock& clock_;
  std::chrono::milliseconds period_;
  std::size_t max_keys_;
  std::map<std::string, Entry> entries_;
};

// " (N times since the last such line)" when n > 1, else "": the suffix of
// a line that reports n events.
std::string repeatSuffix(std::uint64_t n);

}  // namespace booth
