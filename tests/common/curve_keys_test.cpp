// CURVE key files and the trainer's allow-list.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/transport/curve_keys.h"

namespace booth {
namespace {
namespace fs = std::filesystem;

class CurveKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_keys_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(CurveKeysTest, AWrittenPairLoadsBackWithItsPublicKey) {
  auto keys = generateCurveKeyPair();
  ASSERT_TRUE(keys.ok()) << keys.error();
  EXPECT_TRUE(isZ85Key(keys->public_key));
  ASSERT_TRUE(writeCurveKeyPair(dir_ / "node", keys.value()).ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "node.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = loadCurveSecretKey(dir_ / "node.key");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->public_key, keys->public_key);
  EXPECT_EQ(loadCurvePublicKey(dir_ / "node.pub").value(), keys->public_key);
}

TEST_F(CurveKeysTest, AnExistingSecretKeyIsNeverOverwritten) {
  ASSERT_TRUE(writeCurveKeyPair(dir_ / "node", generateCurveKeyPair().value()).ok());
  auto again = writeCurveKeyPair(dir_ / "node", generateCurveKeyPair().value());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("exists"), std::string::npos) << again.error();
}

TEST_F(CurveKeysTest, ASecretKeyOthersCanReadIsRefused) {
  ASSERT_TRUE(writeCurveKeyPair(dir_ / "node", generateCurveKeyPair().value()).ok());
  fs::permissions(dir_ / "node.key", fs::perms::group_read | fs::perms::others_read,
                  fs::perm_options::add);
  auto loaded = loadCurveSecretKey(dir_ / "node.key");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find("chmod 600"), std::string::npos) << loaded.error();
}

TEST_F(CurveKeysTest, AFileThatIsNotAKeyIsAClearError) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "bad.pub") << "hello";
  auto loaded = loadCurvePublicKey(dir_ / "bad.pub");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().find("keygen"), std::string::npos) << loaded.error();
}

TEST_F(CurveKeysTest, TheAllowListNamesEachKeysNode) {
  const auto a = generateCurveKeyPair().value(), b = generateCurveKeyPair().value();
  fs::create_directories(dir_);
  std::ofstream(dir_ / "allowed") << "# booth nodes\nbooth-1 " << a.public_key
                                  << "\n\n  booth-2   " << b.public_key << "  # back door\n";
  auto list = CurveAllowList::load(dir_ / "allowed");
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(list->size(), 2u);
  EXPECT_EQ(list->nodeFor(a.public_key), "booth-1");
  EXPECT_EQ(list->nodeFor(b.public_key), "booth-2");
  EXPECT_EQ(list->nodeFor(generateCurveKeyPair()->public_key), "");
}

TEST_F(CurveKeysTest, KeysWithAHashCharacterAreNotTakenForComments) {
  CurveKeyPair key;
  do {
    key = generateCurveKeyPair().value();
  } while (key.public_key.find('#') == std::string::npos);  // about 4 in 10 keys have one
  fs::create_directories(dir_);
  std::ofstream(dir_ / "allowed") << "booth-1 " << key.public_key << "\n";
  auto list = CurveAllowList::load(dir_ / "allowed");
  ASSERT_TRUE(list.ok()) << list.error();
  EXPECT_EQ(list->nodeFor(key.public_key), "booth-1");
}

TEST_F(CurveKeysTest, ABadAllowListLineIsNamed) {
  const auto a = generateCurveKeyPair().value();
  fs::create_directories(dir_);
  for (const std::string& text :
       std::vector<std::string>{"booth-1\n", "booth 1 " + a.public_key + "\n", "booth-1 notakey\n",
        "a " + a.public_key + "\nb " + a.public_key + "\n"}) {
    std::ofstream(dir_ / "allowed") << text;
    auto list = CurveAllowList::load(dir_ / "allowed");
    ASSERT_FALSE(list.ok()) << text;
    EXPECT_NE(list.error().find("allowed:"), std::string::npos) << list.error();
  }
}

TEST(LoopbackEndpoint, OnlyLocalAddressesCount) {
  EXPECT_TRUE(isLoopbackEndpoint("tcp://127.0.0.1:5555"));
  EXPECT_TRUE(isLoopbackEndpoint("tcp://localhost:5555"));
  EXPECT_TRUE(isLoopbackEndpoint("ipc:///tmp/booth"));
  EXPECT_FALSE(isLoopbackEndpoint("tcp://0.0.0.0:5555"));
  EXPECT_FALSE(isLoopbackEndpoint("tcp://192.168.1.4:5555"));
  EXPECT_FALSE(isLoopbackEndpoint("tcp://127.0.0.1.evil.example:5555"));
}

}  // namespace
}  // namespace booth
