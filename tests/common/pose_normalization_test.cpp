#include "common/pose/pose_normalization.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"

namespace booth {
namespace {

// A performer walking toward and away from the camera while dancing, so far
// and close differ.
std::vector<Pose> walkingPoses(const char* performer, float depth) {
  ChoreographySpec spec = *findChoreography("warmup");
  spec.depth = depth;
  const Choreography choreography(spec, findPerformer(performer)->body, Stage{}, 8);
  std::vector<Pose> poses;
  for (int frame = 0; frame < 600; ++frame) poses.push_back(choreography.poseAt(frame / 15.0));
  return poses;
}

float ankleY(const Pose& p) { return (p[Coco17::kLeftAnkle].y + p[Coco17::kRightAnkle].y) / 2; }
float heightOf(const Pose& p) { return ankleY(p) - p[Coco17::kNose].y; }

TEST(PoseNormalizationTest, FloorStatsAreNulloptForNoPoses) {
  EXPECT_EQ(computeFloorStats({}), std::nullopt);
}

TEST(PoseNormalizationTest, FloorStatsAreNulloptWithoutAHeadPoint) {
  std::vector<Pose> poses = walkingPoses("ada", 0.f);
  for (Pose& pose : poses) {
    for (Coco17 j : {Coco17::kNose, Coco17::kLeftEar, Coco17::kRightEar}) pose[j].confidence = 0.f;
  }
  EXPECT_EQ(computeFloorStats(poses), std::nullopt);
}

TEST(PoseNormalizationTest, FarIsHigherInTheFrameAndSmallerThanClose) {
  const auto stats = computeFloorStats(walkingPoses("ada", 0.2f));
  ASSERT_TRUE(stats.has_value());
  EXPECT_LT(stats->far_ankle_y + 10, stats->close_ankle_y);
  EXPECT_LT(stats->far_height * 1.15f, stats->close_height);
  EXPECT_NEAR(stats->centre_x, 320.f, 40.f);
}

TEST(PoseNormalizationTest, StandingOnOneLineGivesEqualHeights) {
  const auto stats = computeFloorStats(walkingPoses("ben", 0.f));
  ASSERT_TRUE(stats.has_value());
  // Only lifted feet move the ankle midpoint: far and close differ by a few
  // pixels, too little to be depth.
  EXPECT_LT(stats->close_ankle_y - stats->far_ankle_y, 5.f);
  EXPECT_EQ(stats->far_height, stats->close_height);
}

TEST(PoseNormalizationTest, ScaledAndShiftedSourceMapsBackOntoTheTarget) {
  const std::vector<Pose> target = walkingPoses("cleo", 0.2f);
  std::vector<Pose> source;
  for (const Pose& pose : target) source.push_back(transformPose(pose, 0.5f, 70.f, -30.f));
  const auto target_stats = computeFloorStats(target);
  const auto source_stats = computeFloorStats(source);
  ASSERT_TRUE(target_stats && source_stats);

  PoseNormalizer normalizer(*source_stats, *target_stats);
  for (std::size_t i = 0; i < source.size(); ++i) {
    const Pose mapped = normalizer.apply(source[i]);
    ASSERT_NEAR(ankleY(mapped), ankleY(target[i]), 1.0)
        << "frame " << i << ": ankles on the target floor";
    ASSERT_NEAR(heightOf(mapped), heightOf(target[i]), 0.02 * heightOf(target[i])) << "frame " << i;
    ASSERT_NEAR(mapped[Coco17::kLeftWrist].x, target[i][Coco17::kLeftWrist].x, 1.0)
        << "frame " << i;
  }
}

TEST(PoseNormalizationTest, ASmallerPersonIsScaledUpToTheTargetHeight) {
  // Different people, both standing on one line: the source's median height
  // becomes the target's, and its ankles land on the target's floor.
  const std::vector<Pose> source = walkingPoses("dev", 0.f);
  const std::vector<Pose> target = walkingPoses("cleo", 0.f);
  const auto source_stats = computeFloorStats(source);
  const auto target_stats = computeFloorStats(target);
  ASSERT_TRUE(source_stats && target_stats);
  PoseNormalizer normalizer(*source_stats, *target_stats);
  const PoseTransform transform = normalizer.transformFor(source[0]);
  EXPECT_NEAR(transform.scale, target_stats->far_height / source_stats->far_height, 1e-4);
  EXPECT_GT(transform.scale, 1.05f);
  const Pose mapped = normalizer.apply(source[0]);
  EXPECT_NEAR(std::max(mapped[Coco17::kLeftAnkle].y, mapped[Coco17::kRightAnkle].y), 0.93f * 480.f,
              2.0);
}

TEST(PoseNormalizationTest, ReusesTheLastTransformWhenAnklesAreMissing) {
  const std::vector<Pose> target = walkingPoses("ada", 0.2f);
  std::vector<Pose> source;
  for (const Pose& pose : target) source.push_back(transformPose(pose, 0.6f, 10.f, 40.f));
  PoseNormalizer normalizer(*computeFloorStats(source), *computeFloorStats(target));

  const PoseTransform seen = normalizer.transformFor(source[100]);
  Pose no_ankles = source[300];
  no_ankles[Coco17::kLeftAnkle].confidence = 0.f;
  no_ankles[Coco17::kRightAnkle].confidence = 0.f;
  const PoseTransform reused = normalizer.transformFor(no_ankles);
  EXPECT_EQ(reused.scale, seen.scale);
  EXPECT_EQ(reused.offset_x, seen.offset_x);
  EXPECT_EQ(reused.offset_y, seen.offset_y);
  EXPECT_NE(normalizer.transformFor(source[300]).offset_y, seen.offset_y)
      << "a usable frame updates it";
}

TEST(PoseNormalizationTest, IdentityBeforeTheFirstUsableFrame) {
  const std::vector<Pose> poses = walkingPoses("ada", 0.f);
  const auto stats = computeFloorStats(poses);
  ASSERT_TRUE(stats.has_value());
  PoseNormalizer normalizer(*stats, *stats);
  const PoseTransform transform = normalizer.transformFor(Pose{});
  EXPECT_EQ(transform.scale, 1.f);
  EXPECT_EQ(transform.offset_x, 0.f);
  EXPECT_EQ(transform.offset_y, 0.f);
}

}  // namespace
}  // namespace booth
