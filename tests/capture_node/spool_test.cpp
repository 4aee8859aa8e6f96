// The capture node's spool: per camera, per session, and the spool folder;
// acks free bytes only once the pose is final; crashes lose nothing.
#include <gtest/gtest.h>

#include <filesystem>

#include "capture_node/spool/spool.h"
#include "scripted_source.h"
#include "temp_dir.h"

namespace booth {
namespace {
namespace fs = std::filesystem;
using test::makeFrame;

SessionMeta meta(const std::string& id, std::int64_t created = 1) {
  SessionMeta m;
  m.session_id = id;
  m.seconds = 15;
  m.created_unix_ms = created;
  m.pose_source = "ground-truth (synthetic renderer)";
  m.cameras = {{"cam0", "synthetic", 64, 48, 30}, {"cam1", "synthetic", 64, 48, 30}};
  return m;
}

PoseRecord poseFor(std::uint64_t sequence) {
  PoseRecord p;
  p.sequence = sequence;
  Pose performer;
  performer.points[0] = {1, 2, 0.9f, false};
  p.performer = performer;
  return p;
}

TEST(CameraSpool, FramesKeepTheirGroundTruthAndOrder) {
  test::TempDir dir;
  SpoolBudget budget(1 << 30);
  auto spool = CameraSpool::open(dir.path() / "cam0", "cam0", budget);
  ASSERT_TRUE(spool.ok()) << spool.error();
  CapturedFrame f = makeFrame("cam0", 0);
  Pose truth;
  truth.points[5] = {10, 20, 1, false};
  f.ground_truth = truth;
  ASSERT_TRUE(spool.value()->appendFrame(f).ok());
  ASSERT_TRUE(spool.value()->appendFrame(makeFrame("cam0", 2)).ok());
  EXPECT_FALSE(spool.value()->appendFrame(makeFrame("cam0", 1)).ok());  // out of order
  auto back = spool.value()->readFrame(0);
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_TRUE(back->ground_truth);
  EXPECT_FLOAT_EQ(back->ground_truth->points[5].y, 20.f);
  EXPECT_FALSE(spool.value()->readFrame(1)->ground_truth);
  EXPECT_EQ(spool.value()->summary().gaps, 1u);  // sequence 1 never came
}

TEST(CameraSpool, AnAckedFrameIsFreedOnlyOnceItsPoseIsFinal) {
  test::TempDir dir;
  SpoolBudget budget(1 << 30);
  auto spool = CameraSpool::open(dir.path() / "cam0", "cam0", budget);
  CameraSpool& s = *spool.value();
  ASSERT_TRUE(s.appendFrame(makeFrame("cam0", 0, std::string(100000, 'x'))).ok());
  const auto used = budget.used();
  ASSERT_TRUE(s.markAcked(SpoolRecordKind::kFrame, 0).ok());
  // The pose workers still need the pixels.
  EXPECT_TRUE(s.readFrame(0).ok());
  EXPECT_EQ(budget.used(), used);
  ASSERT_TRUE(s.appendPose(poseFor(0)).ok());
  EXPECT_FALSE(s.readFrame(0).ok());
  EXPECT_LT(budget.used() + 90000, used);
}

TEST(CameraSpool, PosesMustFollowFrameOrder) {
  test::TempDir dir;
  SpoolBudget budget(1 << 30);
  auto spool = CameraSpool::open(dir.path() / "cam0", "cam0", budget);
  ASSERT_TRUE(spool.value()->appendFrame(makeFrame("cam0", 0)).ok());
  ASSERT_TRUE(spool.value()->appendFrame(makeFrame("cam0", 1)).ok());
  EXPECT_FALSE(spool.value()->appendPose(poseFor(1)).ok());
  EXPECT_TRUE(spool.value()->appendPose(poseFor(0)).ok());
  EXPECT_FALSE(spool.value()->appendPose(poseFor(7)).ok());
}

TEST(CameraSpool, AcksSurviveAReopen) {
  test::TempDir dir;
  SpoolBudget budget(1 << 30);
  {
    auto spool = CameraSpool::open(dir.path() / "cam0", "cam0", budget);
    for (std::uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(spool.value()->appendFrame(makeFrame("cam0", i)).ok());
    ASSERT_TRUE(spool.value()->appendPose(poseFor(0)).ok());
    ASSERT_TRUE(spool.value()->markAcked(SpoolRecordKind::kFrame, 1).ok());
    ASSERT_TRUE(spool.value()->markAcked(SpoolRecordKind::kPose, 0).ok());
    EXPECT_FALSE(spool.value()->markAcked(SpoolRecordKind::kFrame, 9).ok());
    EXPECT_FALSE(spool.value()->markAcked(SpoolRecordKind::kPose, 2).ok());  // never posed
  }
  auto spool = CameraSpool::open(dir.path() / "cam0", "cam0", budget);
  const auto s = spool.value()->summary();
  EXPECT_EQ(s.frames, 3u);
  EXPECT_EQ(s.poses, 1u);
  EXPECT_EQ(s.frames_acked, 1u);
  EXPECT_EQ(s.poses_acked, 1u);
  EXPECT_TRUE(spool.value()->isAcked(SpoolRecordKind::kFrame, 1));
  EXPECT_FALSE(spool.value()->isAcked(SpoolRecordKind::kFrame, 0));
}

TEST(CameraSpool, AFullBudgetRefusesFramesAndKeepsWhatIsThere) {
  test::TempDir dir;
  SpoolBudget budget(250000);
  auto spool = CameraSpool::open(dir.path() / "cam0", "cam0", budget);
  ASSERT_TRUE(spool.value()->appendFrame(makeFrame("cam0", 0, std::string(200000, 'x'))).ok());
  auto refused = spool.value()->appendFrame(makeFrame("cam0", 1, std::string(200000, 'y')));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("spool full"), std::string::npos) << refused.error();
  EXPECT_EQ(spool.value()->frameCount(), 1u);
  EXPECT_TRUE(spool.value()->readFrame(0).ok());
}

TEST(SessionSpool, RecoversMetaNotesAndCamerasFromDiskAlone) {
  test::TempDir dir;
  SpoolBudget budget(1 << 30);
  {
    auto s = SessionSpool::create(dir.path(), meta("s1"), budget);
    ASSERT_TRUE(s.ok()) << s.error();
    ASSERT_TRUE(s.value()->camera(1).appendFrame(makeFrame("cam1", 0)).ok());
    ASSERT_TRUE(s.value()->noteCameraEnded("cam0", "camera /dev/video0 disconnected").ok());
    ASSERT_TRUE(s.value()->noteIncomplete("camera cam0 ended").ok());
    ASSERT_TRUE(s.value()->noteCaptureComplete(14.5).ok());
  }
  auto s = SessionSpool::recover(dir.path() / "s1", budget);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s.value()->meta().seconds, 15);
  EXPECT_EQ(s.value()->meta().pose_source, "ground-truth (synthetic renderer)");
  ASSERT_EQ(s.value()->cameraCount(), 2u);
  EXPECT_EQ(s.value()->cameraIndex("cam1"), 1u);
  EXPECT_EQ(s.value()->camera(1).frameCount(), 1u);
  const SessionNotes notes = s.value()->notes();
  EXPECT_TRUE(notes.capture_complete);
  EXPECT_DOUBLE_EQ(notes.capture_seconds, 14.5);
  EXPECT_FALSE(notes.pose_complete);
  EXPECT_EQ(notes.incomplete_reason, "camera cam0 ended");
  ASSERT_EQ(notes.camera_ended.size(), 1u);
  EXPECT_EQ(notes.camera_ended[0].second, "camera /dev/video0 disconnected");
}

TEST(Spool, FindsEverySessionOldestFirstAndSetsDamagedOnesAside) {
  test::TempDir dir;
  {
    Spool spool(dir.path(), 1 << 30);
    ASSERT_TRUE(spool.open().ok());
    ASSERT_TRUE(spool.create(meta("s-new", 200)).ok());
    ASSERT_TRUE(spool.create(meta("s-old", 100)).ok());
    fs::create_directories(dir.path() / "s-broken");  // no session.meta
  }
  Spool spool(dir.path(), 1 << 30);
  ASSERT_TRUE(spool.open().ok());
  std::vector<std::string> problems;
  auto sessions = spool.recoverAll(problems);
  ASSERT_EQ(sessions.size(), 2u);
  EXPECT_EQ(sessions[0]->id(), "s-old");
  EXPECT_EQ(sessions[1]->id(), "s-new");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("s-broken"), std::string::npos) << problems[0];
  EXPECT_TRUE(fs::exists(dir.path() / "s-broken.damaged"));
}

TEST(Spool, RemovingASessionDeletesItsFolder) {
  test::TempDir dir;
  Spool spool(dir.path(), 1 << 30);
  ASSERT_TRUE(spool.open().ok());
  auto s = spool.create(meta("s1"));
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.value()->remove().ok());
  EXPECT_FALSE(fs::exists(dir.path() / "s1"));
}

}  // namespace
}  // namespace booth
