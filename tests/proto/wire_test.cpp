// Round trips through the booth.v1 wire contract.
#include <gtest/gtest.h>

#include "booth.pb.h"
#include "common/transport/wire.h"

namespace booth {
namespace {

Pose samplePose() {
  Pose p;
  for (int i = 0; i < kCoco17Count; ++i)
    p.points[i] = {10.f + i, 200.f - i, 0.5f + i * 0.01f, i % 3 == 0};
  return p;
}

TEST(Wire, FrameRecordRoundTripKeepsEveryField) {
  v1::Envelope env;
  auto* rec = env.mutable_record();
  auto* f = rec->mutable_frame();
  f->set_session_id("s1");
  f->set_camera_id("cam0");
  f->set_sequence(42);
  f->set_capture_time_us(123456789);
  f->set_encoding(v1::ENCODING_JPEG);
  f->set_width(640);
  f->set_height(480);
  f->set_data(std::string("\xff\xd8\x00\x01jpeg", 8));
  poseToProto(samplePose(), v1::POSE_SOURCE_GROUND_TRUTH, rec->mutable_keypoints());

  std::string bytes;
  ASSERT_TRUE(env.SerializeToString(&bytes));
  v1::Envelope back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  ASSERT_EQ(back.body_case(), v1::Envelope::kRecord);
  const auto& bf = back.record().frame();
  EXPECT_EQ(bf.session_id(), "s1");
  EXPECT_EQ(bf.camera_id(), "cam0");
  EXPECT_EQ(bf.sequence(), 42u);
  EXPECT_EQ(bf.capture_time_us(), 123456789);
  EXPECT_EQ(bf.encoding(), v1::ENCODING_JPEG);
  EXPECT_EQ(bf.width(), 640u);
  EXPECT_EQ(bf.height(), 480u);
  EXPECT_EQ(bf.data(), std::string("\xff\xd8\x00\x01jpeg", 8));
  EXPECT_EQ(back.record().keypoints().source(), v1::POSE_SOURCE_GROUND_TRUTH);

  auto pose = poseFromProto(back.record().keypoints());
  ASSERT_TRUE(pose.ok()) << pose.error();
  const Pose expected = samplePose();
  for (int i = 0; i < kCoco17Count; ++i) {
    EXPECT_FLOAT_EQ(pose->points[i].x, expected.points[i].x);
    EXPECT_FLOAT_EQ(pose->points[i].y, expected.points[i].y);
    EXPECT_FLOAT_EQ(pose->points[i].confidence, expected.points[i].confidence);
    EXPECT_EQ(pose->points[i].imputed, expected.points[i].imputed);
  }
}

TEST(Wire, ManifestRoundTrip) {
  v1::Envelope env;
  auto* m = env.mutable_manifest();
  m->set_session_id("s2");
  m->set_node_id("booth-1");
  m->set_capture_seconds(15.2);
  auto* c = m->add_cameras();
  c->set_camera_id("cam0");
  c->set_frame_count(450);
  c->set_checksum(0xdeadbeefcafef00dull);
  std::string bytes;
  env.SerializeToString(&bytes);
  v1::Envelope back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  ASSERT_EQ(back.body_case(), v1::Envelope::kManifest);
  EXPECT_EQ(back.manifest().cameras(0).frame_count(), 450u);
  EXPECT_EQ(back.manifest().cameras(0).checksum(), 0xdeadbeefcafef00dull);
  EXPECT_DOUBLE_EQ(back.manifest().capture_seconds(), 15.2);
}

TEST(Wire, OpenPose18KeypointsConvertToCoco17) {
  v1::Keypoints kp;
  kp.set_layout(v1::LAYOUT_OPENPOSE18);
  for (int i = 0; i < kOpenPose18Count; ++i) {
    kp.add_x(static_cast<float>(i));
    kp.add_y(0);
    kp.add_confidence(1);
  }
  auto pose = poseFromProto(kp);
  ASSERT_TRUE(pose.ok()) << pose.error();
  // OpenPose index 4 is the right wrist, COCO-17 index 10.
  EXPECT_FLOAT_EQ((*pose)[Coco17::kRightWrist].x, 4.f);
  EXPECT_FLOAT_EQ((*pose)[Coco17::kLeftEar].x, 17.f);
}

TEST(Wire, RejectsWrongPointCount) {
  v1::Keypoints kp;
  kp.set_layout(v1::LAYOUT_COCO17);
  kp.add_x(1);
  kp.add_y(1);
  kp.add_confidence(1);
  auto pose = poseFromProto(kp);
  ASSERT_FALSE(pose.ok());
  EXPECT_NE(pose.error().find("got 1"), std::string::npos) << pose.error();
}

TEST(Wire, RejectsMismatchedArrays) {
  v1::Keypoints kp;
  kp.set_layout(v1::LAYOUT_COCO17);
  for (int i = 0; i < 17; ++i) {
    kp.add_x(1);
    kp.add_confidence(1);
  }
  kp.add_y(1);
  EXPECT_FALSE(poseFromProto(kp).ok());
}

TEST(Wire, EnvelopeTravelsOverZeroMq) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  router.bind("inproc://wire-test");
  dealer.set(zmq::sockopt::routing_id, "node-a");
  dealer.connect("inproc://wire-test");
  v1::Envelope hello;
  hello.mutable_hello()->set_node_id("node-a");
  ASSERT_TRUE(sendEnvelope(dealer, hello));
  zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(2000));
  auto in = receiveEnvelope(router, /*router=*/true);
  ASSERT_TRUE(in.ok()) << in.error();
  ASSERT_TRUE(in.value().has_value());
  EXPECT_EQ(in.value()->peer, "node-a");
  EXPECT_EQ(in.value()->envelope.hello().node_id(), "node-a");
}

TEST(Wire, MalformedMessageIsAnErrorNotACrash) {
  zmq::context_t ctx(1);
  zmq::socket_t a(ctx, zmq::socket_type::pair), b(ctx, zmq::socket_type::pair);
  a.bind("inproc://wire-bad");
  b.connect("inproc://wire-bad");
  b.send(zmq::buffer(std::string("\xff\xff\xff garbage")), zmq::send_flags::none);
  zmq::pollitem_t item{a.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(2000));
  auto in = receiveEnvelope(a, false);
  EXPECT_FALSE(in.ok());
}

}  // namespace
}  // namespace booth
