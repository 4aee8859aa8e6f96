// The stored form of pose records.
#include <gtest/gtest.h>

#include "common/storage/pose_record_codec.h"

namespace booth {
namespace {

TEST(PoseRecordCodec, RoundTripKeepsPeopleTracksAndFlags) {
  PoseRecord r;
  r.camera_id = "cam1";
  r.sequence = 99;
  r.capture_time_us = -5;
  r.origin = PoseOrigin::kGroundTruth;
  Pose p;
  p.points[3] = {1.5f, 2.5f, 0.75f, true};
  r.people = {{4, p}, {9, Pose{}}};
  r.performer_track = 4;
  r.performer = p;
  r.error = "";
  auto back = decodePoseRecord(encodePoseRecord(r));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->camera_id, "cam1");
  EXPECT_EQ(back->sequence, 99u);
  EXPECT_EQ(back->capture_time_us, -5);
  EXPECT_EQ(back->origin, PoseOrigin::kGroundTruth);
  ASSERT_EQ(back->people.size(), 2u);
  EXPECT_EQ(back->people[1].track_id, 9);
  EXPECT_EQ(back->performer_track, 4);
  ASSERT_TRUE(back->performer);
  EXPECT_FLOAT_EQ(back->performer->points[3].y, 2.5f);
  EXPECT_TRUE(back->performer->points[3].imputed);
}

TEST(PoseRecordCodec, TruncatedOrExtendedBytesAreRefused) {
  PoseRecord r;
  r.error = "undecodable";
  const std::string bytes = encodePoseRecord(r);
  EXPECT_TRUE(decodePoseRecord(bytes).ok());
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(decodePoseRecord(bytes.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(decodePoseRecord(bytes + "x").ok());
}

}  // namespace
}  // namespace booth
