// The tracker's constant-velocity motion model and the occlusion rules of
// the top-down stage, on synthetic people: a performer standing on the mark
// and a bystander walking across in front of them.
#include "capture_node/pose/occlusion.h"

#include <gtest/gtest.h>

#include "capture_node/pose/performer_tracker.h"

namespace booth {
namespace {

const cv::Size kFrame(1280, 720);

// A person-shaped set of 17 joints, `height` px tall, feet at `feet_y`,
// centred on `cx`.
PersonDetection personAt(float cx, float height = 400, float feet_y = 650) {
  Pose pose;
  const float top = feet_y - height;
  for (int j = 0; j < kCoco17Count; ++j) {
    const float side = (j % 2 == 0 ? -1.f : 1.f) * (j == 0 ? 0.f : 0.12f * height);
    pose.points[j] = {cx + side, top + height * static_cast<float>(j) / 16.f, 0.9f, false};
  }
  return {pose, 0.8f};
}

int idNear(const TrackedFrame& f, float cx) {
  for (const TrackedPerson& p : f.people) {
    if (std::abs(PerformerTracker::boxOf(p.pose).x + PerformerTracker::boxOf(p.pose).width / 2 - cx) < 2) {
      return p.track_id;
    }
  }
  return -1;
}

TEST(MotionModel, AWalkerUnseenForSomeFramesKeepsTheirIdWhereTheirSpeedPutsThem) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  int walker = -1;
  float x = 100;
  for (int t = 0; t < 4; ++t, x += 40) walker = idNear(tracker.update({personAt(640), personAt(x)}), x);
  ASSERT_GE(walker, 0);
  for (int t = 0; t < 6; ++t, x += 40) tracker.update({personAt(640)});  // walker not seen
  // 240 px on, no overlap with where they were last seen: only the motion
  // model connects them.
  EXPECT_EQ(idNear(tracker.update({personAt(640), personAt(x)}), x), walker);
}

TEST(MotionModel, PredictedBoxesMoveWithTheTracksVelocity) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  for (int t = 0; t < 4; ++t) tracker.update({personAt(640), personAt(100 + 30.f * t)});
  tracker.update({personAt(640)});  // the walker unseen for one frame
  for (const TrackPrediction& p : tracker.predictTracks(1)) {
    const float cx = p.box.x + p.box.width / 2;
    if (p.performer) {
      EXPECT_NEAR(cx, 640, 1);
      EXPECT_NEAR(p.velocity.x, 0, 1e-3);
    } else {
      EXPECT_NEAR(p.velocity.x, 30, 1);
      EXPECT_NEAR(cx, 100 + 30.f * 5, 2);  // last seen at frame 3, predicted for frame 5
      EXPECT_EQ(p.lost, 1);
      EXPECT_TRUE(p.arrived);
    }
  }
}

TEST(MotionModel, AHiddenPerformersTrackTakesNoDetectionAndResumesAfterwards) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  const int performer = tracker.update({personAt(640)}).performer_track;
  ASSERT_GE(performer, 0);
  // Hidden: the detection where the performer is (a glimpse of them, or the
  // two merged) is given to nobody; the bystander keeps theirs.
  const TrackedFrame hidden = tracker.update({personAt(640), personAt(300)}, /*performer_hidden=*/true);
  EXPECT_EQ(hidden.performer_track, -1);
  ASSERT_EQ(hidden.people.size(), 1u);
  EXPECT_NE(hidden.people[0].track_id, performer);
  const TrackedFrame back = tracker.update({personAt(640), personAt(300)});
  EXPECT_EQ(back.performer_track, performer);
  EXPECT_EQ(idNear(back, 640), performer);
}

// Predictions as the tracker would give them.
TrackPrediction performerBox() {
  TrackPrediction p;
  p.id = 0;
  p.performer = true;
  p.box = {580, 250, 120, 400};
  p.extent = p.box;
  p.feet = cv::Point2f(640, 650);
  p.sightings = 50;
  p.arrived = true;
  return p;
}

