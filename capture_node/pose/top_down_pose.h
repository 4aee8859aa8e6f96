#pragma once
// TopDownPose: one camera's pose, the way MoveNet's and MediaPipe's demos do
// it. The multi-person network (the person finder, OpenPoseEstimator) runs
// at a low rate and whenever the performer's track is uncertain or lost;
// it keeps everyone's track id and decides, through the PerformerTracker,
// who the performer is. The crop network (MoveNetEstimator) runs on every
// frame on a square crop around the performer, placed from the previous
// frame's keypoints (MoveNet's crop rule) or, when there are none or they
// went to someone else, from the finder's box of the performer.
//
// Per frame, in order:
//   - a crop frame (the finder is not due): MoveNet on the crop from the
//     previous keypoints; the tracker's followPerformer() accepts the pose
//     when it continues the performer's track. The record's people: the
//     performer alone.
//   - a finder frame (every `finder_every` frames, or the frame after an
//     uncertain one, or when no crop can be placed): the finder's people;
//     MoveNet on the crop from the previous keypoints replaces the finder
//     detection it overlaps (or joins them when it overlaps none and its
//     torso is seen); the tracker matches everyone. When the performer's
//     detection is not MoveNet's, MoveNet runs again on the crop from the
//     finder's box and that becomes the performer's pose (refinePerformer).
//     Everyone else keeps the finder's keypoints.
// Uncertain: the performer was not continued, or MoveNet's torso is not
// seen (a hip and a shoulder >= min_crop_score): the next frame is a
// finder frame.
//
// Crossings (occlusion.h): before each frame the tracker's motion model
// predicts everyone's box. While someone is near the performer or heading
// into them, the finder runs on every frame (everyone's track and velocity
// stay current). While someone in front covers the performer's predicted
// box, the frame is an occluded frame: the finder runs, the tracker holds
// the performer's track (no detection is given to it), MoveNet does not
// run, and the record has no performer (TrackedFrame::performer_occluded);
// the crop is placed again from the performer's last keypoints once they
// are clear (and from the finder's box if those no longer continue them). A
// crop whose pose continues another person near the performer better than
// the performer's predicted pose counts as occluded too.
//
// Threading: one per camera, frames in order from one thread at a time;
// the networks belong to the calling worker.
#include <optional>

#include <opencv2/core.hpp>

#include "capture_node/pose/movenet_estimator.h"
#include "capture_node/pose/occlusion.h"
#include "capture_node/pose/performer_tracker.h"
#include "capture_node/pose/pose_estimator.h"

namespace booth {

struct TopDownConfig {
  double finder_hz = 6;           // finder runs per second of a camera; 0: every frame
  float min_crop_score = 0.2f;    // MoveNet's crop rule: torso joints scoring at least this
  float crop_box_scale = 1.25f;   // a crop from a finder box: this x the box's longer side
  float min_match_iou = 0.3f;     // MoveNet's pose is the finder detection it overlaps this much
  OcclusionConfig occlusion;
  // The finder's period in frames for a `fps` camera: round(fps / finder_hz), >= 1.
  int finderEvery(double fps) const;
};

// What one frame cost: for stats and the bench.
struct TopDownFrameInfo {
  bool finder_ran = false;
  int crops = 0;           // MoveNet runs (0..2)
  cv::Rect2f crop;         // the last crop (empty: none)
  bool near = false;       // someone near the performer (the finder ran for that)
  bool occluded = false;   // the performer was hidden (no performer this frame)
};

class TopDownPose {
 public:
  TopDownPose(TopDownConfig config, TrackerConfig tracker, cv::Size frame_size, double fps);

  // One frame. Error (a network failed; the message names the frame):
  // call noPose() for the frame (the tracker counts it as a frame without
  // pose); the next frame is a finder frame.
  Result<TrackedFrame> update(const CapturedFrame& frame, const cv::Mat& image,
                              PoseEstimator& finder, MoveNetEstimator& crop);
  // A frame that could not be posed (it did not decode, or update() failed
  // on it): nobody seen.
  TrackedFrame noPose();

  const TopDownFrameInfo& lastFrame() const { return last_; }
  int finderEvery() const { return finder_every_; }
  int performerTrack() const { return tracker_.performerTrack(); }

 private:
  Result<TrackedFrame> cropFrame(const cv::Mat& image, const cv::Rect2f& crop,
                                 MoveNetEstimator& net);
  Result<TrackedFrame> finderFrame(const CapturedFrame& frame, const cv::Mat& image,
                                   PoseEstimator& finder, MoveNetEstimator& net);
  Result<TrackedFrame> occludedFrame(const CapturedFrame& frame, const cv::Mat& image,
                                     PoseEstimator& finder);
  // The crop's pose continues someone near the performer better than the
  // performer (MoveNet followed the one in front).
  bool takenByOther(const Pose& pose) const;
  bool torsoSeen(const Pose& pose) const;
  void lose();

  TopDownConfig config_;
  PerformerTracker tracker_;
  int finder_every_ = 1;
  int since_finder_ = 0;           // frames since the finder last ran
  std::optional<Pose> previous_;   // the performer's crop-network pose in the last frame
  OcclusionAssessment occlusion_;  // this frame's, before it was posed
  bool tracked_this_frame_ = false;  // update() reached the tracker (noPose() must not again)
  TopDownFrameInfo last_;
};

}  // namespace booth
