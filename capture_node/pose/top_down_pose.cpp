#include "capture_node/pose/top_down_pose.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace booth {
namespace {

float iou(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.f;
}

// How sure MoveNet is that this is a person: the mean joint score.
float meanScore(const Pose& pose) {
  float sum = 0;
  for (const Keypoint& k : pose.points) sum += std::isfinite(k.confidence) ? k.confidence : 0.f;
  return sum / kCoco17Count;
}

bool samePose(const Pose& a, const Pose& b) {
  for (int j = 0; j < kCoco17Count; ++j) {
    const Keypoint& p = a.points[j];
    const Keypoint& q = b.points[j];
    if (p.x != q.x || p.y != q.y || p.confidence != q.confidence) return false;
  }
  return true;
}

}  // namespace

int TopDownConfig::finderEvery(double fps) const {
  if (!(finder_hz > 0) || !(fps > 0)) return 1;
  return std::max(1, static_cast<int>(std::lround(fps / finder_hz)));
}

TopDownPose::TopDownPose(TopDownConfig config, TrackerConfig tracker, cv::Size frame_size,
                         double fps)
    : config_(config),
      tracker_(tracker, frame_size),
      finder_every_(config.finderEvery(fps)) {}

bool TopDownPose::torsoSeen(const Pose& pose) const {
  const auto seen = [&](Coco17 j) { return pose[j].confidence >= config_.min_crop_score; };
  return (seen(Coco17::kLeftHip) || seen(Coco17::kRightHip)) &&
         (seen(Coco17::kLeftShoulder) || seen(Coco17::kRightShoulder));
}

void TopDownPose::lose() {
  previous_.reset();  // the next frame is a finder frame
}

TrackedFrame TopDownPose::noPose() {
  last_ = {};
  lose();
  if (tracked_this_frame_) return {};  // the frame failed after the tracker saw it
  return tracker_.update({});
}

Result<TrackedFrame> TopDownPose::update(const CapturedFrame& frame, const cv::Mat& image,
                                         PoseEstimator& finder, MoveNetEstimator& crop) {
  last_ = {};
  tracked_this_frame_ = false;
  // Tracks unseen for three finder periods are not trusted to be where their
  // motion puts them.
  occlusion_ = assessOcclusion(tracker_.predictTracks(1), finder_every_, 3 * finder_every_,
                               config_.occlusion, occlusion_.occluder);
  last_.near = occlusion_.near;
  if (occlusion_.occluder >= 0) {
    Result<TrackedFrame> out = occludedFrame(frame, image, finder);
    if (!out) lose();
    return out;
  }
  cv::Rect2f from_keypoints;
  if (previous_) from_keypoints = MoveNetEstimator::cropFromKeypoints(*previous_, image.size(), config_.min_crop_score);
  const bool finder_due = !previous_ || from_keypoints.empty() || occlusion_.near ||
                          since_finder_ + 1 >= finder_every_;
  Result<TrackedFrame> out = finder_due ? finderFrame(frame, image, finder, crop)
                                        : cropFrame(image, from_keypoints, crop);
  if (!out) lose();  // the caller records the frame with noPose()
  return out;
}

Result<TrackedFrame> TopDownPose::cropFrame(const cv::Mat& image, const cv::Rect2f& crop,
                                            MoveNetEstimator& net) {
  ++since_finder_;
  last_.crop = crop;
  ++last_.crops;
  auto pose = net.estimate(image, crop);
  if (!pose) return fail(pose.error());
  TrackedFrame tracked = tracker_.followPerformer({*pose, meanScore(*pose)});
  tracked_this_frame_ = true;
  if (tracked.performer_track >= 0 && torsoSeen(*pose)) {
    previous_ = std::move(pose.value());
  } else {
    lose();
  }
  return tracked;
}

bool TopDownPose::takenByOther(const Pose& pose) const {
  if (!occlusion_.near) return false;
  const int performer = tracker_.performerTrack();
  const float mine = tracker_.similarityToTrack(performer, pose);
  for (const TrackPrediction& t : tracker_.predictTracks(1)) {
    if (t.performer || !t.arrived || t.lost > 3 * finder_every_) continue;
    if (tracker_.similarityToTrack(t.id, pose) > mine) return true;
  }
  return false;
}

