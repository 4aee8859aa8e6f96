#pragma once
// SequenceTracker: turns a driver's 32-bit frame sequence numbers into the
// booth's 64-bit per-start() sequence (first frame 0) and counts the frames
// the driver skipped. Gaps are kept: driver 7, 8, 11 -> 0, 1, 4 with 2
// dropped. Wraps of the 32-bit counter are handled. A step of 0 (drivers that
// never fill in sequence) or a step backwards (counter reset) says nothing
// about drops and counts as one frame.
// Not thread-safe: used by the one camera thread.
#include <cstdint>
#include <optional>

namespace booth {

class SequenceTracker {
 public:
  // Sequence for the frame the driver numbered `driver_sequence`.
  std::uint64_t advance(std::uint32_t driver_sequence) {
    if (!last_driver_) {
      last_driver_ = driver_sequence;
      sequence_ = 0;
      return sequence_;
    }
    std::uint32_t step = driver_sequence - *last_driver_;  // modulo 2^32: wrap-safe
    if (step == 0 || step > kMaxForwardStep) step = 1;
    dropped_ += step - 1;
    last_driver_ = driver_sequence;
    sequence_ += step;
    return sequence_;
  }

  std::uint64_t dropped() const { return dropped_; }

  void reset() {
    last_driver_.reset();
    sequence_ = 0;
    dropped_ = 0;
  }

 private:
  // Larger steps are read as the counter going backwards.
  static constexpr std::uint32_t kMaxForwardStep = 0x8000'0000u;

  std::optional<std::uint32_t> last_driver_;
  std::uint64_t sequence_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace booth
