// PerformerStatus at the transport edge: what the node sends comes back
// whole; what a hostile or broken peer sends is refused, naming the value.
#include <gtest/gtest.h>

#include <limits>

#include "booth.pb.h"
#include "common/transport/performer_status_wire.h"

namespace booth {
namespace {

std::vector<CameraPerformer> twoCameras() {
  CameraPerformer seen{"cam0", 42, true, {0.4f, 0.2f, 0.2f, 0.7f}, {0.25f, 0.25f, 0.5f, 0.75f}};
  CameraPerformer unseen{"cam1", 40, false, {}, {}};
  return {seen, unseen};
}

Result<std::vector<CameraPerformer>> roundTrip(const v2::PerformerStatus& p) {
  v2::Envelope env;
  *env.mutable_performer_status() = p;
  std::string bytes;
  env.SerializeToString(&bytes);
  v2::Envelope back;
  EXPECT_TRUE(back.ParseFromString(bytes));
  return performerStatusFromProto(back.performer_status());
}

TEST(PerformerStatusWire, RoundTripKeepsBoxesZonesAndUnseenCameras) {
  v2::PerformerStatus p;
  performerStatusToProto(twoCameras(), &p);
  EXPECT_FALSE(p.cameras(1).has_box());   // unseen: no box on the wire
  EXPECT_FALSE(p.cameras(1).has_zone());  // no zone: none on the wire
  auto back = roundTrip(p);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, twoCameras());
}

TEST(PerformerStatusWire, ABoxOutsideTheFrameIsRefusedNamingIt) {
  v2::PerformerStatus p;
  performerStatusToProto(twoCameras(), &p);
  p.mutable_cameras(0)->mutable_box()->set_x(0.9f);  // 0.9 + 0.2 > 1
  const auto back = performerStatusFromProto(p);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().find("cam0"), std::string::npos) << back.error();
  EXPECT_NE(back.error().find("past the frame's edge"), std::string::npos) << back.error();
}

TEST(PerformerStatusWire, NonFiniteOrNegativeValuesAreRefused) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -0.1f, 1.5f}) {
    v2::PerformerStatus p;
    performerStatusToProto(twoCameras(), &p);
    p.mutable_cameras(0)->mutable_zone()->set_height(bad);
    const auto back = performerStatusFromProto(p);
    ASSERT_FALSE(back.ok()) << bad;
    EXPECT_NE(back.error().find("performance zone"), std::string::npos) << back.error();
  }
}

TEST(PerformerStatusWire, SeenWithoutABoxDuplicateOrOversizedIdsAndTooManyCamerasAreRefused) {
  v2::PerformerStatus p;
  performerStatusToProto(twoCameras(), &p);
  p.mutable_cameras(0)->clear_box();
  EXPECT_FALSE(performerStatusFromProto(p).ok());

  performerStatusToProto(twoCameras(), &p);
  p.mutable_cameras(1)->set_camera_id("cam0");
  EXPECT_FALSE(performerStatusFromProto(p).ok());

  performerStatusToProto(twoCameras(), &p);
  p.mutable_cameras(1)->set_camera_id(std::string(65, 'c'));
  EXPECT_FALSE(performerStatusFromProto(p).ok());

  std::vector<CameraPerformer> many;
  for (int i = 0; i <= kMaxPerformerCameras; ++i) many.push_back({"cam" + std::to_string(i), 0, false, {}, {}});
  performerStatusToProto(many, &p);
  const auto back = performerStatusFromProto(p);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().find("at most 16"), std::string::npos) << back.error();
}

}  // namespace
}  // namespace booth
