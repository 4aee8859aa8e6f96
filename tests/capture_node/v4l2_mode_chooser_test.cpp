// chooseCaptureMode / captureModes: which format and size a request gets.
#include "capture_node/v4l2/v4l2_mode_chooser.h"

#include <gtest/gtest.h>

namespace booth {
namespace {

constexpr std::uint32_t kMjpg = V4L2_PIX_FMT_MJPEG;
constexpr std::uint32_t kYuyv = V4L2_PIX_FMT_YUYV;

V4l2Mode chosen(const std::vector<V4l2Mode>& modes, int width, int height, double fps) {
  const auto mode = chooseCaptureMode(modes, {width, height, fps});
  EXPECT_TRUE(mode.has_value());
  return mode.value_or(V4l2Mode{});
}

TEST(V4l2ModeChooser, ExactSizeAtTheRateWins) {
  const V4l2Mode m =
      chosen({{kMjpg, 1280, 720, 30}, {kMjpg, 640, 480, 30}, {kMjpg, 320, 240, 30}}, 640, 480, 30);
  EXPECT_EQ(m.width, 640u);
  EXPECT_EQ(m.height, 480u);
}

TEST(V4l2ModeChooser, MjpegBeatsYuyvAtTheSameSizeAndRate) {
  EXPECT_EQ(chosen({{kYuyv, 640, 480, 30}, {kMjpg, 640, 480, 30}}, 640, 480, 30).fourcc, kMjpg);
}

TEST(V4l2ModeChooser, RateBeatsFormatPreference) {
  EXPECT_EQ(chosen({{kMjpg, 640, 480, 30}, {kYuyv, 640, 480, 60}}, 640, 480, 60).fourcc, kYuyv);
}

TEST(V4l2ModeChooser, RateBeatsTheRequestedSize) {
  const V4l2Mode m = chosen({{kMjpg, 640, 480, 60}, {kMjpg, 320, 240, 120}}, 640, 480, 120);
  EXPECT_EQ(m.width, 320u);
}

TEST(V4l2ModeChooser, WhenNothingReachesTheRateTheFastestWins) {
  const V4l2Mode m = chosen({{kMjpg, 640, 480, 30}, {kMjpg, 1280, 720, 60}}, 640, 480, 120);
  EXPECT_EQ(m.width, 1280u);
}

TEST(V4l2ModeChooser, NearestSizeWhenTheRequestedOneIsMissing) {
  const V4l2Mode m =
      chosen({{kMjpg, 1920, 1080, 30}, {kMjpg, 800, 600, 30}, {kMjpg, 320, 240, 30}}, 640, 480, 30);
  EXPECT_EQ(m.width, 800u);
}

TEST(V4l2ModeChooser, UnknownRateBeatsAKnownShortfall) {
  EXPECT_EQ(chosen({{kMjpg, 640, 480, 30}, {kYuyv, 640, 480, 0}}, 640, 480, 60).fourcc, kYuyv);
}

TEST(V4l2ModeChooser, FractionalRateReachesTheRoundedRequest) {
  // 29.97 fps (1001/30000) is what "30 fps" means to many cameras.
  const V4l2Mode m = chosen({{kMjpg, 320, 240, 30}, {kMjpg, 640, 480, 29.97}}, 640, 480, 30);
  EXPECT_EQ(m.width, 640u);
}

TEST(V4l2ModeChooser, NoModesIsNothing) {
  EXPECT_FALSE(chooseCaptureMode({}, {640, 480, 30}).has_value());
}

TEST(V4l2ModeChooser, OnlyMjpegJpegAndYuyvAreCandidates) {
  V4l2FormatInfo grey{V4L2_PIX_FMT_GREY, "Greyscale", false, false, {}};
  V4l2FormatInfo jpeg{V4L2_PIX_FMT_JPEG, "JFIF JPEG", true, false, {}};
  const std::vector<V4l2Mode> modes = captureModes({grey, jpeg}, {640, 480, 30});
  ASSERT_EQ(modes.size(), 1u);
  EXPECT_EQ(modes[0].fourcc, static_cast<std::uint32_t>(V4L2_PIX_FMT_JPEG));
}

TEST(V4l2ModeChooser, DiscreteSizesBecomeModesWithTheirFastestRate) {
  V4l2FrameSize size;
  size.type = V4L2_FRMSIZE_TYPE_DISCRETE;
  size.width = 640;
  size.height = 480;
  size.intervals.type = V4L2_FRMIVAL_TYPE_DISCRETE;
  size.intervals.discrete = {{1, 30}, {1, 120}, {1, 60}};
  const std::vector<V4l2Mode> modes =
      captureModes({{kMjpg, "Motion-JPEG", true, false, {size}}}, {640, 480, 30});
  ASSERT_EQ(modes.size(), 1u);
  EXPECT_DOUBLE_EQ(modes[0].max_fps, 120.0);
}

TEST(V4l2ModeChooser, StepwiseRangeIsFittedToTheRequest) {
  V4l2FrameSize range;
  range.type = V4L2_FRMSIZE_TYPE_STEPWISE;
  range.stepwise = {16, 1920, 16, 16, 1080, 8};
  range.width = 1920;
  range.height = 1080;
  range.intervals.type = V4L2_FRMIVAL_TYPE_CONTINUOUS;
  range.intervals.stepwise = {{1, 60}, {1, 1}, {1, 1}};
  const std::vector<V4l2Mode> modes =
      captureModes({{kYuyv, "YUYV 4:2:2", false, false, {range}}}, {650, 3000, 30});
  ASSERT_EQ(modes.size(), 1u);
  EXPECT_EQ(modes[0].width, 640u);    // 650 down to a step of 16 from 16
  EXPECT_EQ(modes[0].height, 1080u);  // clamped
  EXPECT_DOUBLE_EQ(modes[0].max_fps, 60.0);
}

TEST(V4l2ModeChooser, FormatWithoutEnumeratedSizesOffersTheRequestAtAnUnknownRate) {
  const std::vector<V4l2Mode> modes =
      captureModes({{kMjpg, "Motion-JPEG", true, false, {}}}, {800, 600, 30});
  ASSERT_EQ(modes.size(), 1u);
  EXPECT_EQ(modes[0].width, 800u);
  EXPECT_DOUBLE_EQ(modes[0].max_fps, 0.0);
}

}  // namespace
}  // namespace booth
