// FrameLog: frames on disk with an index; crash mid-append, recovery,
// release after ack, verified reads.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "common/core/checksum.h"
#include "common/os/durable_file.h"
#include "common/storage/frame_log.h"

namespace booth {
namespace {
namespace fs = std::filesystem;

FrameToAppend frame(std::uint64_t seq, const std::string& data, const std::string& meta = {}) {
  FrameToAppend f;
  f.sequence = seq;
  f.capture_time_us = 100 * static_cast<std::int64_t>(seq);
  f.width = 640;
  f.height = 480;
  f.data = data;
  f.meta = meta;
  return f;
}

class FrameLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_flog_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void appendThree() {
    auto log = FrameLog::open(dir_);
    ASSERT_TRUE(log.ok()) << log.error();
    for (std::uint64_t i = 0; i < 3; ++i) {
      ASSERT_TRUE(log.value()->append(frame(i, "frame-" + std::to_string(i), "m")).ok());
    }
    ASSERT_TRUE(log.value()->sync().ok());
  }
  fs::path dir_;
};

TEST_F(FrameLogTest, FramesAndMetadataComeBackAfterReopening) {
  appendThree();
  auto log = FrameLog::open(dir_);
  ASSERT_TRUE(log.ok()) << log.error();
  ASSERT_EQ(log.value()->size(), 3u);
  auto bytes = log.value()->read(1);
  ASSERT_TRUE(bytes.ok()) << bytes.error();
  EXPECT_EQ(bytes->data, "frame-1");
  EXPECT_EQ(bytes->meta, "m");
  const auto e = log.value()->entry(2);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->sequence, 2u);
  EXPECT_EQ(e->capture_time_us, 200);
  EXPECT_EQ(e->width, 640);
  EXPECT_EQ(e->fnv, fnv1a64("frame-2"));
}

TEST_F(FrameLogTest, CrashBeforeTheIndexEntryLosesOnlyThatFrame) {
  appendThree();
  // The data of a fourth frame reached the disk, its index entry did not.
  {
    auto fd = openFile(dir_ / "frames.dat", O_WRONLY | O_APPEND);
    ASSERT_TRUE(writeAll(fd->get(), "half-written frame", dir_ / "frames.dat").ok());
  }
  auto log = FrameLog::open(dir_);
  ASSERT_TRUE(log.ok()) << log.error();
  EXPECT_EQ(log.value()->size(), 3u);
  // The orphan bytes are gone: the next frame lands right after frame 2.
  auto appended = log.value()->append(frame(3, "frame-3"));
  ASSERT_TRUE(appended.ok());
  EXPECT_EQ(log.value()->read(3)->data, "frame-3");
}

TEST_F(FrameLogTest, TornIndexEntryIsDropped) {
  appendThree();
  fs::resize_file(dir_ / "frames.idx", fs::file_size(dir_ / "frames.idx") - 10);
  auto log = FrameLog::open(dir_);
  ASSERT_TRUE(log.ok()) << log.error();
  EXPECT_EQ(log.value()->size(), 2u);
  EXPECT_EQ(log.value()->recoveredEntries(), 0u);  // a partial entry is not an entry
  EXPECT_EQ(log.value()->read(1)->data, "frame-1");
}

TEST_F(FrameLogTest, IndexPointingPastTheDataIsCut) {
  appendThree();
  // The index made it to disk, the data of the last frame did not.
  fs::resize_file(dir_ / "frames.dat", fs::file_size(dir_ / "frames.dat") - 3);
  auto log = FrameLog::open(dir_);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log.value()->size(), 2u);
  EXPECT_EQ(log.value()->recoveredEntries(), 1u);
}

TEST_F(FrameLogTest, CorruptedBytesAreDetectedOnRead) {
  appendThree();
  {
    auto fd = openFile(dir_ / "frames.dat", O_RDWR);
    ASSERT_TRUE(writeAllAt(fd->get(), "X", 2, dir_ / "frames.dat").ok());
  }
  auto log = FrameLog::open(dir_);
  auto bytes = log.value()->read(0);
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.error().find("checksum"), std::string::npos) << bytes.error();
  EXPECT_TRUE(log.value()->read(1).ok());
}

TEST_F(FrameLogTest, ReleasedFramesFreeTheirBytesButKeepTheirIndex) {
  auto log = FrameLog::open(dir_);
  const std::string big(1 << 20, 'x');
  ASSERT_TRUE(log.value()->append(frame(0, big)).ok());
  ASSERT_TRUE(log.value()->append(frame(1, "small")).ok());
  ASSERT_TRUE(log.value()->sync().ok());
  const auto before = log.value()->allocatedBytes();
  log.value()->release(0);
  EXPECT_LT(log.value()->allocatedBytes() + (512u << 10), before);  // most of 1 MiB freed
  EXPECT_FALSE(log.value()->read(0).ok());
  EXPECT_EQ(log.value()->read(1)->data, "small");
  EXPECT_EQ(log.value()->entry(0)->fnv, fnv1a64(big));
}

TEST_F(FrameLogTest, ImpossibleSizesAreRefused) {
  auto log = FrameLog::open(dir_);
  FrameToAppend f = frame(0, "x");
  f.width = 70000;
  EXPECT_FALSE(log.value()->append(f).ok());
  EXPECT_EQ(log.value()->size(), 0u);
}

}  // namespace
}  // namespace booth
