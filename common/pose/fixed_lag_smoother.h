#pragma once
// FixedLagSmoother: the training-data smoother for one tracked performer.
// Each joint goes through three steps, all needing only L frames of
// look-ahead, so a frame is final L = outlier_half_window + max_gap +
// half_window frames after it was pushed and streaming is delayed by L
// frames, not by the session:
//
//  1. Drop: points that are not usable (isUsable) or below `min_confidence`
//     count as missing, and so do outliers: a point farther from the median
//     of its joint over as many observed points on each side as there are
//     (within `outlier_half_window` frames; none on one side: no test) than
//     `outlier_fraction` of the person's size (the diagonal of that frame's
//     keypoint box). A one-frame jump of a wrist to the other hand, or a
//     knee label on the wrong leg, is dropped and then imputed rather than
//     smoothed into its neighbours.
//  2. Impute: a run of missing frames no longer than `max_gap`, with an
//     observed point on both sides, is filled by linear interpolation in
//     time (sequence numbers; dropped frames are gaps too). Filled points
//     have Keypoint::imputed = true and the lower confidence of the two
//     ends. Longer runs stay missing (confidence 0): guessing a whole arm
//     swing is worse than leaving it out.
//  3. Smooth: a Savitzky-Golay filter (least-squares polynomial of
//     `poly_order` over the frames within `half_window` on each side, so it
//     keeps peaks that a moving average would flatten) or a running median,
//     over the observed and imputed points around the frame; the window
//     stops at missing points, and the polynomial order drops where fewer
//     points are left (at the start of a stream, next to a long gap).
//
// FinalPose::pose is nullopt when no joint of the frame is usable after
// these steps (no performer, or nothing of them seen for too long).
//
// Sequence numbers must increase; a push with a sequence not above the last
// one is ignored (returns nothing). Not thread-safe: one smoother per
// performer stream, driven by one thread.
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/core/keypoints.h"
#include "common/core/result.h"

namespace booth {

struct SmootherConfig {
  enum class Filter { kSavitzkyGolay, kMedian };
  float min_confidence = 0.1f;  // raw points below this are dropped
  int max_gap = 4;              // longest run of missing frames that is filled
  // Re-tuned for top-down pose (MoveNet on every frame; bench/run.sh pose,
  // "smoother tuning"): its raw joints are precise but shake frame to frame
  // (2.7 px/frame^2 on tfjs_pose_1.mp4), with few outliers. Savitzky-Golay
  // over +-133 ms: PCK@0.2 torso 0.967, 5.50 px, jitter 0.54 px/frame^2,
  // against the median over +-100 ms (the old default, chosen when the
  // multi-person network's outliers dominated): 0.968, 5.53 px, 0.97.
  // A longer window (+-200 ms) shakes less still (0.39) but adds 67 ms of
  // lag and flattens fast moves more (synthetic error at 120 fps).
  Filter filter = Filter::kSavitzkyGolay;
  static constexpr double kHalfWindowSeconds = 0.133;
  int half_window = 4;  // frames on each side that the filter sees
  int poly_order = 2;   // Savitzky-Golay only
  float outlier_fraction = 0.1f;  // of the person's size; 0 turns outlier dropping off
  int outlier_half_window = 2;    // frames on each side of the outlier median

  // The defaults are for 30 fps. The same settings in time (filter half
  // window 133 ms, outlier half window 67 ms, longest filled gap 133 ms) at
  // another frame rate.
  static SmootherConfig forFrameRate(double fps);
  // Error naming the field and value; the constructor clamps what this
  // rejects to the nearest valid value.
  Status validate() const;
};

struct FinalPose {
  std::uint64_t sequence = 0;
  std::optional<Pose> pose;  // imputed points have Keypoint::imputed = true
};

class FixedLagSmoother {
 public:
  explicit FixedLagSmoother(SmootherConfig config);
  // L: a frame is final L frames (in sequence numbers) after it was pushed.
  int lag() const;
  // The performer's raw pose of the next frame, in sequence order (nullopt:
  // no performer). Returns the frames that became final, in order.
  std::vector<FinalPose> push(std::uint64_t sequence, std::optional<Pose> raw);
  // End of stream: everything still pending, in order.
  std::vector<FinalPose> flush();

 private:
  struct Entry {
    std::uint64_t sequence = 0;
    std::optional<Pose> raw;
    // observed() per joint, once decided: -1 not yet, 0 no, 1 yes. Decided
    // only when the entry's whole outlier window has arrived.
    mutable std::array<signed char, kCoco17Count> observed{};
    mutable float size = -1;  // the raw pose's size (box diagonal), once computed
  };
  struct Sample {
    bool present = false;
    float x = 0;
    float y = 0;
    float confidence = 0;
    bool imputed = false;
  };

  FinalPose finalize(std::size_t index) const;
  bool observed(std::size_t index, int joint) const;
  bool isOutlier(std::size_t index, int joint) const;
  Sample cleaned(std::size_t index, int joint) const;
  void dropHistory();

  SmootherConfig config_;
  std::deque<Entry> entries_;  // history needed by pending frames, then the pending ones
  std::size_t next_final_ = 0;  // index in entries_ of the oldest frame not yet final
};

}  // namespace booth
