#include "capture_node/pose/performer_tracker.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace booth {
namespace {

// Bounding box of the usable joints; empty when there are none.
cv::Rect2f boxOf(const Pose& pose) {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool any = false;
  for (const Keypoint& k : pose.points) {
    if (!isUsable(k)) continue;
    if (!any) {
      x0 = x1 = k.x;
      y0 = y1 = k.y;
      any = true;
    }
    x0 = std::min(x0, k.x);
    x1 = std::max(x1, k.x);
    y0 = std::min(y0, k.y);
    y1 = std::max(y1, k.y);
  }
  return any ? cv::Rect2f(x0, y0, x1 - x0, y1 - y0) : cv::Rect2f();
}

// A person's size: the diagonal of the joints' bounding box, at least a
// few pixels so that a degenerate box still has a scale.
float sizeOf(const cv::Rect2f& box) {
  return std::max(4.f, std::hypot(box.width, box.height));
}

cv::Point2f centreOf(const cv::Rect2f& box) {
  return {box.x + box.width / 2, box.y + box.height / 2};
}

}  // namespace

const TrackedPerson* TrackedFrame::performer() const {
  if (performer_track < 0) return nullptr;
  for (const TrackedPerson& p : people) {
    if (p.track_id == performer_track) return &p;
  }
  return nullptr;
}

PerformerTracker::PerformerTracker(TrackerConfig config, cv::Size frame_size)
    : config_(config), frame_size_(frame_size) {}

void PerformerTracker::reset() {
  tracks_.clear();
  next_id_ = 0;
  performer_ = -1;
  had_performer_ = false;
  performer_last_box_ = {};
}

float PerformerTracker::similarity(const Track& track, const Pose& pose) const {
  const float sigma = config_.sigma * sizeOf(track.box) *
                      (1.f + config_.sigma_growth * static_cast<float>(track.lost));
  const float two_sigma2 = 2 * sigma * sigma;
  float sum = 0;
  int common = 0;
  for (int j = 0; j < kCoco17Count; ++j) {
    const Keypoint& a = track.pose.points[j];
    const Keypoint& b = pose.points[j];
    if (!isUsable(a) || !isUsable(b)) continue;
    const float dx = a.x - b.x;
    const float dy = a.y - b.y;
    sum += std::exp(-(dx * dx + dy * dy) / two_sigma2);
    ++common;
  }
  // Two people sharing one or two joints by chance are not the same person.
  if (common < std::min(3, config_.min_joints)) return 0;
  return sum / static_cast<float>(common);
}

TrackedFrame PerformerTracker::update(std::vector<PersonDetection> people) {
  std::erase_if(people, [&](const PersonDetection& p) {
    return p.pose.validCount() < config_.min_joints || p.score < config_.min_score;
  });

  // Greedy matching, most similar pair first.
  struct Pair {
    float similarity;
    std::size_t track;
    std::size_t person;
  };
  std::vector<Pair> pairs;
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    for (std::size_t p = 0; p < people.size(); ++p) {
      const float s = similarity(tracks_[t], people[p].pose);
      if (s >= config_.min_similarity) pairs.push_back({s, t, p});
    }
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const Pair& a, const Pair& b) { return a.similarity > b.similarity; });
  std::vector<int> track_of_person(people.size(), -1);
  std::vector<bool> track_matched(tracks_.size(), false);
  for (const Pair& pair : pairs) {
    if (track_matched[pair.track] || track_of_person[pair.person] >= 0) continue;
    track_matched[pair.track] = true;
    track_of_person[pair.person] = static_cast<int>(pair.track);
  }

  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    if (!track_matched[t]) ++tracks_[t].lost;
  }
  TrackedFrame out;
  std::vector<int> seen;  // track ids seen this frame
  for (std::size_t p = 0; p < people.size(); ++p) {
    Track* track = nullptr;
    if (track_of_person[p] >= 0) {
      track = &tracks_[track_of_person[p]];
    } else {
      tracks_.push_back(Track{next_id_++, {}, {}, 0, false});
      track = &tracks_.back();
    }
    track->pose = people[p].pose;
    track->box = boxOf(people[p].pose);
    track->lost = 0;
    seen.push_back(track->id);
    out.people.push_back({track->id, std::move(people[p].pose), people[p].score});
  }
  // Ended tracks go; the performer's end opens the way to reacquisition.
  std::erase_if(tracks_, [&](const Track& t) {
    if (t.lost <= config_.max_lost_frames) return false;
    if (t.id == performer_) performer_ = -1;
    return true;
  });

  if (performer_ < 0) choosePerformer(seen);
  if (performer_ >= 0 && std::find(seen.begin(), seen.end(), performer_) != seen.end()) {
    out.performer_track = performer_;
    for (Track& t : tracks_) {
      if (t.id == performer_) {
        performer_last_box_ = t.box;
      } else if (t.lost == 0) {
        t.beside_performer = true;
      }
    }
  }
  return out;
}

void PerformerTracker::choosePerformer(const std::vector<int>& seen_tracks) {
  const float frame_area =
      std::max(1.f, static_cast<float>(frame_size_.width) * static_cast<float>(frame_size_.height));
  const cv::Point2f frame_centre(static_cast<float>(frame_size_.width) / 2,
                                 static_cast<float>(frame_size_.height) / 2);
  const float half_diagonal = std::max(1.f, std::hypot(frame_centre.x, frame_centre.y));
  float best = 0;
  int best_id = -1;
  for (const Track& t : tracks_) {
    if (std::find(seen_tracks.begin(), seen_tracks.end(), t.id) == seen_tracks.end()) continue;
    const float area = t.box.area() / frame_area;
    if (area < config_.min_performer_area || t.pose.validCount() < config_.min_performer_joints) {
      continue;
    }
    if (had_performer_) {
      if (t.beside_performer) continue;  // a known bystander
      const float reach = config_.reacquire_radius * sizeOf(performer_last_box_);
      const cv::Point2f d = centreOf(t.box) - centreOf(performer_last_box_);
      if (std::hypot(d.x, d.y) > reach) continue;
    }
    const cv::Point2f d = centreOf(t.box) - frame_centre;
    const float centrality = std::max(0.f, 1.f - std::hypot(d.x, d.y) / half_diagonal);
    const float merit = area * centrality;
    if (merit > best) {
      best = merit;
      best_id = t.id;
    }
  }
  if (best_id >= 0) {
    performer_ = best_id;
    had_performer_ = true;
  }
}

}  // namespace booth
