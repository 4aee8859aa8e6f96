#include "common/pose/choreography_file.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace booth {
namespace {

namespace fs = std::filesystem;

ChoreographyFile sample() {
  ChoreographyFile file;
  file.name = "salsa-1";
  file.source = "salsa.mp4";
  file.fps = 25;
  file.width = 640;
  file.height = 480;
  for (int i = 0; i < 3; ++i) {
    Pose pose;
    if (i != 1) {  // frame 1: nobody
      for (int j = 0; j < kCoco17Count; ++j) {
        pose.points[j] = {10.25f * j + i, 200.5f - j, 0.75f, j == 4};
      }
      pose.points[16].confidence = 0;  // one joint never seen
    }
    file.frames.push_back(pose);
  }
  return file;
}

class ChoreographyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_choreography_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ChoreographyFileTest, SaveThenLoadGivesTheSameChoreography) {
  const ChoreographyFile file = sample();
  ASSERT_TRUE(file.save(dir_ / "salsa.json").ok());
  auto back = ChoreographyFile::load(dir_ / "salsa.json");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->name, "salsa-1");
  EXPECT_EQ(back->source, "salsa.mp4");
  EXPECT_DOUBLE_EQ(back->fps, 25);
  EXPECT_EQ(back->width, 640);
  EXPECT_EQ(back->height, 480);
  ASSERT_EQ(back->frames.size(), 3u);
  EXPECT_EQ(back->frames[1].validCount(), 0);
  for (int f : {0, 2}) {
    for (int j = 0; j < 16; ++j) {
      EXPECT_NEAR(back->frames[f].points[j].x, file.frames[f].points[j].x, 0.005f);
      EXPECT_NEAR(back->frames[f].points[j].y, file.frames[f].points[j].y, 0.005f);
      EXPECT_EQ(back->frames[f].points[j].imputed, j == 4);
    }
    EXPECT_FALSE(isUsable(back->frames[f].points[16]));
  }
  EXPECT_FALSE(fs::exists(dir_ / "salsa.json.tmp"));
}

TEST_F(ChoreographyFileTest, PoseAtPicksTheNearestFrameAndClamps) {
  const ChoreographyFile file = sample();
  EXPECT_FLOAT_EQ(file.poseAt(-1).points[0].x, 0.f);
  EXPECT_FLOAT_EQ(file.poseAt(0.079).points[0].x, 2.f);  // 1.98 frames -> frame 2
  EXPECT_FLOAT_EQ(file.poseAt(100).points[0].x, 2.f);
  EXPECT_DOUBLE_EQ(file.seconds(), 3.0 / 25);
}

TEST_F(ChoreographyFileTest, MissingFileNamesThePath) {
  auto r = ChoreographyFile::load(dir_ / "none.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("none.json"), std::string::npos) << r.error();
}

TEST_F(ChoreographyFileTest, BadNamesAreRefused) {
  ChoreographyFile file = sample();
  file.name = "../etc/passwd";
  EXPECT_FALSE(file.save(dir_ / "x.json").ok());
  EXPECT_FALSE(ChoreographyFile::isValidName(""));
  EXPECT_FALSE(ChoreographyFile::isValidName(std::string(65, 'a')));
  EXPECT_TRUE(ChoreographyFile::isValidName("Hip_hop-2"));
}

TEST_F(ChoreographyFileTest, ParseRejectsOutOfRangeValuesNamingThem) {
  std::string json = sample().toJson();
  const auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = json;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {replaced("\"fps\":25.0", "\"fps\":0"), "fps"},
      {replaced("\"width\":640", "\"width\":-4"), "frame size"},
      {replaced("\"format\":\"booth-choreography\"", "\"format\":\"x\""), "format"},
      {replaced("\"version\":1", "\"version\":7"), "version"},
      {replaced("\"name\":\"salsa-1\"", "\"name\":\"a b\""), "name"},
      {replaced("[0.0,200.5,0.75,0]", "[0.0,200.5,7,0]"), "frame 0 joint nose"},
      {"{\"format\": 3", "not valid JSON"},
      {"[1,2]", "not a JSON object"},
  };
  for (const Case& c : cases) {
    auto r = ChoreographyFile::parse(c.text, "test.json");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().find(c.expect), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("test.json"), std::string::npos) << r.error();
  }
}

TEST_F(ChoreographyFileTest, AChoreographyWithoutFramesIsRefused) {
  ChoreographyFile file = sample();
  file.frames.clear();
  EXPECT_FALSE(file.save(dir_ / "empty.json").ok());
  std::string json = sample().toJson();
  const auto at = json.find("\"frames\":");
  json = json.substr(0, at) + "\"frames\":[]}";
  EXPECT_FALSE(ChoreographyFile::parse(json, "t").ok());
}


TEST_F(ChoreographyFileTest, AScanListsLoadableFilesNamedByTheirNameAndSaysWhyOthersAreNot) {
  ASSERT_TRUE(sample().save(dir_ / "salsa-1.json").ok());
  ChoreographyFile renamed = sample();
  renamed.name = "tango";
  ASSERT_TRUE(renamed.save(dir_ / "other.json").ok());
  std::ofstream(dir_ / "broken.json") << "{not json";
  std::ofstream(dir_ / "notes.txt") << "ignored";
  const ChoreographyDirScan scan = scanChoreographyDir(dir_);
  EXPECT_EQ(scan.names, (std::vector<std::string>{"salsa-1"}));
  ASSERT_EQ(scan.problems.size(), 2u);
  std::string all = scan.problems[0] + "\n" + scan.problems[1];
  EXPECT_NE(all.find("broken.json"), std::string::npos) << all;
  EXPECT_NE(all.find("other.json"), std::string::npos) << all;
  EXPECT_TRUE(scanChoreographyDir(dir_ / "missing").names.empty());
}

}  // namespace
}  // namespace booth
