#pragma once
// PerformerTracker: gives every person a track id across the frames of one
// camera and decides which track is the performer, so that a bystander, a
// reflection or a shadow never becomes the dancer and other people never
// become training keypoints.
//
// Tracks: each frame's people are matched to the live tracks greedily, most
// similar pair first. Similarity is the larger of two: OKS-like keypoint
// agreement, the mean over joints seen in both of
// exp(-d^2 / (2 (sigma * scale)^2)), d the joint's displacement since the
// track was last seen, scale the track's size (its keypoints' bounding-box
// diagonal), with the allowed displacement growing with the frames a track
// has been unseen; and the overlap (IoU) of the keypoints' bounding boxes,
// which carries a person through frames where a few joints jump. A pair
// below `min_similarity` is no match (ties go to the performer, then the
// older track). A track left unseen whose last pose is `same_person`
// similar to a track seen this frame was split off by a bad frame: if it is
// the performer's, it takes the detection back (unless that is a known
// bystander); otherwise it ends. A
// person matching no track starts a new one (ids count up from 0 and are
// never reused); a track unseen for more than `max_lost_frames` ends.
//
// The performer: the first track that is big enough (its keypoints'
// bounding-box diagonal at least `min_performer_size` of the frame's
// diagonal, and `min_performer_joints` joints) and, when a performance
// zone is set, whose feet stand in the zone, is chosen by size times
// centrality (largest and most central); from then on the performer is that
// track, whatever else is in view. When the performer's track is unseen the
// frame has no performer (-1), and the same track resumes if it is matched
// again. Only when it has ended may another track take over, and then only
// one that never coexisted with the performer (everyone seen beside the
// performer, apart from fragments mostly inside the performer's box, is a
// known bystander) and that appears near where the performer was last seen
// (its centre within `reacquire_radius` of the performer's size).
//
// Motion: every track, bystanders included, has a constant-velocity model
// (its joints' mean displacement per frame, averaged over its last
// sightings, at most `max_speed` track sizes per frame). A track is matched
// where it is predicted to be now, not where it was last seen, so a person
// walking across keeps their id through the frames the finder does not
// run or does not see them; predictTracks() gives every live track's
// predicted box for the occlusion rules of the top-down stage.
//
// Top-down pose (top_down_pose.h) looks at the performer alone on most
// frames: followPerformer() takes that one pose, which continues the
// performer's track when it agrees with it; everyone else ages unseen.
// refinePerformer() replaces the performer's pose of the frame just
// tracked by a better one (the crop network's) for the next match.
//
// Threading: one tracker per camera, called from one thread, frames in
// order (including frames without pose: update({})).
#include <optional>
#include <vector>

#include <opencv2/core.hpp>

#include "capture_node/pose/pose_estimator.h"

namespace booth {

struct TrackerConfig {
  float min_similarity = 0.3f;   // similarity below this is no match
  float same_person = 0.5f;      // an unseen track this similar to a seen one is its duplicate
  float sigma = 0.1f;            // joint spread, fraction of the track's size
  float sigma_growth = 0.5f;     // per unseen frame, sigma grows by this fraction of itself
  int max_lost_frames = 30;      // a track unseen for longer ends (frames)
  int min_joints = 4;            // people with fewer usable joints are ignored
  float min_score = 0.f;         // people with a lower PersonDetection::score are ignored
  float min_performer_size = 0.15f;  // box diagonal / frame diagonal to be chosen performer
  int min_performer_joints = 8;
  float reacquire_radius = 1.0f;  // in performer sizes, see above
  float max_speed = 0.25f;        // track sizes per frame (at 30 fps): the velocity's cap
  // The performance zone (the floor mark), normalised to the frame (x, y,
  // width, height in 0..1): the first performer must have their feet in it
  // (the ankles' midpoint, or the lowest joint when no ankle is seen).
  // Empty (width or height 0): no zone, any qualifying person.
  cv::Rect2f zone;

