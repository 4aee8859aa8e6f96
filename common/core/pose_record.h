#pragma once
// PoseRecord: the pose of one frame of one camera, as the capture node's
// pose stage finalises it and the trainer stores it. A domain type: the
// wire form (booth.v2.PoseRecord) is converted at the transport edge.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/core/keypoints.h"

namespace booth {

// Where keypoints come from.
enum class PoseOrigin {
  kGroundTruth,  // the synthetic renderer's own keypoints
  kNetwork,      // a pose network's estimate
};

struct PosedPerson {
  int track_id = -1;  // stable within one camera of one session; -1: untracked
  Pose pose;          // raw, as estimated, frame pixels
};

struct PoseRecord {
  std::string camera_id;
  std::uint64_t sequence = 0;  // the frame it belongs to
  std::int64_t capture_time_us = 0;
  PoseOrigin origin = PoseOrigin::kNetwork;
  std::vector<PosedPerson> people;  // everyone found
  int performer_track = -1;         // among people; -1: the performer was not seen
  // The performer's final training keypoints (smoothed, short gaps imputed
  // and flagged); nullopt: no usable pose for this frame.
  std::optional<Pose> performer;
  std::string error;  // non-empty: the frame could not be posed, and why
};

}  // namespace booth
