#include "capture_node/pose/performer_tracker.h"

#include <cmath>
#include <limits>

namespace booth {
namespace {

cv::Point2f centre(const Pose& p) {
  cv::Point2f sum{0, 0};
  int n = 0;
  for (const Keypoint& k : p.points) {
    if (!k.valid()) continue;
    sum += cv::Point2f(k.x, k.y);
    ++n;
  }
  return n ? sum / static_cast<float>(n) : cv::Point2f{-1, -1};
}

}  // namespace

PerformerTracker::PerformerTracker(TrackerConfig config, cv::Size frame_size)
    : config_(config), frame_size_(frame_size) {}

void PerformerTracker::reset() { performer_ = -1; }

TrackedFrame PerformerTracker::update(std::vector<PersonDetection> people) {
  TrackedFrame out;
  const float diagonal = std::hypot(static_cast<float>(frame_size_.width),
                                    static_cast<float>(frame_size_.height));
  int best = -1;
  float best_distance = std::numeric_limits<float>::max();
  for (std::size_t i = 0; i < people.size(); ++i) {
    const cv::Point2f c = centre(people[i].pose);
    if (performer_ >= 0) {
      const float d = static_cast<float>(cv::norm(c - performer_centre_));
      if (d < best_distance && d <= config_.max_jump * diagonal) {
        best_distance = d;
        best = static_cast<int>(i);
      }
    } else if (best < 0 || people[i].pose.validCount() > people[best].pose.validCount()) {
      best = static_cast<int>(i);
    }
  }
  for (std::size_t i = 0; i < people.size(); ++i) {
    TrackedPerson p;
    p.pose = people[i].pose;
    p.score = people[i].score;
    if (static_cast<int>(i) == best) {
      if (performer_ < 0) performer_ = next_id_++;
      p.track_id = performer_;
      performer_centre_ = centre(p.pose);
      out.performer_track = performer_;
    } else {
      p.track_id = next_id_++;
    }
    out.people.push_back(std::move(p));
  }
  return out;
}

}  // namespace booth
