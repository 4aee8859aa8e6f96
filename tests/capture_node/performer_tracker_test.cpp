#include "capture_node/pose/performer_tracker.h"

#include <gtest/gtest.h>

namespace booth {
namespace {

const cv::Size kFrame(640, 480);

// A person-shaped set of 17 joints: `height` px tall, feet at `feet_y`,
// centred on `cx`.
PersonDetection personAt(float cx, float height, float feet_y = 450, float score = 0.8f) {
  Pose pose;
  const float top = feet_y - height;
  for (int j = 0; j < kCoco17Count; ++j) {
    // Spread the joints over the body: x alternates left/right of the
    // centre, y runs from head to feet.
    const float side = (j % 2 == 0 ? -1.f : 1.f) * (j == 0 ? 0.f : 0.12f * height);
    pose.points[j] = {cx + side, top + height * static_cast<float>(j) / 16.f, 0.9f, false};
  }
  return {pose, score};
}

PersonDetection moved(PersonDetection p, float dx, float dy) {
  p.pose = transformPose(p.pose, 1.f, dx, dy);
  return p;
}

TEST(PerformerTracker, TheLargestMostCentralPersonBecomesThePerformer) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  const TrackedFrame f = tracker.update({personAt(100, 200), personAt(330, 380), personAt(560, 380)});
  ASSERT_EQ(f.people.size(), 3u);
  ASSERT_NE(f.performer(), nullptr);
  EXPECT_NEAR(f.performer()->pose[Coco17::kNose].x, 330.f, 1e-3);
}

TEST(PerformerTracker, APersonWhoArrivesLaterNeverTakesOver) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  const TrackedFrame first = tracker.update({personAt(200, 250)});
  const int performer = first.performer_track;
  ASSERT_GE(performer, 0);
  for (int i = 1; i < 60; ++i) {
    // A bigger, more central person walks in and stays.
    const TrackedFrame f = tracker.update({personAt(200 + i, 250), personAt(320, 420)});
    ASSERT_EQ(f.performer_track, performer) << "frame " << i;
    EXPECT_NEAR(f.performer()->pose[Coco17::kNose].x, 200.f + i, 1e-3);
  }
}

TEST(PerformerTracker, TrackIdsFollowPeopleAsTheyMoveAndSwapPlacesInTheList) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  const TrackedFrame f0 = tracker.update({personAt(150, 300), personAt(450, 300)});
  ASSERT_EQ(f0.people.size(), 2u);
  const int left_id = f0.people[0].track_id;
  const int right_id = f0.people[1].track_id;
  EXPECT_NE(left_id, right_id);
  // Next frame: both moved a little, listed the other way round.
  const TrackedFrame f1 =
      tracker.update({moved(personAt(450, 300), -6, 2), moved(personAt(150, 300), 5, -1)});
  ASSERT_EQ(f1.people.size(), 2u);
  EXPECT_EQ(f1.people[0].track_id, right_id);
  EXPECT_EQ(f1.people[1].track_id, left_id);
}

TEST(PerformerTracker, APerformerMissingForAFewFramesResumesWithTheSameTrack) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  const int performer = tracker.update({personAt(320, 350)}).performer_track;
  for (int i = 0; i < 5; ++i) {
    const TrackedFrame f = tracker.update({});
    EXPECT_EQ(f.performer_track, -1);
    EXPECT_EQ(f.performer(), nullptr);
  }
  EXPECT_EQ(tracker.update({moved(personAt(320, 350), 20, 0)}).performer_track, performer);
}

TEST(PerformerTracker, AKnownBystanderIsNeverChosenWhenThePerformerLeaves) {
  TrackerConfig config;
  config.max_lost_frames = 3;
  PerformerTracker tracker(config, kFrame);
  const int performer = tracker.update({personAt(320, 380), personAt(560, 250)}).performer_track;
  for (int i = 0; i < 10; ++i) {
    // The performer has gone; the bystander stays (and is big enough).
    EXPECT_EQ(tracker.update({personAt(560, 250)}).performer_track, -1) << i;
  }
  EXPECT_EQ(tracker.performerTrack(), -1);
  // Someone new where the performer was: taken as the performer again.
  const TrackedFrame back = tracker.update({personAt(560, 250), personAt(330, 370)});
  ASSERT_GE(back.performer_track, 0);
  EXPECT_NE(back.performer_track, performer);
  EXPECT_NEAR(back.performer()->pose[Coco17::kNose].x, 330.f, 1e-3);
}

TEST(PerformerTracker, SomeoneNewFarFromWhereThePerformerWasIsNotTaken) {
  TrackerConfig config;
  config.max_lost_frames = 2;
  PerformerTracker tracker(config, kFrame);
  (void)tracker.update({personAt(150, 300)});
  for (int i = 0; i < 4; ++i) (void)tracker.update({});
  EXPECT_EQ(tracker.update({personAt(560, 300)}).performer_track, -1);
}

TEST(PerformerTracker, SmallOrSparsePeopleAreIgnored) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  PersonDetection sparse = personAt(320, 300);
  for (int j = 3; j < kCoco17Count; ++j) sparse.pose.points[j].confidence = 0;
  const TrackedFrame f = tracker.update({sparse, personAt(320, 30)});
  EXPECT_EQ(f.people.size(), 1u);      // the 3-joint one is not a person
  EXPECT_EQ(f.performer_track, -1);    // the tiny one is not a performer
}

TEST(PerformerTracker, ResetStartsOver) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  (void)tracker.update({personAt(320, 350)});
  tracker.reset();
  const TrackedFrame f = tracker.update({personAt(100, 350)});
  EXPECT_EQ(f.people[0].track_id, 0);
  EXPECT_EQ(f.performer_track, 0);
}

