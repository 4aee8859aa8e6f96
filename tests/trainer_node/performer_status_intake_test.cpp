// The performer's box per camera at the trainer: taken from a node's
// PerformerStatus into its cameras' status, kept across heartbeats, and
// shown to the operator page as JSON.
#include "trainer_node/ingest/performer_status_intake.h"

#include <gtest/gtest.h>

#include "common/transport/performer_status_wire.h"
#include "trainer_node/http/performer_json.h"

namespace booth {
namespace {

std::vector<CameraStatus> cameras(std::initializer_list<const char*> ids) {
  std::vector<CameraStatus> out;
  for (const char* id : ids) {
    CameraStatus c;
    c.camera_id = id;
    out.push_back(c);
  }
  return out;
}

v2::PerformerStatus status(std::vector<CameraPerformer> list) {
  v2::PerformerStatus p;
  performerStatusToProto(list, &p);
  return p;
}

const CameraPerformer kSeen{"cam0", 9, true, {0.4f, 0.2f, 0.2f, 0.7f}, {0.25f, 0.25f, 0.5f, 0.75f}};

TEST(PerformerStatusIntake, ListedCamerasTakeTheirPerformerAndUnknownIdsArePassedOver) {
  auto cams = cameras({"cam0", "cam1"});
  ASSERT_TRUE(applyPerformerStatus(status({kSeen, {"cam9", 1, false, {}, {}}}), cams).ok());
  ASSERT_TRUE(cams[0].performer);
  EXPECT_EQ(*cams[0].performer, kSeen);
  EXPECT_FALSE(cams[1].performer);
}

TEST(PerformerStatusIntake, ACameraTheNodeNoLongerListsLosesItsPerformer) {
  auto cams = cameras({"cam0"});
  ASSERT_TRUE(applyPerformerStatus(status({kSeen}), cams).ok());
  ASSERT_TRUE(applyPerformerStatus(status({}), cams).ok());  // a new session cleared them
  EXPECT_FALSE(cams[0].performer);
}

TEST(PerformerStatusIntake, AMalformedStatusIsRefusedAndChangesNothing) {
  auto cams = cameras({"cam0"});
  ASSERT_TRUE(applyPerformerStatus(status({kSeen}), cams).ok());
  v2::PerformerStatus bad = status({kSeen});
  bad.mutable_cameras(0)->mutable_box()->set_width(2.f);
  const Status st = applyPerformerStatus(bad, cams);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("performer box"), std::string::npos) << st.error();
  ASSERT_TRUE(cams[0].performer);
  EXPECT_EQ(*cams[0].performer, kSeen);
}

TEST(PerformerStatusIntake, AHeartbeatRebuildingTheCameraListKeepsEachCamerasPerformer) {
  auto before = cameras({"cam0", "cam1"});
  ASSERT_TRUE(applyPerformerStatus(status({kSeen}), before).ok());
  auto after = cameras({"cam1", "cam0"});
  keepPerformers(before, after);
  EXPECT_FALSE(after[0].performer);
  ASSERT_TRUE(after[1].performer);
  EXPECT_EQ(*after[1].performer, kSeen);
}

TEST(PerformerJson, ASeenPerformerHasItsBoxAndZoneAnUnseenOneNeither) {
  const auto seen = performerJson(kSeen);
  EXPECT_EQ(seen["seen"], true);
  EXPECT_EQ(seen["sequence"], 9);
  EXPECT_FLOAT_EQ(seen["box"]["x"].get<float>(), 0.4f);
  EXPECT_FLOAT_EQ(seen["box"]["height"].get<float>(), 0.7f);
  EXPECT_FLOAT_EQ(seen["zone"]["width"].get<float>(), 0.5f);
  const auto unseen = performerJson({"cam1", 3, false, {}, {}});
  EXPECT_EQ(unseen["seen"], false);
  EXPECT_FALSE(unseen.contains("box"));
  EXPECT_FALSE(unseen.contains("zone"));
}

}  // namespace
}  // namespace booth
