#pragma once
// PerformerTracker: gives every person a track id across the frames of one
// camera and decides which track is the performer, so that a bystander, a
// reflection or a shadow never becomes the dancer and other people never
// become training keypoints.
//
// Tracks: each frame's people are matched to the live tracks greedily, most
// similar pair first. Similarity is OKS-like: the mean over joints seen in
// both of exp(-d^2 / (2 (sigma * scale)^2)), d the joint's displacement
// since the track was last seen, scale the track's size (its keypoints'
// bounding-box diagonal); a pair below `min_similarity` is no match. The
// allowed displacement grows with the frames a track has been unseen. A
// person matching no track starts a new one (ids count up from 0 and are
// never reused); a track unseen for more than `max_lost_frames` ends.
//
// The performer: the first track that is big enough (`min_performer_area`
// of the frame, `min_performer_joints` joints) is chosen by size times
// centrality (largest and most central); from then on the performer is that
// track, whatever else is in view. When the performer's track is unseen the
// frame has no performer (-1), and the same track resumes if it is matched
// again. Only when it has ended may another track take over, and then only
// one that never coexisted with the performer (everyone seen beside the
// performer is a known bystander) and that appears near where the performer
// was last seen (its centre within `reacquire_radius` of the performer's
// size).
//
// Threading: one tracker per camera, called from one thread, frames in
// order (including frames without pose: update({})).
#include <vector>

#include <opencv2/core.hpp>

#include "capture_node/pose/pose_estimator.h"

namespace booth {

struct TrackerConfig {
  float min_similarity = 0.3f;   // OKS-like similarity below this is no match
  float sigma = 0.1f;            // joint spread, fraction of the track's size
  float sigma_growth = 0.5f;     // per unseen frame, sigma grows by this fraction of itself
  int max_lost_frames = 30;      // a track unseen for longer ends (frames)
  int min_joints = 4;            // people with fewer usable joints are ignored
  float min_score = 0.f;         // people with a lower PersonDetection::score are ignored
  float min_performer_area = 0.02f;  // bounding box / frame area to be chosen performer
  int min_performer_joints = 8;
  float reacquire_radius = 1.0f;  // in performer sizes, see above
};

struct TrackedPerson {
  int track_id = -1;
  Pose pose;
  float score = 0;
};

struct TrackedFrame {
  std::vector<TrackedPerson> people;
  int performer_track = -1;  // -1: no performer this frame
  // The performer's entry in `people`, nullptr if none (valid while the
  // TrackedFrame lives and `people` is unchanged).
  const TrackedPerson* performer() const;
};

class PerformerTracker {
 public:
  PerformerTracker(TrackerConfig config, cv::Size frame_size);
  // Call once per frame, in frame order; {} for frames without pose.
  TrackedFrame update(std::vector<PersonDetection> people);
  // Forget every track and the performer (a new session).
  void reset();

  int performerTrack() const { return performer_; }  // -1 before one is chosen or after it ended

 private:
  struct Track {
    int id = -1;
    Pose pose;              // last seen
    cv::Rect2f box;         // of the last seen pose
    int lost = 0;           // frames since last seen
    bool beside_performer = false;  // ever seen in a frame with the performer
  };

  float similarity(const Track& track, const Pose& pose) const;
  void choosePerformer(const std::vector<int>& seen_tracks);

  TrackerConfig config_;
  cv::Size frame_size_;
  std::vector<Track> tracks_;
  int next_id_ = 0;
  int performer_ = -1;
  bool had_performer_ = false;
  cv::Rect2f performer_last_box_;
};

}  // namespace booth
