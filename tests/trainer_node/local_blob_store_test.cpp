// LocalBlobStore beyond the shared contract (blob_store_test.cpp): private
// permissions and the hidden temporary file of a write in progress.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "trainer_node/store/local_blob_store.h"

namespace booth {
namespace {

class LocalBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("local_blob_store_test_" + std::to_string(std::random_device{}()));
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path dir_;
};

mode_t modeOf(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 0777;
}

TEST_F(LocalBlobStoreTest, FoldersArePrivateAndFilesOwnerOnly) {
  LocalBlobStore store(dir_, false);
  ASSERT_TRUE(store.put("clips/x/a.mp4", "bytes").ok());
  EXPECT_EQ(modeOf(dir_ / "clips"), 0700u);
  EXPECT_EQ(modeOf(dir_ / "clips" / "x"), 0700u);
  EXPECT_EQ(modeOf(dir_ / "clips" / "x" / "a.mp4"), 0600u);
}

TEST_F(LocalBlobStoreTest, WriteInProgressIsAHiddenFileBesideItsTarget) {
  LocalBlobStore store(dir_, false);
  auto w = store.openWriter("clips/a.mp4");
  ASSERT_TRUE(w.ok()) << w.error();
  ASSERT_TRUE(w.value()->write("partial").ok());
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "clips")) {
    names.push_back(e.path().filename().string());
  }
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].rfind(".a.mp4.partial-", 0), 0u) << names[0];
  EXPECT_FALSE(std::filesystem::exists(dir_ / "clips" / "a.mp4"));
  ASSERT_TRUE(w.value()->commit({}).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "clips" / "a.mp4"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ / "clips"),
                          std::filesystem::directory_iterator()),
            1);
}

TEST_F(LocalBlobStoreTest, ListingSkipsLinksAndForeignNames) {
  LocalBlobStore store(dir_, false);
  ASSERT_TRUE(store.put("clips/a.mp4", "a").ok());
  std::filesystem::create_symlink("/etc/passwd", dir_ / "clips" / "link.mp4");
  { std::ofstream(dir_ / "clips" / "bad name.mp4") << "x"; }
  auto all = store.list("");
  ASSERT_TRUE(all.ok()) << all.error();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().key, "clips/a.mp4");
  EXPECT_FALSE(store.openReader("clips/link.mp4", {}).ok());
}

TEST_F(LocalBlobStoreTest, MissingRootListsNothing) {
  LocalBlobStore store(dir_ / "never-created", false);
  auto all = store.list("");
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_TRUE(all->empty());
}

}  // namespace
}  // namespace booth
