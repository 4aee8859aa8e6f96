// renderClip: the reference choreography through the generator into an MP4.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/mp4_probe.h"
#include "trainer_node/render/clip_renderer.h"

namespace booth {
namespace {

// An untrained generator: rendering does not care what it draws.
Result<std::unique_ptr<PoseToImageModel>> tinyModel() {
  ModelConfig mc;
  mc.resolution = 32;
  mc.ngf = 4;
  mc.ndf = 4;
  mc.blocks = 1;
  return PoseToImageModel::create(mc, "cpu");
}

TEST(ClipRenderer, WritesEveryFrameOfTheChoreographyInThreePanels) {
  auto model = tinyModel();
  ASSERT_TRUE(model.ok()) << model.error();
  FloorStats visitor{20.f, 30.f, 18.f, 26.f, 16.f};
  RenderConfig rc;
  rc.seconds = 1.5;
  rc.fps = 10;
  rc.panel_size = 48;
  const auto path =
      std::filesystem::temp_directory_path() / ("booth_clip_" + std::to_string(getpid()) + ".mp4");
  double last_progress = 0;
  auto clip =
      renderClip(*model.value(), visitor, rc, path.string(), [&](double p) { last_progress = p; });
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
  std::filesystem::remove(path);
}

TEST(ClipRenderer, UnknownChoreographyIsAnError) {
  auto model = tinyModel();
  ASSERT_TRUE(model.ok()) << model.error();
  RenderConfig rc;
  rc.choreography = "tango";
  auto clip = renderClip(*model.value(), FloorStats{}, rc, "/tmp/unused.mp4", nullptr);
  ASSERT_FALSE(clip.ok());
  EXPECT_NE(clip.error().find("tango"), std::string::npos);
}

}  // namespace
}  // namespace booth
