// renderClip: the reference choreography through the generator into an MP4.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/pose/choreography_file.h"
#include "model_test_support.h"
#include "support/mp4_probe.h"
#include "trainer_node/render/clip_renderer.h"

namespace booth {
namespace {

// An untrained generator: rendering does not care what it draws.
Result<std::unique_ptr<PoseToImageModel>> tinyModel() {
  return PoseToImageModel::create(test::tinyModelConfig(), "cpu");
}

const VisitorFrame kVisitor{FloorStats{20.f, 30.f, 18.f, 26.f, 16.f}, 8};

std::filesystem::path clipPath(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("booth_clip_" + name + "_" + std::to_string(getpid()) + ".mp4");
}

TEST(ClipRenderer, WritesEveryFrameOfTheChoreographyInThreePanels) {
  auto model = tinyModel();
  ASSERT_TRUE(model.ok()) << model.error();
  RenderConfig rc;
  rc.seconds = 1.5;
  rc.fps = 10;
  rc.panel_size = 48;
  const auto path = clipPath("whole");
  double last_progress = 0;
  RenderHooks hooks;
  hooks.progress = [&](double p) { last_progress = p; };
  auto clip = renderClip(*model.value(), kVisitor, rc, path.string(), hooks);
  ASSERT_TRUE(clip.ok()) << clip.error();
  EXPECT_EQ(clip->frames, 15);
  EXPECT_EQ(clipFrameCount(rc), 15);
  EXPECT_DOUBLE_EQ(last_progress, 1.0);
  const auto probe = testing::probeMp4(path.string());
  ASSERT_TRUE(probe.ok) << probe.error;
  EXPECT_EQ(probe.frames, 15);
  EXPECT_EQ(probe.width, 3 * 48);
  EXPECT_EQ(probe.height, 48);
  EXPECT_EQ(clip->bytes, static_cast<std::int64_t>(std::filesystem::file_size(path)));
  EXPECT_FALSE(std::filesystem::exists(path.string() + kPartialClipSuffix));
  std::filesystem::remove(path);
}

TEST(ClipRenderer, ACancelledRenderLeavesNoFile) {
  auto model = tinyModel();
  ASSERT_TRUE(model.ok()) << model.error();
  RenderConfig rc;
  rc.seconds = 2;
  rc.fps = 10;
  rc.panel_size = 32;
  const auto path = clipPath("cancelled");
  int frames = 0;
  RenderHooks hooks;
  hooks.should_stop = [&] { return ++frames > 5; };
  auto clip = renderClip(*model.value(), kVisitor, rc, path.string(), hooks);
  ASSERT_FALSE(clip.ok());
  EXPECT_NE(clip.error().find("cancelled"), std::string::npos) << clip.error();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path.string() + kPartialClipSuffix));
}

TEST(ClipRenderer, PosesAreMappedOntoTheVisitorsFloor) {
  RenderConfig rc;
  rc.seconds = 1;
  rc.fps = 10;
  auto poses = clipPoses(rc, kVisitor.floor);
  ASSERT_TRUE(poses.ok()) << poses.error();
  ASSERT_EQ(poses->mapped.size(), 10u);
  ASSERT_EQ(poses->reference.size(), 10u);
  // The reference dances on a 640x480 stage; mapped, its ankles stand on
  // the visitor's floor band (model pixels 20..30, a little slack).
  for (const Pose& p : poses->mapped) {
    const float ankle = std::max(p[Coco17::kLeftAnkle].y, p[Coco17::kRightAnkle].y);
    EXPECT_GT(ankle, 15.f);
    EXPECT_LT(ankle, 35.f);
  }
}

TEST(ClipRenderer, MeasuresFrameTimeWithoutWriting) {
  auto model = tinyModel();
  ASSERT_TRUE(model.ok()) << model.error();
  RenderConfig rc;
  rc.panel_size = 32;
  auto seconds = measureRenderFrameSeconds(*model.value(), kVisitor, rc, 2);
  ASSERT_TRUE(seconds.ok()) << seconds.error();
  EXPECT_GT(seconds.value(), 0);
}

TEST(ClipRenderer, UnknownChoreographyIsAnError) {
  auto model = tinyModel();
  ASSERT_TRUE(model.ok()) << model.error();
  RenderConfig rc;
  rc.choreography = "tango";
  auto clip = renderClip(*model.value(), kVisitor, rc, "/tmp/unused.mp4");
  ASSERT_FALSE(clip.ok());
  EXPECT_NE(clip.error().find("tango"), std::string::npos);
}


TEST(ClipRenderer, AnImportedChoreographyComesFromTheChoreographyDir) {
  // The built-in disco, saved as an imported file on the same 640x480
  // stage at the clip's rate, with one frame where nobody was seen.
  RenderConfig builtin;
  builtin.seconds = 1;
  builtin.fps = 10;
  auto expected = clipPoses(builtin, kVisitor.floor);
  ASSERT_TRUE(expected.ok()) << expected.error();
  ChoreographyFile file;
  file.name = "imported-disco";
  file.fps = 10;
  file.width = 640;
  file.height = 480;
  file.frames = expected->reference;
  file.frames[4] = Pose{};  // nobody: the pose before it is held
  const auto dir = std::filesystem::temp_directory_path() /
                   ("booth_choreographies_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(file.save(dir / "imported-disco.json").ok());

  RenderConfig rc = builtin;
  rc.choreography = "imported-disco";
  rc.choreography_dir = dir;
  auto poses = clipPoses(rc, kVisitor.floor);
  ASSERT_TRUE(poses.ok()) << poses.error();
  ASSERT_EQ(poses->reference.size(), expected->reference.size());
  for (std::size_t i = 0; i < poses->reference.size(); ++i) {
    const Pose& want = expected->reference[i == 4 ? 3 : i];
    EXPECT_NEAR(poses->reference[i][Coco17::kNose].x, want[Coco17::kNose].x, 0.01f) << i;
    EXPECT_NEAR(poses->reference[i][Coco17::kLeftAnkle].y, want[Coco17::kLeftAnkle].y, 0.01f) << i;
  }

  rc.choreography = "not-there";
  auto missing = clipPoses(rc, kVisitor.floor);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("not-there"), std::string::npos) << missing.error();
  rc.choreography = "../escape";
  EXPECT_FALSE(clipPoses(rc, kVisitor.floor).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace booth
