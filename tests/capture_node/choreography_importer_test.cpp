#include "capture_node/pose/choreography_importer.h"

#include <gtest/gtest.h>

#include "common/pose/pose_accuracy.h"
#include "pose_model_files.h"

namespace booth {
namespace {

namespace fs = std::filesystem;

class ChoreographyImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_import_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ImportConfig config() {
    ImportConfig c;
    c.video = fs::absolute(test::requireSharedAsset("tfjs_pose_1.mp4"));
    c.name = "tfjs-walk";
    c.pose.model_path = test::assetManifest(dir_).string();
    c.pose.input_width = 256;  // small and quick; accuracy is the estimator test's business
    c.pose.input_height = 256;
    return c;
  }
  fs::path dir_;
};

TEST_F(ChoreographyImporterTest, TheAssetVideoBecomesAChoreographyThatFollowsTheDancer) {
  ImportConfig c = config();
  c.max_frames = 60;
  ChoreographyImporter importer(c);
  std::size_t reported = 0;
  auto file = importer.run([&](std::size_t done, std::size_t total) {
    reported = done;
    EXPECT_EQ(total, 120u);
  });
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_EQ(reported, 60u);
  EXPECT_EQ(file->name, "tfjs-walk");
  EXPECT_EQ(file->source, "tfjs_pose_1.mp4");
  EXPECT_DOUBLE_EQ(file->fps, 30);
  EXPECT_EQ(file->width, 576);
  EXPECT_EQ(file->height, 576);
  ASSERT_EQ(file->frames.size(), 60u);
  EXPECT_GE(importer.summary().frames_with_dancer, 55u);
  EXPECT_EQ(importer.summary().input, cv::Size(256, 256));

  // Near the reference: within 30 px for most joints even at 256x256.
  auto reference = PoseAccuracy::loadReference(test::requireSharedAsset("tfjs_pose_1.json"));
  ASSERT_TRUE(reference.ok());
  PoseAccuracy accuracy;
  for (std::size_t i = 0; i < file->frames.size(); ++i) {
    accuracy.add(file->frames[i], (*reference)[i]);
  }
  EXPECT_GE(accuracy.summary().pck_30px, 0.6) << accuracy.summary().mean_px_error;

  // And it survives the trip through the file format.
  ASSERT_TRUE(file->save(dir_ / "walk.json").ok());
  auto back = ChoreographyFile::load(dir_ / "walk.json");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->frames.size(), 60u);
}

TEST_F(ChoreographyImporterTest, TopDownImportsTakeTheDancersJointsFromTheCropNetwork) {
  ImportConfig c = config();
  c.max_frames = 40;
  c.crop_model = test::moveNetAssetManifest(dir_).string();
  ChoreographyImporter importer(c);
  auto file = importer.run();
  ASSERT_TRUE(file.ok()) << file.error();
  ASSERT_EQ(file->frames.size(), 40u);
  EXPECT_EQ(importer.summary().frames_with_dancer, 40u);
  auto reference = PoseAccuracy::loadReference(test::requireSharedAsset("tfjs_pose_1.json"));
  ASSERT_TRUE(reference.ok());
  PoseAccuracy accuracy;
  for (std::size_t i = 0; i < file->frames.size(); ++i) accuracy.add(file->frames[i], (*reference)[i]);
  // MoveNet's precision, far beyond the finder's at 256x256 (above: 30 px
  // for 60 % of joints).
  EXPECT_GE(accuracy.summary().pck_torso20, 0.9);
  EXPECT_LE(accuracy.summary().mean_px_error, 9.0);
}

TEST_F(ChoreographyImporterTest, AMissingVideoIsNamed) {
  ImportConfig c = config();
  c.video = dir_ / "nowhere.mp4";
  auto file = ChoreographyImporter(c).run();
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().find("nowhere.mp4"), std::string::npos) << file.error();
}

TEST_F(ChoreographyImporterTest, AFileThatIsNotAVideoIsNamed) {
  ImportConfig c = config();
  c.video = dir_ / "notes.mp4";
  std::ofstream(c.video) << "not a video at all";
  auto file = ChoreographyImporter(c).run();
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().find("notes.mp4"), std::string::npos) << file.error();
  EXPECT_NE(file.error().find("no decodable frames"), std::string::npos) << file.error();
}

TEST_F(ChoreographyImporterTest, ANameOperatorsCouldNotPickIsRefused) {
  ImportConfig c = config();
  c.name = "my dance!";
  auto file = ChoreographyImporter(c).run();
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().find("'my dance!'"), std::string::npos) << file.error();
}

}  // namespace
}  // namespace booth
