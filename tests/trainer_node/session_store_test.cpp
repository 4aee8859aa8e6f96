// SessionStore: durable, deduplicated frame records and manifest checks.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/core/checksum.h"
#include "trainer_node/store/session_store.h"

namespace booth {
namespace {

v1::FrameRecord record(std::uint64_t seq, const std::string& data) {
  v1::FrameRecord r;
  r.mutable_frame()->set_session_id("s1");
  r.mutable_frame()->set_camera_id("cam0");
  r.mutable_frame()->set_sequence(seq);
  r.mutable_frame()->set_data(data);
  return r;
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

TEST_F(SessionStoreTest, WritesThenLoadsInSequenceOrder) {
  SessionStore store(dir_, /*fsync=*/true);
  for (std::uint64_t s : {2u, 0u, 1u})
    ASSERT_TRUE(store.write("node", record(s, "d" + std::to_string(s))).ok());
  auto loaded = store.load("s1", "node", "cam0");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ASSERT_EQ(loaded->size(), 3u);
  EXPECT_EQ((*loaded)[0].data, "d0");
  EXPECT_EQ((*loaded)[2].sequence, 2u);
}

TEST_F(SessionStoreTest, ListsEveryStoredCamera) {
  SessionStore store(dir_, /*fsync=*/false);
  ASSERT_TRUE(store.write("node", record(0, "d0")).ok());
  auto other = record(0, "x");
  other.mutable_frame()->set_camera_id("cam1");
  ASSERT_TRUE(store.write("node", other).ok());
  const auto cameras = store.listCameras();
  ASSERT_EQ(cameras.size(), 2u);
  EXPECT_EQ(cameras[0].session_id, "s1");
  EXPECT_EQ(cameras[0].node_id, "node");
  EXPECT_EQ(cameras[0].camera_id, "cam0");
  EXPECT_EQ(cameras[1].camera_id, "cam1");
}

TEST_F(SessionStoreTest, ResendIsDeduplicated) {
  SessionStore store(dir_, false);
  auto first = store.write("node", record(0, "x"));
  auto again = store.write("node", record(0, "x"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(first.value());
  EXPECT_FALSE(again.value());
  EXPECT_EQ(store.load("s1", "node", "cam0")->size(), 1u);
}

TEST_F(SessionStoreTest, RejectsIdsThatWouldEscapeTheDataDirectory) {
  SessionStore store(dir_, false);
  v1::FrameRecord r = record(0, "x");
  r.mutable_frame()->set_session_id("../../etc");
  EXPECT_FALSE(store.write("node", r).ok());
  EXPECT_FALSE(store.write("../node", record(0, "x")).ok());
}

TEST_F(SessionStoreTest, ManifestVerification) {
  SessionStore store(dir_, false);
  ASSERT_TRUE(store.write("node", record(0, "a")).ok());
  ASSERT_TRUE(store.write("node", record(1, "b")).ok());
  v1::SessionManifest m;
  m.set_session_id("s1");
  m.set_node_id("node");
  auto* c = m.add_cameras();
  c->set_camera_id("cam0");
  c->set_frame_count(2);
  c->set_checksum(fnv1a64("a") + fnv1a64("b"));
  EXPECT_TRUE(store.verify(m).ok());

  c->set_frame_count(3);
  auto missing = store.verify(m);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("3 frames"), std::string::npos) << missing.error();

  c->set_frame_count(2);
  c->set_checksum(12345);
  auto corrupt = store.verify(m);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.error().find("checksum"), std::string::npos);
}

}  // namespace
}  // namespace booth