TrackPrediction walker(float cx, float vx, float feet_y = 660) {
  TrackPrediction p;
  p.id = 7;
  p.box = {cx - 15, 260, 30, 390};  // the finder saw a slice: a leg and the trunk
  p.extent = {cx - 50, 250, 100, 410};
  p.velocity = {vx, 0};
  p.feet = cv::Point2f(cx, feet_y);
  p.sightings = 6;
  p.arrived = true;
  return p;
}

TEST(Occlusion, SomeoneFarAwayIsNeitherNearNorInFront) {
  const auto a = assessOcclusion({performerBox(), walker(200, 0)}, 5, 15, OcclusionConfig{});
  EXPECT_FALSE(a.near);
  EXPECT_EQ(a.occluder, -1);
}

TEST(Occlusion, SomeoneHeadingIntoThePerformerWithinTheLookaheadIsNear) {
  // 400 px away at 60 px a frame: they meet within 5 frames, not now.
  const auto soon = assessOcclusion({performerBox(), walker(400, 60)}, 5, 15, OcclusionConfig{});
  EXPECT_TRUE(soon.near);
  EXPECT_EQ(soon.occluder, -1);
  const auto standing = assessOcclusion({performerBox(), walker(400, 0)}, 5, 15, OcclusionConfig{});
  EXPECT_FALSE(standing.near);
}

TEST(Occlusion, SomeoneInFrontOverThePerformersMiddleOccludesThem) {
  const auto a = assessOcclusion({performerBox(), walker(640, 14)}, 5, 15, OcclusionConfig{});
  EXPECT_TRUE(a.near);
  EXPECT_EQ(a.occluder, 7);
  EXPECT_GT(a.cover, 0.5f);
}

TEST(Occlusion, SomeoneBehindThePerformerDoesNotOccludeThem) {
  // Feet 60 px higher in the image: farther from the camera.
  const auto a = assessOcclusion({performerBox(), walker(640, 14, 590)}, 5, 15, OcclusionConfig{});
  EXPECT_TRUE(a.near);
  EXPECT_EQ(a.occluder, -1);
}

TEST(Occlusion, AFragmentOfThePerformerOrAStalePredictionIsNoOccluder) {
  TrackPrediction fragment = walker(640, 0);
  fragment.arrived = false;  // first seen inside the performer's box
  EXPECT_EQ(assessOcclusion({performerBox(), fragment}, 5, 15, OcclusionConfig{}).occluder, -1);
  TrackPrediction stale = walker(640, 14);
  stale.lost = 16;
  EXPECT_EQ(assessOcclusion({performerBox(), stale}, 5, 15, OcclusionConfig{}).occluder, -1);
  TrackPrediction once = walker(640, 14);
  once.sightings = 1;  // one sighting: near, but no velocity to trust
  const auto a = assessOcclusion({performerBox(), once}, 5, 15, OcclusionConfig{});
  EXPECT_TRUE(a.near);
  EXPECT_EQ(a.occluder, -1);
}

TEST(Occlusion, TheOccluderKeepsCoveringUntilItsCentreHasLeftThePerformersBox) {
  // Centre 10 px inside the performer's right edge: past the middle band.
  const TrackPrediction leaving = walker(690, 14);
  EXPECT_EQ(assessOcclusion({performerBox(), leaving}, 5, 15, OcclusionConfig{}).occluder, -1);
  EXPECT_EQ(assessOcclusion({performerBox(), leaving}, 5, 15, OcclusionConfig{}, 7).occluder, 7);
  const TrackPrediction gone = walker(710, 14);
  EXPECT_EQ(assessOcclusion({performerBox(), gone}, 5, 15, OcclusionConfig{}, 7).occluder, -1);
}

TEST(Occlusion, NoPerformerNoAssessment) {
  TrackPrediction p = performerBox();
  p.performer = false;
  p.id = 3;
  const auto a = assessOcclusion({p, walker(640, 14)}, 5, 15, OcclusionConfig{});
  EXPECT_FALSE(a.near);
  EXPECT_EQ(a.occluder, -1);
}

}  // namespace
}  // namespace booth
