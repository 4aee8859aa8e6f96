#pragma once
// PoseSampler: which of a camera's frames the network runs on. Pose at
// 120 fps is oversampled: joints move a few pixels per frame, far less
// than the network's own frame-to-frame noise, so running the network on
// every n-th frame and letting the fixed-lag smoother interpolate the rest
// (marked imputed) costs little accuracy and divides the pose cost by n
// (measured in bench/run.sh pose: pose.session_seconds[every=N] and the
// interpolation error pose.smoothing_rms_px[every=N]).
//
// The frames in between skip the tracker (its lifetimes are counted in
// posed frames: PoseWorkerPool sizes it for camera_fps / every()) and go
// through the smoother as frames without pose (smoother.push(sequence,
// nullopt)), whose max_gap is at least every() - 1, so their final records
// carry the performer's interpolated keypoints.
//
// Immutable; any thread.
#include <cstdint>

namespace booth {

class PoseSampler {
 public:
  // Poses at most `max_pose_fps` frames per second of a `camera_fps`
  // camera: every n-th frame, n = ceil(camera_fps / max_pose_fps) (1 when
  // either is not positive).
  PoseSampler(double camera_fps, double max_pose_fps);
  int every() const { return every_; }
  // By sequence number, so dropped frames do not shift the pattern.
  bool shouldPose(std::uint64_t sequence) const { return sequence % static_cast<unsigned>(every_) == 0; }

 private:
  int every_ = 1;
};

}  // namespace booth
