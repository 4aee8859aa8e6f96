// The operator token: its file, and how requests present it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "trainer_node/http/operator_auth.h"

namespace booth {
namespace {

namespace fs = std::filesystem;

class OperatorTokenFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_token_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& text, fs::perms perms) {
    const fs::path p = dir_ / "token";
    fs::remove(p);
    std::ofstream(p) << text;
    fs::permissions(p, perms);
    return p;
  }
  fs::path dir_;
};

TEST_F(OperatorTokenFile, IsCreatedPrivateWhenMissing) {
  auto token = loadOperatorToken(dir_ / "new", true);
  ASSERT_TRUE(token.ok()) << token.error();
  EXPECT_EQ(token->size(), 32u);
  EXPECT_EQ(fs::status(dir_ / "new").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto again = loadOperatorToken(dir_ / "new", false);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again.value(), token.value());
}

TEST_F(OperatorTokenFile, MissingFileIsAnErrorWhenNamedExplicitly) {
  auto token = loadOperatorToken(dir_ / "absent", false);
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.error().find("absent"), std::string::npos);
}

TEST_F(OperatorTokenFile, ReadableByOthersIsRefused) {
  auto p = write("a-long-enough-operator-token\n",
                 fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  auto token = loadOperatorToken(p, false);
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.error().find("chmod 600"), std::string::npos) << token.error();
}

TEST_F(OperatorTokenFile, ShortOrOddTokensAreRefused) {
  EXPECT_FALSE(loadOperatorToken(write("short\n", fs::perms::owner_read), false).ok());
  EXPECT_FALSE(
      loadOperatorToken(write("has a space in the middle\n", fs::perms::owner_read), false).ok());
  EXPECT_FALSE(
      loadOperatorToken(write("has;semicolon-in-it-x\n", fs::perms::owner_read), false).ok());
  auto ok = loadOperatorToken(write("good-token-0123456789\r\n", fs::perms::owner_read), false);
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(ok.value(), "good-token-0123456789");
}

TEST(OperatorAuth, CookieValueIsFoundAmongOthers) {
  EXPECT_EQ(cookieValue("a=1; booth_operator=secret; b=2", "booth_operator"), "secret");
  EXPECT_EQ(cookieValue("booth_operator=\"quoted\"", "booth_operator"), "quoted");
  EXPECT_EQ(cookieValue("xbooth_operator=no; c=3", "booth_operator"), std::nullopt);
  EXPECT_EQ(cookieValue("", "booth_operator"), std::nullopt);
  EXPECT_EQ(cookieValue(";;; =; booth_operator", "booth_operator"), std::nullopt);
}

TEST(OperatorAuth, BearerTokenComesOnlyFromABearerHeader) {
  EXPECT_EQ(bearerToken("Bearer abc"), "abc");
  EXPECT_EQ(bearerToken(""), std::nullopt);
  EXPECT_EQ(bearerToken("Basic abc"), std::nullopt);
  EXPECT_EQ(bearerToken("Bearer "), std::nullopt);
}

TEST(OperatorAuth, SameSecretComparesWholeStrings) {
  EXPECT_TRUE(sameSecret("operator-token", "operator-token"));
  EXPECT_FALSE(sameSecret("operator-token", "operator-tokeN"));
  EXPECT_FALSE(sameSecret("operator-token-and-more", "operator-token"));
  EXPECT_FALSE(sameSecret("operator", "operator-token"));
  EXPECT_FALSE(sameSecret("", "operator-token"));
}

TEST(OperatorAuth, RandomTokensDiffer) {
  const auto a = randomHexToken(), b = randomHexToken();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace booth
