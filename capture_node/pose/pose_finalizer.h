#pragma once
// PoseFinalizer: turns one camera's per-frame estimates, which pose workers
// finish out of order, into final pose records in frame order. It holds
// estimates until every earlier frame is in (a reorder buffer at most as
// deep as the number of workers), then, one frame at a time and in order,
// tracks the people (the performer chosen and followed by the tracker) and
// feeds the performer's raw pose to the fixed-lag smoother. A frame's
// record is final, and appended to the camera's spool, once the smoother
// has seen L frames after it; finish() flushes the last L.
//
// Threading: submit() from any pose worker; the ordered part runs on
// whichever worker completes the next frame, under the finalizer's mutex,
// so tracker and smoother see one frame at a time.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "capture_node/live/live_preview.h"
#include "capture_node/pose/performer_board.h"
#include "capture_node/pose/performer_tracker.h"
#include "capture_node/spool/camera_spool.h"
#include "common/core/pose_record.h"
#include "common/core/result.h"
#include "common/pose/fixed_lag_smoother.h"

namespace booth {

// What a pose worker found in one frame.
struct FrameEstimate {
  std::uint64_t sequence = 0;
  std::int64_t capture_time_us = 0;
  std::vector<PersonDetection> people;
  std::string error;  // non-empty: the frame could not be posed
  cv::Mat image;      // the decoded frame, for the live tap (empty when not decoded)
  // Not posed on purpose (PoseSampler): the tracker does not see the frame,
  // the smoother interpolates the performer's keypoints over it.
  bool skipped = false;
  // Already tracked (top-down pose tracks as it goes): used instead of
  // `people`, the finalizer's own tracker does not see the frame.
  std::optional<TrackedFrame> tracked;
  cv::Rect2f crop;  // top-down pose: the crop, for the live preview
};

struct PoseFinalizerConfig {
  TrackerConfig tracker;
  // Used as given when smoother_for_camera_fps is false; otherwise both are
  // sized for each camera's frame rate (SmootherConfig::forFrameRate,
  // TrackerConfig::forFrameRate).
  SmootherConfig smoother;
  bool smoother_for_camera_fps = true;
  PoseOrigin origin = PoseOrigin::kNetwork;
  // Where each posed frame is offered for live use (drop, never block);
  // null: nowhere.
  LiveTap<LiveFrame>* live = nullptr;
  // Where each tracked frame's performer box is posted (the operator
  // page's countdown); null: nowhere.
  PerformerBoard* board = nullptr;
  // The network runs on at most this many frames per second of a camera
  // (PoseSampler); the frames in between are interpolated. 0: every frame.
  double max_pose_fps = 0;
  // Performance zones (normalised rectangles) by camera id; a camera not
  // listed gets tracker.zone.
  std::map<std::string, cv::Rect2f> zones;
  // The camera's zone.
  cv::Rect2f zoneFor(const std::string& camera_id) const;
};

class PoseFinalizer {
 public:
  // `first_index`: the first frame index without a final pose (the spool's
  // pose count; non-zero after a restart).
  PoseFinalizer(CameraSpool& spool, PoseFinalizerConfig config, std::size_t first_index,
                cv::Size frame_size);

  // The estimate of frame `index` (spool order). Error: the spool refused a
  // final record (disk), which ends this camera's pose stage.
  Status submit(std::size_t index, FrameEstimate estimate);
  // Every frame up to `frame_count` was submitted: flush the smoother.
  Status finish();
  // Frames whose record is in the spool.
  std::size_t finalized() const;

 private:
  Status process(std::size_t index, FrameEstimate estimate);  // mutex_ held
  Status emit(const std::vector<FinalPose>& finals);           // mutex_ held

  CameraSpool& spool_;
  PoseFinalizerConfig config_;
  mutable std::mutex mutex_;  // guards everything below
  std::size_t next_index_;    // the next frame to process in order
  std::map<std::size_t, FrameEstimate> waiting_;  // finished out of order
  cv::Size frame_size_;
  PerformerTracker tracker_;
  FixedLagSmoother smoother_;
  // Tracked but not yet final, in order: the record minus the performer's
  // final keypoints.
  std::deque<PoseRecord> pending_;
  int last_performer_track_ = -1;  // of the last posed frame, for skipped ones
  std::size_t finalized_;
  bool failed_ = false;
};

}  // namespace booth
