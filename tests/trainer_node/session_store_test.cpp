// SessionStore: the trainer's own files for frames and poses; durable,
// deduplicated, private.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "common/core/checksum.h"
#include "trainer_node/store/session_store.h"

namespace booth {
namespace {

FrameToAppend frame(std::uint64_t seq, const std::string& data) {
  FrameToAppend f;
  f.sequence = seq;
  f.capture_time_us = 1000 + static_cast<std::int64_t>(seq);
  f.width = 4;
  f.height = 3;
  f.data = data;
  return f;
}

PoseRecord pose(std::uint64_t seq, bool with_performer = true) {
  PoseRecord p;
  p.camera_id = "cam0";
  p.sequence = seq;
  if (with_performer) {
    Pose performer;
    performer.points[0] = {1.f + static_cast<float>(seq), 2.f, 0.9f, false};
    p.performer = performer;
  }
  return p;
}

class SessionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("booth_sessions_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SessionStoreTest, FramesLoadInSequenceOrderWithTheirPerformerPose) {
  SessionStore store(dir_, /*fsync=*/true);
  for (std::uint64_t s : {2u, 0u, 1u}) {
    ASSERT_TRUE(store.writeFrame("s1", "node", "cam0", frame(s, "d" + std::to_string(s))).ok());
  }
  ASSERT_TRUE(store.writePose("s1", "node", pose(0)).ok());
  ASSERT_TRUE(store.writePose("s1", "node", pose(1, /*with_performer=*/false)).ok());
  ASSERT_TRUE(store.sync().ok());
  store.close("s1");
  auto loaded = store.load("s1", "node", "cam0");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ASSERT_EQ(loaded->size(), 3u);
  EXPECT_EQ((*loaded)[0].data, "d0");
  EXPECT_EQ((*loaded)[2].sequence, 2u);
  EXPECT_EQ((*loaded)[2].width, 4);
  ASSERT_TRUE((*loaded)[0].pose.has_value());
  EXPECT_FLOAT_EQ((*loaded)[0].pose->points[0].x, 1.f);
  EXPECT_FALSE((*loaded)[1].pose.has_value());  // no performer in that frame
  EXPECT_FALSE((*loaded)[2].pose.has_value());  // no pose record at all
}

TEST_F(SessionStoreTest, ResendsAreNoOps) {
  SessionStore store(dir_, /*fsync=*/false);
  EXPECT_TRUE(store.writeFrame("s1", "node", "cam0", frame(0, "first")).value());
  EXPECT_FALSE(store.writeFrame("s1", "node", "cam0", frame(0, "again")).value());
  EXPECT_TRUE(store.writePose("s1", "node", pose(0)).value());
  EXPECT_FALSE(store.writePose("s1", "node", pose(0)).value());
  const CameraTotals t = store.totals("s1", "node", "cam0").value();
  EXPECT_EQ(t.frames, 1u);
  EXPECT_EQ(t.poses, 1u);
  EXPECT_EQ(t.checksum, fnv1a64("first"));
  store.close("s1");
  EXPECT_EQ(store.load("s1", "node", "cam0")->front().data, "first");
}

TEST_F(SessionStoreTest, DeduplicationSurvivesReopening) {
  {
    SessionStore store(dir_, /*fsync=*/true);
    ASSERT_TRUE(store.writeFrame("s1", "node", "cam0", frame(5, "x")).ok());
    ASSERT_TRUE(store.sync().ok());
  }
  SessionStore again(dir_, /*fsync=*/true);
  EXPECT_FALSE(again.writeFrame("s1", "node", "cam0", frame(5, "x")).value());
  EXPECT_EQ(again.totals("s1", "node", "cam0").value().frames, 1u);
}

TEST_F(SessionStoreTest, RejectsIdsThatWouldEscapeTheDataDirectory) {
  SessionStore store(dir_, /*fsync=*/false);
  EXPECT_FALSE(store.writeFrame("../evil", "node", "cam0", frame(0, "x")).ok());
  EXPECT_FALSE(store.writeFrame("s1", "a/b", "cam0", frame(0, "x")).ok());
  EXPECT_FALSE(store.writeFrame("s1", "node", ".hidden", frame(0, "x")).ok());
  EXPECT_FALSE(store.writeFrame("s1", "node with space", "cam0", frame(0, "x")).ok());
  EXPECT_FALSE(std::filesystem::exists(dir_.parent_path() / "evil"));
}

TEST_F(SessionStoreTest, VisitorDataIsPrivateToTheOwner) {
  SessionStore store(dir_, /*fsync=*/true);
  ASSERT_TRUE(store.writeFrame("s1", "node", "cam0", frame(0, "x")).ok());
  ASSERT_TRUE(store.sync().ok());
  struct stat st {};
  ASSERT_EQ(::stat(store.sessionDir("s1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((store.sessionDir("s1") / "node" / "cam0" / "frames.dat").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SessionStoreTest, ListsEveryStoredCamera) {
  SessionStore store(dir_, /*fsync=*/false);
  ASSERT_TRUE(store.writeFrame("s1", "node", "cam0", frame(0, "d0")).ok());
  ASSERT_TRUE(store.writeFrame("s1", "node", "cam1", frame(0, "x")).ok());
  const auto cameras = store.listCameras();
  ASSERT_EQ(cameras.size(), 2u);
  EXPECT_EQ(cameras[0].session_id, "s1");
  EXPECT_EQ(cameras[0].node_id, "node");
  EXPECT_EQ(cameras[0].camera_id, "cam0");
  EXPECT_EQ(cameras[1].camera_id, "cam1");
}

TEST_F(SessionStoreTest, LoadingACameraThatHasNothingIsAClearError) {
  SessionStore store(dir_, /*fsync=*/false);
  auto loaded = store.load("s1", "node", "cam9");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find("no frames stored"), std::string::npos) << loaded.error();
}

}  // namespace
}  // namespace booth
