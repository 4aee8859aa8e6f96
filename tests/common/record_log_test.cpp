// RecordLog: append-only records that survive a crash at any byte.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "common/os/durable_file.h"
#include "common/storage/record_log.h"

namespace booth {
namespace {
namespace fs = std::filesystem;

class RecordLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_rlog_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(RecordLogTest, RecordsComeBackInOrderAfterReopening) {
  {
    auto log = RecordLog::open(dir_ / "a.log");
    ASSERT_TRUE(log.ok()) << log.error();
    ASSERT_TRUE(log.value()->append("one").ok());
    ASSERT_TRUE(log.value()->append(std::string("tw\0o", 4)).ok());
    ASSERT_TRUE(log.value()->append("").ok());
  }
  auto again = RecordLog::open(dir_ / "a.log");
  ASSERT_TRUE(again.ok());
  const auto records = again.value()->records();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0], "one");
  EXPECT_EQ(records[1], std::string("tw\0o", 4));
  EXPECT_EQ(records[2], "");
  EXPECT_EQ(again.value()->recoveredTailBytes(), 0u);
}

TEST_F(RecordLogTest, ATornTailIsCutAndEverythingBeforeItKept) {
  const fs::path path = dir_ / "a.log";
  {
    auto log = RecordLog::open(path);
    ASSERT_TRUE(log.value()->append("kept").ok());
    ASSERT_TRUE(log.value()->append("this one is torn").ok());
  }
  // A crash in the middle of the second write: cut it short.
  fs::resize_file(path, fs::file_size(path) - 5);
  auto log = RecordLog::open(path);
  ASSERT_TRUE(log.ok()) << log.error();
  ASSERT_EQ(log.value()->count(), 1u);
  EXPECT_EQ(log.value()->records()[0], "kept");
  EXPECT_GT(log.value()->recoveredTailBytes(), 0u);
  // New appends land after the kept record, and survive.
  ASSERT_TRUE(log.value()->append("after").ok());
  log.value().reset();
  auto again = RecordLog::open(path);
  ASSERT_EQ(again.value()->count(), 2u);
  EXPECT_EQ(again.value()->records()[1], "after");
}

TEST_F(RecordLogTest, ACorruptedRecordEndsTheLogThere) {
  const fs::path path = dir_ / "a.log";
  {
    auto log = RecordLog::open(path);
    ASSERT_TRUE(log.value()->append("first").ok());
    ASSERT_TRUE(log.value()->append("second").ok());
  }
  auto fd = openFile(path, O_RDWR);
  ASSERT_TRUE(fd.ok());
  // Flip a byte of the second record's body: its checksum no longer matches.
  const auto size = fs::file_size(path);
  ASSERT_TRUE(writeAllAt(fd->get(), "X", size - 1, path).ok());
  auto log = RecordLog::open(path);
  ASSERT_EQ(log.value()->count(), 1u);
  EXPECT_EQ(log.value()->records()[0], "first");
}

TEST_F(RecordLogTest, OversizedRecordIsRefused) {
  auto log = RecordLog::open(dir_ / "a.log");
  EXPECT_FALSE(log.value()->append(std::string(RecordLog::kMaxRecordBytes + 1, 'x')).ok());
  EXPECT_EQ(log.value()->count(), 0u);
}

TEST_F(RecordLogTest, UnwritablePlaceIsAClearError) {
  auto log = RecordLog::open(dir_ / "missing-dir" / "a.log");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().find("missing-dir"), std::string::npos) << log.error();
}

}  // namespace
}  // namespace booth