Result<TrackedFrame> TopDownPose::occludedFrame(const CapturedFrame& frame, const cv::Mat& image,
                                                PoseEstimator& finder) {
  since_finder_ = 0;
  last_.finder_ran = true;
  last_.occluded = true;
  auto found = finder.estimate(frame, image);
  if (!found) return fail(found.error());
  TrackedFrame tracked = tracker_.update(std::move(found.value()), /*performer_hidden=*/true);
  tracked_this_frame_ = true;
  tracked.performer_occluded = true;
  // previous_ stays: the crop is placed again from the performer's last
  // keypoints once they are clear.
  return tracked;
}

Result<TrackedFrame> TopDownPose::finderFrame(const CapturedFrame& frame, const cv::Mat& image,
                                              PoseEstimator& finder, MoveNetEstimator& net) {
  since_finder_ = 0;
  last_.finder_ran = true;
  auto found = finder.estimate(frame, image);
  if (!found) return fail(found.error());
  std::vector<PersonDetection> people = std::move(found.value());

  // MoveNet where the performer was: it replaces the finder's detection of
  // the same person (more precise joints for the tracker and the record).
  std::optional<Pose> from_crop;
  std::optional<std::pair<Pose, Pose>> replaced;  // (MoveNet's, the finder's it replaced)
  if (previous_) {
    const cv::Rect2f crop = MoveNetEstimator::cropFromKeypoints(*previous_, image.size(), config_.min_crop_score);
    if (!crop.empty()) {
      last_.crop = crop;
      ++last_.crops;
      auto pose = net.estimate(image, crop);
      if (!pose) return fail(pose.error());
      if (takenByOther(*pose)) {
        // MoveNet followed the one in front: the performer is hidden.
        last_.occluded = true;
        TrackedFrame tracked = tracker_.update(std::move(people), /*performer_hidden=*/true);
        tracked_this_frame_ = true;
        tracked.performer_occluded = true;
        lose();
        return tracked;
      }
      from_crop = std::move(pose.value());
      const cv::Rect2f box = PerformerTracker::boxOf(*from_crop);
      float best = config_.min_match_iou;
      PersonDetection* match = nullptr;
      for (PersonDetection& p : people) {
        const float overlap = iou(box, PerformerTracker::boxOf(p.pose));
        if (overlap >= best) {
          best = overlap;
          match = &p;
        }
      }
      if (match != nullptr) {
        replaced = std::pair{*from_crop, match->pose};
        match->pose = *from_crop;
      } else if (torsoSeen(*from_crop)) {
        // The finder missed the performer (e.g. half hidden); MoveNet did not.
        people.push_back({*from_crop, meanScore(*from_crop)});
      }
    }
  }
  TrackedFrame tracked = tracker_.update(std::move(people));
  tracked_this_frame_ = true;
  TrackedPerson* performer = nullptr;
  for (TrackedPerson& p : tracked.people) {
    if (p.track_id == tracked.performer_track) performer = &p;
  }
  // MoveNet's pose on anyone but the performer goes back to the finder's.
  for (TrackedPerson& p : tracked.people) {
    if (&p != performer && replaced && samePose(p.pose, replaced->first)) p.pose = replaced->second;
  }
  if (performer == nullptr) {
    lose();
    return tracked;
  }
  if (!(from_crop && samePose(performer->pose, *from_crop))) {
    // No crop yet, or it went to someone else: crop the finder's box.
    const cv::Rect2f crop = MoveNetEstimator::cropFromBox(PerformerTracker::boxOf(performer->pose),
                                                          config_.crop_box_scale);
    last_.crop = crop;
    ++last_.crops;
    auto pose = net.estimate(image, crop);
    if (!pose) return fail(pose.error());
    performer->pose = std::move(pose.value());
    performer->score = meanScore(performer->pose);
    tracker_.refinePerformer(performer->pose);
  }
  if (torsoSeen(performer->pose)) {
    previous_ = performer->pose;
  } else {
    lose();
  }
  return tracked;
}

}  // namespace booth
