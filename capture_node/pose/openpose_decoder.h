#pragma once
// OpenPoseDecoder: people from an OpenPose-style network's output (part
// heatmaps and part-affinity fields), after Cao et al., "Realtime
// Multi-Person 2D Pose Estimation using Part Affinity Fields" (CVPR 2017):
//
//  1. Part candidates: local maxima of each part's heatmap (3x3 non-maximum
//     suppression) above `peak_threshold`, refined to sub-cell precision by
//     a parabola through the peak and its neighbours, per axis.
//  2. Limb candidates: for each limb (a pair of parts with its two PAF
//     channels), every pair of candidates is scored by the line integral of
//     the PAF along the segment between them (`paf_samples` bilinear
//     samples projected on the segment's direction), with OpenPose's
//     distance prior that penalises limbs longer than half the map height.
//     A pair is kept when at least `paf_min_support` of the samples point
//     along the limb and the score is positive; then, best score first, each
//     candidate takes part in at most one limb of each kind.
//  3. People: limbs are joined into people through shared parts, in the
//     limb table's order; the first parts-1 limbs (the skeleton tree) may
//     start a new person, the redundant ones after them only join. People
//     with fewer than `min_parts` parts or a mean score per part below
//     `min_person_score` are dropped.
//  4. One limb, two labels: when a person's left and right part of a pair
//     (shoulders, elbows, wrists, hips, knees, ankles, eyes, ears) lie
//     within `duplicate_radius` map cells of each other, both heatmaps fired
//     on one physical joint (typically both ankle labels on the standing
//     foot while the other leg is hidden); the less confident label is
//     dropped, to be imputed over time or left missing. Two real joints
//     cannot be told apart inside one cell anyway.
//
// Pure computation over cv::Mat headers: no OpenCV DNN, no state between
// calls; decode() is const and may run on any thread.
#include <span>
#include <vector>

#include <opencv2/core.hpp>

#include "capture_node/pose/model_manifest.h"
#include "capture_node/pose/pose_estimator.h"

namespace booth {

struct OpenPoseDecoderConfig {
  // Heatmap peaks below this are not part candidates (tf-pose-estimation
  // uses 0.05 on maps it first upsamples and blurs; see the .cpp).
  float peak_threshold = 0.1f;
  // A PAF sample supports a limb when its projection on the limb's direction
  // exceeds this.
  float paf_sample_threshold = 0.05f;
  int paf_samples = 10;
  float paf_min_support = 0.8f;  // fraction of samples that must support the limb
  int min_parts = 4;
  // (sum of part and limb scores) / parts found. tf-pose-estimation uses 0.4
  // on its upsampled maps; on these maps 0.4 lost the performer in 6 of the
  // 120 frames of tfjs_pose_1.mp4 (at 368x368), 0.2 in none.
  float min_person_score = 0.2f;
  float duplicate_radius = 1.0f;  // map cells; 0 turns step 4 off
};

class OpenPoseDecoder {
 public:
  // `limbs` index parts 0..parts-1 and PAF channels 0..(pafs.size()-1).
  OpenPoseDecoder(OpenPoseDecoderConfig config, int parts, std::vector<PafLimb> limbs);

  // `heatmaps`: at least `parts` CV_32F maps, all of one size (the first
  // `parts` are used, in OpenPose COCO-18 order); `pafs`: the PAF channels,
  // same size. `cell_to_image`: pixels of the output image per map cell, per
  // axis (a cell's centre, (i + 0.5), maps to (i + 0.5) * scale). Returns
  // COCO-17 people, most confident first.
  std::vector<PersonDetection> decode(std::span<const cv::Mat> heatmaps,
                                      std::span<const cv::Mat> pafs,
                                      cv::Point2f cell_to_image) const;

  const OpenPoseDecoderConfig& config() const { return config_; }

 private:
  OpenPoseDecoderConfig config_;
  int parts_;
  std::vector<PafLimb> limbs_;
};

}  // namespace booth
