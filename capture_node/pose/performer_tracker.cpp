#include "capture_node/pose/performer_tracker.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace booth {
namespace {

// A person's size: the diagonal of the joints' bounding box, at least a
// few pixels so that a degenerate box still has a scale.
float sizeOf(const cv::Rect2f& box) {
  return std::max(4.f, std::hypot(box.width, box.height));
}

cv::Point2f centreOf(const cv::Rect2f& box) {
  return {box.x + box.width / 2, box.y + box.height / 2};
}

float median(std::vector<float>& v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// The joints' typical displacement from `a` to `b`: the median over the
// joints usable in both, per axis (a waving arm does not move the person);
// nullopt with fewer than 3 such joints.
std::optional<cv::Point2f> displacement(const Pose& a, const Pose& b) {
  std::vector<float> dx, dy;
  for (int j = 0; j < kCoco17Count; ++j) {
    if (!isUsable(a.points[j]) || !isUsable(b.points[j])) continue;
    dx.push_back(b.points[j].x - a.points[j].x);
    dy.push_back(b.points[j].y - a.points[j].y);
  }
  if (dx.size() < 3) return std::nullopt;
  return cv::Point2f(median(dx), median(dy));
}

}  // namespace

// Bounding box of the usable joints; empty when there are none.
cv::Rect2f PerformerTracker::boxOf(const Pose& pose) {
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

TrackerConfig TrackerConfig::forFrameRate(double fps) {
  TrackerConfig c;
  if (!(fps > 0)) return c;
  c.max_lost_frames = std::max(1, static_cast<int>(std::lround(fps * c.max_lost_frames / 30.0)));
  c.sigma_growth = c.sigma_growth * 30.f / static_cast<float>(fps);
  c.max_speed = c.max_speed * 30.f / static_cast<float>(fps);
  return c;
}

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

float PerformerTracker::similarity(const Track& track, const Pose& pose, int ahead) const {
  const float sigma = config_.sigma * sizeOf(track.box) *
                      (1.f + config_.sigma_growth * static_cast<float>(track.lost));
  const float two_sigma2 = 2 * sigma * sigma;
  // Where the motion model puts the track in the pose's frame.
  const cv::Point2f shift = track.velocity * static_cast<float>(std::max(0, ahead));
  float sum = 0;
  int common = 0;
  for (int j = 0; j < kCoco17Count; ++j) {
    Keypoint a = track.pose.points[j];
    a.x += shift.x;
    a.y += shift.y;
    const Keypoint& b = pose.points[j];
    if (!isUsable(a) || !isUsable(b)) continue;
    const float dx = a.x - b.x;
    const float dy = a.y - b.y;
    sum += std::exp(-(dx * dx + dy * dy) / two_sigma2);
    ++common;
  }
  // Two people sharing one or two joints by chance are not the same person.
  const float keypoints = common < std::min(3, config_.min_joints) ? 0.f : sum / static_cast<float>(common);
  // The boxes' overlap carries a person through frames where a few joints
  // jump (a fast arm, a left/right mix-up) and the keypoint term drops.
  const cv::Rect2f box = boxOf(pose);
  const cv::Rect2f predicted = track.box + shift;
  const float inter = (predicted & box).area();
  const float uni = predicted.area() + box.area() - inter;
  const float overlap = uni > 0 ? inter / uni : 0.f;
  return std::max(keypoints, overlap);
}

void PerformerTracker::observe(Track& track, const Pose& pose, int elapsed) const {
  track.previous_pose = track.pose;
  track.previous_velocity = track.velocity;
  track.previous_elapsed = elapsed;
  if (track.sightings > 0 && elapsed > 0) {
    if (const auto d = displacement(track.pose, pose)) {
      cv::Point2f v = *d / static_cast<float>(elapsed);
      const float cap = config_.max_speed * sizeOf(boxOf(pose));
      const float speed = std::hypot(v.x, v.y);
      if (speed > cap) v *= cap / speed;
      // Averaged over the last sightings: one jittery frame does not send
      // the prediction off.
      track.velocity = track.sightings >= 2 ? 0.5f * track.velocity + 0.5f * v : v;
    }
  }
  ++track.sightings;
  track.pose = pose;
  track.box = boxOf(pose);
  track.lost = 0;
  track.extent = cv::Size2f(std::max(track.box.width, 0.9f * track.extent.width),
                            std::max(track.box.height, 0.9f * track.extent.height));
}

std::vector<TrackPrediction> PerformerTracker::predictTracks(int ahead) const {
  std::vector<TrackPrediction> out;
  for (const Track& t : tracks_) {
    const cv::Point2f shift = t.velocity * static_cast<float>(t.lost + ahead);
    TrackPrediction p;
    p.id = t.id;
    p.performer = t.id == performer_;
    p.box = t.box + shift;
    p.velocity = t.velocity;
    p.lost = t.lost;
    if (const auto feet = feetOf(t.pose)) p.feet = *feet + shift;
    const cv::Point2f centre = centreOf(p.box);
    p.extent = cv::Rect2f(centre.x - t.extent.width / 2, centre.y - t.extent.height / 2,
                          t.extent.width, t.extent.height);
    p.sightings = t.sightings;
    p.arrived = t.arrived;
    out.push_back(p);
  }
  return out;
}

float PerformerTracker::similarityToTrack(int id, const Pose& pose) const {
  for (const Track& t : tracks_) {
    if (t.id == id) return similarity(t, pose, t.lost + 1);
  }
  return 0.f;
}

TrackedFrame PerformerTracker::update(std::vector<PersonDetection> people, bool performer_hidden) {
  std::erase_if(people, [&](const PersonDetection& p) {
    return p.pose.validCount() < config_.min_joints || p.score < config_.min_score;
  });

  // Greedy matching, most similar pair first; on a tie the performer, then
  // the older track.
  struct Pair {
    float similarity;
    std::size_t track;
    std::size_t person;
  };
  std::vector<Pair> pairs;
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    for (std::size_t p = 0; p < people.size(); ++p) {
      const float s = similarity(tracks_[t], people[p].pose, tracks_[t].lost + 1);
      if (s >= config_.min_similarity) pairs.push_back({s, t, p});
    }
  }
  std::sort(pairs.begin(), pairs.end(), [&](const Pair& a, const Pair& b) {
    if (a.similarity != b.similarity) return a.similarity > b.similarity;
    const bool a_performer = tracks_[a.track].id == performer_;
    const bool b_performer = tracks_[b.track].id == performer_;
    if (a_performer != b_performer) return a_performer;
    return tracks_[a.track].id < tracks_[b.track].id;
  });
  std::vector<int> track_of_person(people.size(), -1);
  std::vector<bool> track_matched(tracks_.size(), false);
  for (const Pair& pair : pairs) {
    if (track_matched[pair.track] || track_of_person[pair.person] >= 0) continue;
    track_matched[pair.track] = true;
    track_of_person[pair.person] = static_cast<int>(pair.track);
  }
  if (performer_hidden) {
    // What matches the hidden performer is a glimpse of them (or the two
    // merged): nobody else's, and not good enough to be theirs. It goes,
    // and the performer's track ages unseen.
    for (std::size_t p = people.size(); p-- > 0;) {
      if (track_of_person[p] < 0 || tracks_[track_of_person[p]].id != performer_) continue;
      track_matched[track_of_person[p]] = false;
      people.erase(people.begin() + static_cast<std::ptrdiff_t>(p));
      track_of_person.erase(track_of_person.begin() + static_cast<std::ptrdiff_t>(p));
    }
  }
  for (std::size_t p = 0; p < people.size(); ++p) {
    if (track_of_person[p] >= 0) {
      Track& track = tracks_[track_of_person[p]];
      observe(track, people[p].pose, track.lost + 1);
    }
  }
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    if (!track_matched[t]) ++tracks_[t].lost;
  }
  for (std::size_t p = 0; p < people.size(); ++p) {
    if (track_of_person[p] >= 0) continue;
    Track track;
    track.id = next_id_++;
    observe(track, people[p].pose, 0);
    track.arrived = performer_ < 0 || (performer_last_box_ & track.box).area() <= 0;
    tracks_.push_back(std::move(track));
    track_of_person[p] = static_cast<int>(tracks_.size() - 1);
  }
  std::vector<int> id_of_person(people.size());
  for (std::size_t p = 0; p < people.size(); ++p) id_of_person[p] = tracks_[track_of_person[p]].id;