TEST(PerformerTracker, APerformerSplitOffByAFastMoveKeepsItsTrack) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  const int performer = tracker.update({personAt(320, 350)}).performer_track;
  ASSERT_GE(performer, 0);
  // A 60 px jump in one frame: too far to match (a new track starts there),
  // but plainly the performer once the unseen track's search radius has
  // grown: the performer's track takes the detection back, with its id.
  const TrackedFrame jump = tracker.update({personAt(380, 350)});
  EXPECT_EQ(jump.performer_track, performer);
  ASSERT_EQ(jump.people.size(), 1u);
  EXPECT_EQ(jump.people[0].track_id, performer);
  EXPECT_EQ(tracker.update({personAt(382, 350)}).performer_track, performer);
}

TEST(PerformerTracker, AFragmentOfThePerformerIsNotABystander) {
  TrackerConfig config;
  config.max_lost_frames = 2;
  PerformerTracker tracker(config, kFrame);
  const PersonDetection whole = personAt(320, 350);
  (void)tracker.update({whole});
  // One frame the decoder splits the performer into two fragments.
  PersonDetection upper = whole;
  PersonDetection lower = whole;
  for (int j = 0; j < kCoco17Count; ++j) (j < 11 ? lower : upper).pose.points[j].confidence = 0;
  (void)tracker.update({upper, lower});
  // The performer then leaves and comes back as a new track near its place:
  // the fragment's track must not have been marked as a bystander.
  for (int i = 0; i < 4; ++i) (void)tracker.update({});
  EXPECT_GE(tracker.update({personAt(330, 350)}).performer_track, 0);
}

TEST(PerformerTracker, ABystanderSteppingIntoThePerformersPlaceDoesNotInheritTheRole) {
  TrackerConfig config;
  config.max_lost_frames = 3;
  PerformerTracker tracker(config, kFrame);
  (void)tracker.update({personAt(320, 350), personAt(500, 340)});
  // The performer leaves; the bystander walks over to where they stood.
  for (int i = 0; i < 10; ++i) {
    const float x = 500.f - 18.f * static_cast<float>(i);
    EXPECT_EQ(tracker.update({personAt(x, 340)}).performer_track, -1) << i;
  }
}

TEST(PerformerTracker, TheFirstPerformerIsWhoeverStandsInTheZoneNotTheMostCentral) {
  TrackerConfig config;
  config.zone = cv::Rect2f(0.f, 0.5f, 0.3f, 0.5f);  // the left floor mark
  PerformerTracker tracker(config, kFrame);
  // Same height; the one on the right is more central but off the mark.
  const TrackedFrame f = tracker.update({personAt(100, 300), personAt(330, 300)});
  ASSERT_NE(f.performer(), nullptr);
  EXPECT_NEAR(f.performer()->pose[Coco17::kNose].x, 100.f, 1e-3);
}

TEST(PerformerTracker, NobodyOnTheMarkMeansNoPerformerYet) {
  TrackerConfig config;
  config.zone = cv::Rect2f(0.8f, 0.5f, 0.2f, 0.5f);
  PerformerTracker tracker(config, kFrame);
  EXPECT_EQ(tracker.update({personAt(330, 300)}).performer_track, -1);
  // Then someone steps onto it.
  const TrackedFrame f = tracker.update({personAt(330, 300), personAt(580, 300)});
  ASSERT_NE(f.performer(), nullptr);
  EXPECT_NEAR(f.performer()->pose[Coco17::kNose].x, 580.f, 1e-3);
}

TEST(PerformerTracker, FeetAreTheAnklesOrTheLowestJoint) {
  Pose p = personAt(200, 300).pose;
  const auto feet = PerformerTracker::feetOf(p);
  ASSERT_TRUE(feet);
  EXPECT_NEAR(feet->y, (p[Coco17::kLeftAnkle].y + p[Coco17::kRightAnkle].y) / 2, 1e-3);
  p[Coco17::kLeftAnkle].confidence = 0;
  p[Coco17::kRightAnkle].confidence = 0;
  EXPECT_NEAR(PerformerTracker::feetOf(p)->y, p[Coco17::kRightKnee].y, 1e-3);
  EXPECT_FALSE(PerformerTracker::feetOf(Pose{}));
}

TEST(PerformerTracker, FollowPerformerContinuesTheTrackOnlyWhenThePoseAgrees) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  const int performer = tracker.update({personAt(330, 380), personAt(100, 200)}).performer_track;
  ASSERT_GE(performer, 0);
  const TrackedFrame near = tracker.followPerformer(moved(personAt(330, 380), 4, 1));
  EXPECT_EQ(near.performer_track, performer);
  ASSERT_EQ(near.people.size(), 1u);
  // A pose somewhere else entirely is not the performer: nobody seen.
  const TrackedFrame far = tracker.followPerformer(personAt(560, 150, 200));
  EXPECT_EQ(far.performer_track, -1);
  EXPECT_TRUE(far.people.empty());
}

TEST(PerformerTracker, RefinePerformerIsWhatTheNextFrameIsMatchedAgainst) {
  PerformerTracker tracker(TrackerConfig{}, kFrame);
  const int performer = tracker.update({personAt(330, 380)}).performer_track;
  // The better pose is 60 px right of the detection; the next frame's pose
  // is there too, which the unrefined track (sigma 38 px) would barely match.
  tracker.refinePerformer(moved(personAt(330, 380), 60, 0).pose);
  const TrackedFrame f = tracker.followPerformer(moved(personAt(330, 380), 62, 0));
  EXPECT_EQ(f.performer_track, performer);
}

}  // namespace
}  // namespace booth
