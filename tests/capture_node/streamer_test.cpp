// Streamer: what goes to the trainer, when, and what an ack does; driven by
// a hand-moved clock.
#include <gtest/gtest.h>

#include "capture_node/spool/spool.h"
#include "common/core/checksum.h"
#include "capture_node/stream/streamer.h"
#include "scripted_source.h"
#include "temp_dir.h"

namespace booth {
namespace {
using namespace std::chrono_literals;
using test::makeFrame;

class StreamerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SessionMeta m;
    m.session_id = "s1";
    m.cameras = {{"cam0", "synthetic", 64, 48, 30}, {"cam1", "synthetic", 64, 48, 30}};
    auto s = SessionSpool::create(dir_.path(), m, budget_);
    ASSERT_TRUE(s.ok()) << s.error();
    spool_ = std::move(s.value());
  }
  void addFrames(std::size_t camera, std::uint64_t n) {
    const std::string id = spool_->camera(camera).cameraId();
    for (std::uint64_t i = spool_->camera(camera).frameCount(); n > 0; ++i, --n) {
      ASSERT_TRUE(spool_->camera(camera).appendFrame(makeFrame(id, i, "frame" + std::to_string(i))).ok());
    }
  }
  void addPose(std::size_t camera, std::uint64_t sequence) {
    PoseRecord p;
    p.camera_id = spool_->camera(camera).cameraId();
    p.sequence = sequence;
    ASSERT_TRUE(spool_->camera(camera).appendPose(p).ok());
  }
  static v2::Ack ack(const std::string& camera, v2::RecordKind kind,
                     std::initializer_list<std::uint64_t> seqs, bool ok = true) {
    v2::Ack a;
    a.set_session_id("s1");
    a.set_camera_id(camera);
    a.set_kind(kind);
    for (auto s : seqs) a.add_sequences(s);
    a.set_ok(ok);
    return a;
  }
  test::TempDir dir_;
  SpoolBudget budget_{1 << 30};
  std::unique_ptr<SessionSpool> spool_;
  ManualClock clock_;
  Credit credit_;
};

TEST_F(StreamerTest, FramesGoAsSoonAsTheyAreSpooledWithinTheCredit) {
  Streamer streamer(*spool_, clock_, {});
  credit_.max_records = 3;
  addFrames(0, 2);
  addFrames(1, 2);
  auto first = streamer.due(credit_);
  ASSERT_EQ(first.size(), 3u);  // the credit
  // Round-robin over cameras.
  EXPECT_EQ(first[0].frame().camera_id(), "cam0");
  EXPECT_EQ(first[1].frame().camera_id(), "cam1");
  EXPECT_EQ(first[0].frame().data(), "frame0");
  EXPECT_EQ(first[0].frame().session_id(), "s1");
  EXPECT_TRUE(streamer.due(credit_).empty());
  ASSERT_TRUE(streamer.onAck(ack("cam0", v2::RECORD_FRAME, {0}), credit_).ok());
  auto next = streamer.due(credit_);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(credit_.records_in_flight, 3u);
}

TEST_F(StreamerTest, PosesGoOnceFinal) {
  Streamer streamer(*spool_, clock_, {});
  addFrames(0, 1);
  auto frames = streamer.due(credit_);
  ASSERT_EQ(frames.size(), 1u);
  addPose(0, 0);
  auto poses = streamer.due(credit_);
  ASSERT_EQ(poses.size(), 1u);
  ASSERT_EQ(poses[0].body_case(), v2::Envelope::kPose);
  EXPECT_EQ(poses[0].pose().sequence(), 0u);
}

TEST_F(StreamerTest, UnackedRecordsGoAgainAfterTheResendTime) {
  Streamer streamer(*spool_, clock_, {1000ms});
  addFrames(0, 2);
  ASSERT_EQ(streamer.due(credit_).size(), 2u);
  ASSERT_TRUE(streamer.onAck(ack("cam0", v2::RECORD_FRAME, {1}), credit_).ok());
  clock_.advance(999ms);
  EXPECT_TRUE(streamer.due(credit_).empty());
  clock_.advance(2ms);
  auto again = streamer.due(credit_);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].frame().sequence(), 0u);
  EXPECT_EQ(streamer.resends(), 1u);
}

TEST_F(StreamerTest, AReconnectResendsEverythingInFlightAtOnce) {
  Streamer streamer(*spool_, clock_, {60s});
  addFrames(0, 2);
  ASSERT_EQ(streamer.due(credit_).size(), 2u);
  streamer.resendAll();
  EXPECT_EQ(streamer.due(credit_).size(), 2u);
}

TEST_F(StreamerTest, ARefusalIsRetriedNotDropped) {
  Streamer streamer(*spool_, clock_, {100ms});
  addFrames(0, 1);
  ASSERT_EQ(streamer.due(credit_).size(), 1u);
  ASSERT_TRUE(streamer.onAck(ack("cam0", v2::RECORD_FRAME, {0}, /*ok=*/false), credit_).ok());
  EXPECT_FALSE(spool_->camera(0).isAcked(SpoolRecordKind::kFrame, 0));
  clock_.advance(200ms);
  EXPECT_EQ(streamer.due(credit_).size(), 1u);
}

TEST_F(StreamerTest, AcksForUnknownRecordsAreErrors) {
  Streamer streamer(*spool_, clock_, {});
  addFrames(0, 1);
  EXPECT_FALSE(streamer.onAck(ack("cam9", v2::RECORD_FRAME, {0}), credit_).ok());
  EXPECT_FALSE(streamer.onAck(ack("cam0", v2::RECORD_FRAME, {5}), credit_).ok());
  v2::Ack other = ack("cam0", v2::RECORD_FRAME, {0});
  other.set_session_id("s2");
  EXPECT_FALSE(streamer.onAck(other, credit_).ok());
}

TEST_F(StreamerTest, ARestartedStreamerSendsOnlyWhatWasNeverAcked) {
  addFrames(0, 3);
  {
    Streamer streamer(*spool_, clock_, {});
    ASSERT_EQ(streamer.due(credit_).size(), 3u);
    ASSERT_TRUE(streamer.onAck(ack("cam0", v2::RECORD_FRAME, {0, 2}), credit_).ok());
  }
  Credit fresh;
  Streamer restarted(*spool_, clock_, {});
  auto sent = restarted.due(fresh);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].frame().sequence(), 1u);
}

TEST_F(StreamerTest, TheManifestCountsEveryFrameEvenAfterBytesWereFreed) {
  Streamer streamer(*spool_, clock_, {});
  addFrames(0, 2);
  addPose(0, 0);
  addPose(0, 1);
  ASSERT_EQ(streamer.due(credit_).size(), 4u);
  EXPECT_FALSE(streamer.allAcked());
  ASSERT_TRUE(streamer.onAck(ack("cam0", v2::RECORD_FRAME, {0, 1}), credit_).ok());
  ASSERT_TRUE(streamer.onAck(ack("cam0", v2::RECORD_POSE, {0, 1}), credit_).ok());
  EXPECT_TRUE(streamer.allAcked());
  const v2::SessionManifest m = streamer.manifest("booth-1");
  EXPECT_EQ(m.node_id(), "booth-1");
  ASSERT_EQ(m.cameras_size(), 2);
  EXPECT_EQ(m.cameras(0).frame_count(), 2u);
  EXPECT_EQ(m.cameras(0).pose_count(), 2u);
  EXPECT_EQ(m.cameras(0).checksum(), fnv1a64("frame0") + fnv1a64("frame1"));
  EXPECT_EQ(m.cameras(1).frame_count(), 0u);
}

}  // namespace
}  // namespace booth