  if (!performer_hidden) mergeSplitTracks(id_of_person);

  endLostTracks();

  TrackedFrame out;
  std::vector<int> seen;  // track ids seen this frame
  for (std::size_t p = 0; p < people.size(); ++p) {
    seen.push_back(id_of_person[p]);
    out.people.push_back({id_of_person[p], std::move(people[p].pose), people[p].score});
  }
  if (performer_ < 0) choosePerformer(seen);
  const auto performer = std::find_if(tracks_.begin(), tracks_.end(),
                                      [&](const Track& t) { return t.id == performer_; });
  if (performer != tracks_.end() && performer->lost == 0) {
    out.performer_track = performer_;
    performer_last_box_ = performer->box;
    markBystanders();
  }
  return out;
}

void PerformerTracker::endLostTracks() {
  // Ended tracks go; the performer's end opens the way to reacquisition.
  std::erase_if(tracks_, [&](const Track& t) {
    if (t.lost <= config_.max_lost_frames) return false;
    if (t.id == performer_) performer_ = -1;
    return true;
  });
}

void PerformerTracker::markBystanders() {
  const auto performer = std::find_if(tracks_.begin(), tracks_.end(),
                                      [&](const Track& t) { return t.id == performer_; });
  if (performer == tracks_.end()) return;
  // Everyone else in view is a known bystander, except fragments of the
  // performer's own body (mostly inside the performer's box).
  for (Track& t : tracks_) {
    if (t.id == performer_ || t.lost != 0) continue;
    const float inter = (t.box & performer->box).area();
    const float smaller = std::min(t.box.area(), performer->box.area());
    if (!(smaller > 0 && inter / smaller >= 0.5f)) t.beside_performer = true;
  }
}

