// The booth.v2 wire contract and its conversions at the transport edge.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "booth.pb.h"
#include "common/transport/wire.h"

namespace booth {
namespace {

Pose samplePose(float shift = 0) {
  Pose p;
  for (int i = 0; i < kCoco17Count; ++i)
    p.points[i] = {10.f + i + shift, 200.f - i, 0.5f + i * 0.01f, i % 3 == 0};
  return p;
}

TEST(Wire, PoseRecordRoundTripKeepsEveryPersonAndFlag) {
  PoseRecord r;
  r.camera_id = "cam0";
  r.sequence = 42;
  r.capture_time_us = 123456789;
  r.origin = PoseOrigin::kNetwork;
  r.people = {{3, samplePose()}, {7, samplePose(100)}};
  r.performer_track = 3;
  r.performer = samplePose(0.5f);

  v2::Envelope env;
  poseRecordToProto("s1", r, env.mutable_pose());
  std::string bytes;
  ASSERT_TRUE(env.SerializeToString(&bytes));
  v2::Envelope back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  ASSERT_EQ(back.body_case(), v2::Envelope::kPose);
  EXPECT_EQ(back.pose().session_id(), "s1");
  auto decoded = poseRecordFromProto(back.pose());
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(decoded->camera_id, "cam0");
  EXPECT_EQ(decoded->sequence, 42u);
  EXPECT_EQ(decoded->capture_time_us, 123456789);
  ASSERT_EQ(decoded->people.size(), 2u);
  EXPECT_EQ(decoded->people[1].track_id, 7);
  EXPECT_FLOAT_EQ(decoded->people[1].pose.points[0].x, 110.f);
  EXPECT_EQ(decoded->performer_track, 3);
  ASSERT_TRUE(decoded->performer.has_value());
  EXPECT_FLOAT_EQ(decoded->performer->points[4].x, 14.5f);
  EXPECT_TRUE(decoded->performer->points[3].imputed);
  EXPECT_FALSE(decoded->performer->points[4].imputed);
}

TEST(Wire, PoseRecordWithoutPerformerStaysWithout) {
  PoseRecord r;
  r.camera_id = "cam0";
  r.error = "frame 3 does not decode";
  v2::PoseRecord proto;
  poseRecordToProto("s1", r, &proto);
  auto back = poseRecordFromProto(proto);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_FALSE(back->performer.has_value());
  EXPECT_TRUE(back->people.empty());
  EXPECT_EQ(back->error, "frame 3 does not decode");
}

TEST(Wire, KeypointsOfTheWrongLengthAreRefused) {
  v2::Keypoints kp;
  keypointsToProto(samplePose(), &kp);
  kp.add_x(1);
  auto r = keypointsFromProto(kp);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("17"), std::string::npos) << r.error();
}

TEST(Wire, NonFiniteOrHugeCoordinatesAreRefused) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    3e9f}) {
    v2::Keypoints kp;
    keypointsToProto(samplePose(), &kp);
    kp.set_x(5, bad);
    EXPECT_FALSE(keypointsFromProto(kp).ok()) << bad;
  }
}

TEST(Wire, ConfidenceOutsideZeroToOneIsRefused) {
  v2::Keypoints kp;
  keypointsToProto(samplePose(), &kp);
  kp.set_confidence(2, 1.5f);
  auto r = keypointsFromProto(kp);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("right_eye"), std::string::npos) << r.error();
}

TEST(Wire, TooManyPeopleAreRefused) {
  v2::PoseRecord proto;
  for (int i = 0; i < 65; ++i) {
    auto* p = proto.add_people();
    keypointsToProto(samplePose(), p->mutable_keypoints());
  }
  EXPECT_FALSE(poseRecordFromProto(proto).ok());
}

TEST(Wire, EnvelopeTravelsOverZeroMqStampedWithTheVersion) {
  zmq::context_t ctx(1);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  router.bind("inproc://wire-test");
  dealer.set(zmq::sockopt::routing_id, "node-a");
  dealer.connect("inproc://wire-test");
  v2::Envelope hello;
  hello.mutable_hello()->set_node_id("node-a");
  ASSERT_TRUE(sendEnvelope(dealer, hello));
  zmq::pollitem_t item{router.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(2000));
  auto in = receiveEnvelope(router, /*router=*/true);
  ASSERT_TRUE(in.ok()) << in.error();
  ASSERT_TRUE(in.value().has_value());
  EXPECT_EQ(in.value()->routing_id, "node-a");
  EXPECT_EQ(in.value()->envelope.version(), kProtocolVersion);
  EXPECT_EQ(versionMismatch(in.value()->envelope), "");
  EXPECT_EQ(in.value()->envelope.hello().node_id(), "node-a");
}

TEST(Wire, AnotherVersionIsNamedInTheMismatch) {
  v2::Envelope env;
  env.set_version(1);
  const std::string m = versionMismatch(env);
  EXPECT_NE(m.find("protocol version 1"), std::string::npos) << m;
  EXPECT_NE(m.find("speaks " + std::to_string(kProtocolVersion)), std::string::npos) << m;
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

TEST(Wire, OversizedMessageIsRefusedBeforeParsing) {
  zmq::context_t ctx(1);
  zmq::socket_t a(ctx, zmq::socket_type::pair), b(ctx, zmq::socket_type::pair);
  a.bind("inproc://wire-big");
  b.connect("inproc://wire-big");
  v2::Envelope env;
  env.mutable_frame()->set_data(std::string(5000, 'x'));
  ASSERT_TRUE(sendEnvelope(b, env));
  zmq::pollitem_t item{a.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(2000));
  auto in = receiveEnvelope(a, false, /*max_bytes=*/1000);
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.error().find("larger than"), std::string::npos) << in.error();
}

TEST(Wire, ExtraMessagePartsAreAnErrorAndTheNextMessageStillArrives) {
  zmq::context_t ctx(1);
  zmq::socket_t a(ctx, zmq::socket_type::pair), b(ctx, zmq::socket_type::pair);
  a.bind("inproc://wire-parts");
  b.connect("inproc://wire-parts");
  for (int i = 0; i < 6; ++i) b.send(zmq::buffer(std::string("p")), zmq::send_flags::sndmore);
  b.send(zmq::buffer(std::string("p")), zmq::send_flags::none);
  v2::Envelope env;
  env.mutable_hello()->set_node_id("next");
  ASSERT_TRUE(sendEnvelope(b, env));
  zmq::pollitem_t item{a.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, std::chrono::milliseconds(2000));
  EXPECT_FALSE(receiveEnvelope(a, false).ok());
  zmq::poll(&item, 1, std::chrono::milliseconds(2000));
  auto next = receiveEnvelope(a, false);
  ASSERT_TRUE(next.ok()) << next.error();
  ASSERT_TRUE(next.value().has_value());
  EXPECT_EQ(next.value()->envelope.hello().node_id(), "next");
}

}  // namespace
}  // namespace booth
