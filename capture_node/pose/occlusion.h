#pragma once
// Occlusion of the performer by another person, from the tracker's motion
// model (PerformerTracker::predictTracks): the top-down stage asks, before
// each frame, whether anyone is about to pass the performer (then the
// person finder runs every frame, so everyone's track stays current) and
// whether someone in front covers the performer (then the crop network,
// which sees one person, would follow whoever is in front: the performer is
// recorded as not seen for that frame and the crop is placed again once
// they are clear).
//
// "In front": people stand on one floor, so the one whose feet are lower in
// the image is nearer the camera. Without both people's feet the other
// person counts as in front (the safe side: a frame lost, not a wrong
// joint).
#include <vector>

#include "capture_node/pose/performer_tracker.h"

namespace booth {

struct OcclusionConfig {
  float near_margin = 0.5f;  // another person within this many of their own box widths: near
  float cover = 0.5f;        // someone in front overlapping this share of the narrower box's width...
  float centre_inset = 0.15f;  // ...and their centre this far (share of its width) inside it: occluded
  float behind = 0.05f;      // feet higher by this share of the performer's box height: behind
};

struct OcclusionAssessment {
  bool near = false;  // someone beside the performer or heading into them within the lookahead
  int occluder = -1;  // the track in front covering the performer; -1: none
  float cover = 0;    // the horizontal overlap, as a share of the narrower box's width
};

// `tracks`: every live track predicted for the coming frame; `lookahead`:
// frames ahead in which a meeting counts as near; tracks unseen for more
// than `stale_frames` are ignored (their prediction is a guess). Nothing
// when there is no performer among `tracks`.
// `occluder`: the track that occluded the performer in the frame before
// (-1: none); it keeps doing so until its centre has left the performer's
// box (not just its middle), so that the crop is not placed again while
// the two still overlap.
OcclusionAssessment assessOcclusion(const std::vector<TrackPrediction>& tracks, int lookahead,
                                    int stale_frames, const OcclusionConfig& config,
                                    int occluder = -1);

}  // namespace booth