TrackedFrame PerformerTracker::followPerformer(const PersonDetection& person) {
  TrackedFrame out;
  const auto performer = std::find_if(tracks_.begin(), tracks_.end(),
                                      [&](const Track& t) { return t.id == performer_; });
  const bool continues = performer != tracks_.end() &&
                         person.pose.validCount() >= config_.min_joints &&
                         person.score >= config_.min_score &&
                         similarity(*performer, person.pose, performer->lost + 1) >= config_.min_similarity;
  if (continues) observe(*performer, person.pose, performer->lost + 1);
  for (Track& t : tracks_) {
    if (!(continues && t.id == performer_)) ++t.lost;
  }
  if (continues) {
    performer_last_box_ = performer->box;
    out.performer_track = performer_;
    out.people.push_back({performer_, person.pose, person.score});
  }
  endLostTracks();
  return out;
}

void PerformerTracker::refinePerformer(const Pose& pose) {
  for (Track& t : tracks_) {
    if (t.id != performer_ || t.lost != 0) continue;
    // Redo this frame's sighting with the better pose.
    t.pose = t.previous_pose;
    t.velocity = t.previous_velocity;
    --t.sightings;
    observe(t, pose, t.previous_elapsed);
    performer_last_box_ = t.box;
  }
}

std::optional<cv::Point2f> PerformerTracker::feetOf(const Pose& pose) {
  const Keypoint& l = pose[Coco17::kLeftAnkle];
  const Keypoint& r = pose[Coco17::kRightAnkle];
  if (isUsable(l) && isUsable(r)) return cv::Point2f((l.x + r.x) / 2, (l.y + r.y) / 2);
  if (isUsable(l)) return cv::Point2f(l.x, l.y);
  if (isUsable(r)) return cv::Point2f(r.x, r.y);
  std::optional<cv::Point2f> lowest;
  for (const Keypoint& k : pose.points) {
    if (isUsable(k) && (!lowest || k.y > lowest->y)) lowest = cv::Point2f(k.x, k.y);
  }
  return lowest;
}

