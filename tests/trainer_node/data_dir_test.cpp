// The data directory is made private, including what an older version left.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "trainer_node/store/data_dir.h"

namespace booth {
namespace {

namespace fs = std::filesystem;

TEST(DataDir, IsCreatedPrivate) {
  const fs::path dir =
      fs::temp_directory_path() / ("booth_datadir_new_" + std::to_string(getpid()));
  fs::remove_all(dir);
  ASSERT_TRUE(secureDataDir(dir / "data").ok());
  EXPECT_EQ(fs::status(dir / "data").permissions() & fs::perms::all, fs::perms::owner_all);
  fs::remove_all(dir);
}

TEST(DataDir, ExistingFilesAndFoldersAreTightened) {
  const fs::path dir =
      fs::temp_directory_path() / ("booth_datadir_old_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "sessions" / "s1");
  std::ofstream(dir / "jobs.sqlite") << "x";
  std::ofstream(dir / "sessions" / "s1" / "1.rec") << "x";
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read |
                           fs::perms::others_exec);
  fs::permissions(dir / "sessions" / "s1", fs::perms::all);
  fs::permissions(dir / "jobs.sqlite",
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  fs::permissions(dir / "sessions" / "s1" / "1.rec", fs::perms::all);

  ASSERT_TRUE(secureDataDir(dir).ok());
  const auto file = fs::perms::owner_read | fs::perms::owner_write;
  EXPECT_EQ(fs::status(dir).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(dir / "sessions" / "s1").permissions() & fs::perms::all,
            fs::perms::owner_all);
  EXPECT_EQ(fs::status(dir / "jobs.sqlite").permissions() & fs::perms::all, file);
  EXPECT_EQ(fs::status(dir / "sessions" / "s1" / "1.rec").permissions() & fs::perms::all, file);
  fs::remove_all(dir);
}

TEST(DataDir, UncreatablePathIsAClearError) {
  std::ofstream("/tmp/booth_datadir_file_" + std::to_string(getpid())) << "x";
  auto st = secureDataDir("/tmp/booth_datadir_file_" + std::to_string(getpid()) + "/data");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.error().find("--data-dir"), std::string::npos);
  fs::remove("/tmp/booth_datadir_file_" + std::to_string(getpid()));
}

}  // namespace
}  // namespace booth
