#include "trainer_node/http/bandwidth_limiter.h"

#include <algorithm>

namespace booth {

BandwidthLimiter::BandwidthLimiter(double bytes_per_second, double burst_bytes,
                                   std::function<Clock::time_point()> now)
    : rate_(bytes_per_second), burst_(std::max(0.0, burst_bytes)), now_(std::move(now)) {
  // Starts with a full bucket.
  next_free_ = now_() - std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(rate_ > 0 ? burst_ / rate_ : 0));
}

std::chrono::nanoseconds BandwidthLimiter::reserve(std::size_t bytes) {
  if (rate_ <= 0) return std::chrono::nanoseconds(0);
  const auto cost = std::chrono::nanoseconds(static_cast<std::int64_t>(bytes / rate_ * 1e9));
  const auto burst = std::chrono::nanoseconds(static_cast<std::int64_t>(burst_ / rate_ * 1e9));
  std::lock_guard lock(mutex_);
  const auto now = now_();
  // An idle budget refills up to the burst, not beyond.
  next_free_ = std::max(next_free_, now - burst);
  next_free_ += cost;
  return std::max(std::chrono::nanoseconds(0),
                  std::chrono::duration_cast<std::chrono::nanoseconds>(next_free_ - now));
}

}  // namespace booth