bool PerformerTracker::inZone(const Pose& pose) const {
  if (!(config_.zone.width > 0 && config_.zone.height > 0)) return true;
  const auto feet = feetOf(pose);
  if (!feet || frame_size_.width <= 0 || frame_size_.height <= 0) return false;
  const cv::Point2f f(feet->x / static_cast<float>(frame_size_.width),
                     feet->y / static_cast<float>(frame_size_.height));
  const cv::Rect2f& z = config_.zone;
  return f.x >= z.x && f.x <= z.x + z.width && f.y >= z.y && f.y <= z.y + z.height;
}

void PerformerTracker::mergeSplitTracks(std::vector<int>& id_of_person) {
  // A track unseen this frame whose person is plainly one seen this frame
  // (they overlap or agree like one person in consecutive frames) was split
  // off by a bad frame. The performer's track takes the detection back
  // (unless it is a known bystander's); any other split-off track goes.
  for (Track& lost : tracks_) {
    if (lost.lost == 0 || lost.lost > config_.max_lost_frames) continue;
    for (Track& seen : tracks_) {
      if (seen.lost != 0 || similarity(lost, seen.pose, lost.lost) < config_.same_person) continue;
      if (lost.id == performer_) {
        if (seen.beside_performer) break;  // a bystander in the performer's place
        for (int& id : id_of_person) {
          if (id == seen.id) id = lost.id;
        }
        observe(lost, seen.pose, lost.lost);
        seen.lost = config_.max_lost_frames + 1;  // removed with the ended tracks
      } else if (!(lost.arrived && lost.sightings >= 2)) {
        // A fragment goes; someone who came from elsewhere and was seen
        // more than once is passing the other (e.g. in front), not part
        // of them, and keeps their track until it ends unseen.
        lost.lost = config_.max_lost_frames + 1;
      }
      break;
    }
  }
}

void PerformerTracker::choosePerformer(const std::vector<int>& seen_tracks) {
  const cv::Point2f frame_centre(static_cast<float>(frame_size_.width) / 2,
                                 static_cast<float>(frame_size_.height) / 2);
  const float half_diagonal = std::max(1.f, std::hypot(frame_centre.x, frame_centre.y));
  float best = 0;
  int best_id = -1;
  for (const Track& t : tracks_) {
    if (std::find(seen_tracks.begin(), seen_tracks.end(), t.id) == seen_tracks.end()) continue;
    // Size by the diagonal, not the area: a person with arms down is narrow,
    // and narrow is not small.
    const float size = std::hypot(t.box.width, t.box.height) / (2 * half_diagonal);
    if (size < config_.min_performer_size || t.pose.validCount() < config_.min_performer_joints) {
      continue;
    }
    if (!had_performer_ && !inZone(t.pose)) continue;  // the first performer stands in the zone
    if (had_performer_) {
      if (t.beside_performer) continue;  // a known bystander
      const float reach = config_.reacquire_radius * sizeOf(performer_last_box_);
      const cv::Point2f d = centreOf(t.box) - centreOf(performer_last_box_);
      if (std::hypot(d.x, d.y) > reach) continue;
    }
    const cv::Point2f d = centreOf(t.box) - frame_centre;
    const float centrality = std::max(0.f, 1.f - std::hypot(d.x, d.y) / half_diagonal);
    const float merit = size * centrality;
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