  // The defaults are for 30 fps. The same in time at another frame rate: a
  // track survives one second unseen, and its search radius grows by the
  // same amount per second.
  static TrackerConfig forFrameRate(double fps);
};

struct TrackedPerson {
  int track_id = -1;
  Pose pose;
  float score = 0;
};

// A live track as the motion model sees it, for the frame after the last
// one tracked.
struct TrackPrediction {
  int id = -1;
  bool performer = false;
  cv::Rect2f box;            // predicted box of the usable joints
  cv::Point2f velocity;      // px per frame
  int lost = 0;              // frames since last seen (0: seen in the last frame)
  std::optional<cv::Point2f> feet;  // predicted feet (PerformerTracker::feetOf), if any
  // The person's whole extent: the largest box size of the recent
  // sightings (decaying), around the predicted box's centre. A network
  // that sees only part of someone (a leg and the trunk of a person
  // passing in front) still gives their size.
  cv::Rect2f extent;
  int sightings = 0;
  // First seen clear of the performer's box: someone who came from
  // elsewhere, not a fragment of the performer.
  bool arrived = false;
};

struct TrackedFrame {
  std::vector<TrackedPerson> people;
  int performer_track = -1;  // -1: no performer this frame
  // The performer was hidden behind someone (top-down pose): not seen
  // (performer_track -1), their track held, not lost.
  bool performer_occluded = false;
  // The performer's entry in `people`, nullptr if none (valid while the
  // TrackedFrame lives and `people` is unchanged).
  const TrackedPerson* performer() const;
};

class PerformerTracker {
 public:
  PerformerTracker(TrackerConfig config, cv::Size frame_size);
  // Call once per frame, in frame order; {} for frames without pose.
  // `performer_hidden`: the performer is known to be occluded this frame:
  // the detection that matches their track is dropped (a glimpse of them,
  // or the two merged: given to nobody), their track ages unseen, and
  // nobody is marked a bystander for standing beside them.
  TrackedFrame update(std::vector<PersonDetection> people, bool performer_hidden = false);
  // A frame in which only the performer was looked at (top-down pose: a
  // crop around them). The pose continues the performer's track when it is
  // at least min_similarity like it and has min_joints joints: the frame's
  // one person, the performer. Otherwise nobody is seen. Every other track
  // ages by one frame either way.
  TrackedFrame followPerformer(const PersonDetection& performer);
  // The performer's pose in the frame just tracked, replaced by `pose`
  // (its track's last pose and box, for the next frame's match). No effect
  // when the performer was not seen in that frame.
  void refinePerformer(const Pose& pose);
  // Forget every track and the performer (a new session).
  void reset();

  // Where a person stands: the ankles' midpoint, or the lowest usable joint
  // when no ankle is usable; nullopt without usable joints.
  static std::optional<cv::Point2f> feetOf(const Pose& pose);
  // The bounding box of the usable joints; empty when there are none.
  static cv::Rect2f boxOf(const Pose& pose);

  int performerTrack() const { return performer_; }  // -1 before one is chosen or after it ended
  // Every live track predicted `ahead` frames after the last frame tracked.
  std::vector<TrackPrediction> predictTracks(int ahead = 1) const;
  // How well `pose` continues track `id` where its motion model puts it in
  // the next frame (the matching similarity, 0..1); 0 for no such track.
  float similarityToTrack(int id, const Pose& pose) const;

 private:
  struct Track {
    int id = -1;
    Pose pose;              // last seen
    cv::Rect2f box;         // of the last seen pose
    int lost = 0;           // frames since last seen
    bool beside_performer = false;  // ever seen in a frame with the performer
    cv::Point2f velocity;   // px per frame
    int sightings = 0;
    cv::Size2f extent;      // decaying maximum of the box size
    bool arrived = false;   // first seen clear of the performer's box
    // Before the last sighting, so that refinePerformer() can redo it.
    Pose previous_pose;
    cv::Point2f previous_velocity;
    int previous_elapsed = 0;
  };

  // `ahead`: frames from the track's last sighting to the pose's frame.
  float similarity(const Track& track, const Pose& pose, int ahead) const;
  // `track` seen with `pose`, `elapsed` frames after its last sighting.
  void observe(Track& track, const Pose& pose, int elapsed) const;
  void mergeSplitTracks(std::vector<int>& id_of_person);
  void choosePerformer(const std::vector<int>& seen_tracks);
  void endLostTracks();
  void markBystanders();
  bool inZone(const Pose& pose) const;

  TrackerConfig config_;
  cv::Size frame_size_;
  std::vector<Track> tracks_;
  int next_id_ = 0;
  int performer_ = -1;
  bool had_performer_ = false;
  cv::Rect2f performer_last_box_;
};

}  // namespace booth
