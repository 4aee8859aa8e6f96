// SessionStreamer: credit window, acks, resends, manifest; driven by a fake clock.
#include <gtest/gtest.h>

#include "capture_node/stream/session_streamer.h"
#include "common/core/checksum.h"

namespace booth {
namespace {

using namespace std::chrono_literals;
using Clock = SessionStreamer::Clock;

SessionCapture makeCapture(int frames_cam0, int frames_cam1) {
  SessionCapture c;
  c.session_id = "s1";
  c.capture_seconds = 2.0;
  c.pose_source = "ground-truth (synthetic renderer)";
  for (int cam = 0; cam < 2; ++cam) {
    CameraCapture cc;
    cc.camera.camera_id = "cam" + std::to_string(cam);
    const int n = cam == 0 ? frames_cam0 : frames_cam1;
    for (int i = 0; i < n; ++i) {
      CapturedFrame f;
      f.camera_id = cc.camera.camera_id;
      f.sequence = static_cast<std::uint64_t>(i);
      f.data = "frame-" + std::to_string(cam) + "-" + std::to_string(i);
      cc.frames.push_back(f);
      cc.poses.push_back(Pose{});
    }
    c.cameras.push_back(cc);
  }
  return c;
}

v1::Ack ackFor(const v1::Envelope& env, bool ok = true) {
  v1::Ack a;
  a.set_session_id(env.record().frame().session_id());
  a.set_camera_id(env.record().frame().camera_id());
  a.set_sequence(env.record().frame().sequence());
  a.set_ok(ok);
  return a;
}

TEST(SessionStreamer, SendsNoMoreThanTheWindow) {
  SessionStreamer s(makeCapture(10, 10), 4, 1000ms);
  const auto t0 = Clock::now();
  EXPECT_EQ(s.due(t0).size(), 4u);
  EXPECT_TRUE(s.due(t0).empty());  // no credit left, nothing timed out
}

TEST(SessionStreamer, AcksFreeCreditAndAllFramesArrive) {
  SessionStreamer s(makeCapture(5, 3), 2, 1000ms);
  const auto t0 = Clock::now();
  std::set<std::pair<std::string, std::uint64_t>> seen;
  for (int round = 0; round < 20 && !s.allAcked(); ++round) {
    for (const auto& env : s.due(t0)) {
      seen.insert({env.record().frame().camera_id(), env.record().frame().sequence()});
      EXPECT_TRUE(s.onAck(ackFor(env)));
    }
  }
  EXPECT_TRUE(s.allAcked());
  EXPECT_EQ(s.acked(), 8u);
  EXPECT_EQ(seen.size(), 8u);
  EXPECT_EQ(s.resends(), 0u);
}

TEST(SessionStreamer, ResendsWhatIsNotAckedInTime) {
  SessionStreamer s(makeCapture(3, 0), 8, 500ms);
  const auto t0 = Clock::now();
  auto first = s.due(t0);
  ASSERT_EQ(first.size(), 3u);
  s.onAck(ackFor(first[1]));
  EXPECT_TRUE(s.due(t0 + 100ms).empty());
  auto again = s.due(t0 + 600ms);
  ASSERT_EQ(again.size(), 2u);  // frames 0 and 2, not the acked 1
  EXPECT_EQ(again[0].record().frame().sequence(), 0u);
  EXPECT_EQ(again[1].record().frame().sequence(), 2u);
  EXPECT_EQ(s.resends(), 2u);
}

TEST(SessionStreamer, NegativeAckIsResentAtOnce) {
  SessionStreamer s(makeCapture(1, 0), 8, 10000ms);
  const auto t0 = Clock::now();
  auto first = s.due(t0);
  ASSERT_EQ(first.size(), 1u);
  s.onAck(ackFor(first[0], /*ok=*/false));
  EXPECT_EQ(s.due(t0 + 1ms).size(), 1u);
  EXPECT_FALSE(s.allAcked());
}

TEST(SessionStreamer, DuplicateAckCountsOnce) {
  SessionStreamer s(makeCapture(2, 0), 8, 1000ms);
  auto sent = s.due(Clock::now());
  s.onAck(ackFor(sent[0]));
  s.onAck(ackFor(sent[0]));
  EXPECT_EQ(s.acked(), 1u);
}

TEST(SessionStreamer, IgnoresAcksOfOtherSessionsOrFrames) {
  SessionStreamer s(makeCapture(2, 0), 8, 1000ms);
  auto sent = s.due(Clock::now());
  v1::Ack other = ackFor(sent[0]);
  other.set_session_id("other");
  EXPECT_FALSE(s.onAck(other));
  v1::Ack missing = ackFor(sent[0]);
  missing.set_sequence(99);
  EXPECT_FALSE(s.onAck(missing));
  EXPECT_EQ(s.acked(), 0u);
}

TEST(SessionStreamer, ManifestCountsAndChecksumsEveryCamera) {
  SessionCapture c = makeCapture(4, 2);
  std::uint64_t sum0 = 0;
  for (const auto& f : c.cameras[0].frames) sum0 += fnv1a64(f.data);
  SessionStreamer s(std::move(c), 8, 1000ms);
  const auto m = s.manifest("booth-1");
  EXPECT_EQ(m.session_id(), "s1");
  EXPECT_EQ(m.node_id(), "booth-1");
  ASSERT_EQ(m.cameras_size(), 2);
  EXPECT_EQ(m.cameras(0).frame_count(), 4u);
  EXPECT_EQ(m.cameras(0).checksum(), sum0);
  EXPECT_EQ(m.cameras(1).frame_count(), 2u);
  EXPECT_EQ(m.cameras(0).last_sequence(), 3u);
  EXPECT_DOUBLE_EQ(m.capture_seconds(), 2.0);
}

TEST(SessionStreamer, EmptyCaptureIsImmediatelyComplete) {
  SessionStreamer s(makeCapture(0, 0), 8, 1000ms);
  EXPECT_TRUE(s.due(Clock::now()).empty());
  EXPECT_TRUE(s.allAcked());
}

}  // namespace
}  // namespace booth
