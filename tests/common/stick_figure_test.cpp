#include "common/pose/stick_figure.h"

#include <cmath>
#include <stdexcept>

#include <gtest/gtest.h>

namespace booth {
namespace {

constexpr int kCanvas = 1000;
// Thin lines and small dots on a large canvas, so limb midpoints are far from
// every other limb and joint.
const StickFigureStyle kThin{0.01f, 0.008f};

// A spread-out figure whose limbs do not cross (person's left on image right).
Pose spreadPose() {
  Pose pose;
  auto set = [&](Coco17 j, float x, float y) { pose[j] = {x, y, 1.f, false}; };
  set(Coco17::kNose, 500, 150);
  set(Coco17::kLeftEye, 650, 100);
  set(Coco17::kRightEye, 350, 100);
  set(Coco17::kLeftEar, 850, 60);
  set(Coco17::kRightEar, 150, 60);
  set(Coco17::kLeftShoulder, 700, 300);
  set(Coco17::kRightShoulder, 300, 300);
  set(Coco17::kLeftElbow, 900, 400);
  set(Coco17::kRightElbow, 100, 400);
  set(Coco17::kLeftWrist, 900, 650);
  set(Coco17::kRightWrist, 100, 650);
  set(Coco17::kLeftHip, 650, 600);
  set(Coco17::kRightHip, 350, 600);
  set(Coco17::kLeftKnee, 700, 800);
  set(Coco17::kRightKnee, 300, 800);
  set(Coco17::kLeftAnkle, 800, 950);
  set(Coco17::kRightAnkle, 200, 950);
  return pose;
}

cv::Vec3b pixelAtMidpoint(const cv::Mat& image, const Pose& pose, const Limb& limb) {
  const Keypoint& a = pose[limb.a];
  const Keypoint& b = pose[limb.b];
  const int x = static_cast<int>(std::lround((a.x + b.x) / 2));
  const int y = static_cast<int>(std::lround((a.y + b.y) / 2));
  return image.at<cv::Vec3b>(y, x);
}

cv::Vec3b bgr(const cv::Scalar& s) {
  return {static_cast<uchar>(s[0]), static_cast<uchar>(s[1]), static_cast<uchar>(s[2])};
}

TEST(StickFigureTest, EachLimbIsDrawnInItsPaletteColour) {
  const Pose pose = spreadPose();
  const cv::Mat image = renderStickFigure(pose, {kCanvas, kCanvas}, kThin);
  const auto limbs = coco17Limbs();
  const auto palette = stickFigurePalette();
  ASSERT_EQ(palette.size(), limbs.size());
  for (std::size_t i = 0; i < limbs.size(); ++i) {
    EXPECT_EQ(pixelAtMidpoint(image, pose, limbs[i]), bgr(palette[i]))
        << "limb " << i << ": " << coco17Name(static_cast<int>(limbs[i].a)) << " - "
        << coco17Name(static_cast<int>(limbs[i].b));
  }
}

TEST(StickFigureTest, EachJointIsADotInItsColour) {
  const Pose pose = spreadPose();
  const cv::Mat image = renderStickFigure(pose, {kCanvas, kCanvas}, kThin);
  const auto colours = stickFigureJointColours();
  ASSERT_EQ(colours.size(), static_cast<std::size_t>(kCoco17Count));
  for (int j = 0; j < kCoco17Count; ++j) {
    const Keypoint& k = pose.points[j];
    EXPECT_EQ(image.at<cv::Vec3b>(static_cast<int>(k.y), static_cast<int>(k.x)), bgr(colours[j]))
        << coco17Name(j);
  }
}

TEST(StickFigureTest, BackgroundStaysBlackFarFromTheFigure) {
  const cv::Mat image = renderStickFigure(spreadPose(), {kCanvas, kCanvas}, kThin);
  for (const cv::Rect region : {cv::Rect(0, 150, 60, 200), cv::Rect(940, 0, 60, 60),
                                cv::Rect(420, 700, 160, 250), cv::Rect(0, 940, 150, 60)}) {
    EXPECT_EQ(cv::countNonZero(image(region).clone().reshape(1)), 0) << region;
  }
}

TEST(StickFigureTest, LimbWithAnInvalidEndIsNotDrawn) {
  Pose pose = spreadPose();
  pose[Coco17::kLeftWrist].confidence = 0.01f;  // below kMinConfidence
  const cv::Mat image = renderStickFigure(pose, {kCanvas, kCanvas}, kThin);
  const auto limbs = coco17Limbs();
  const auto palette = stickFigurePalette();
  for (std::size_t i = 0; i < limbs.size(); ++i) {
    const bool touches_wrist = limbs[i].a == Coco17::kLeftWrist || limbs[i].b == Coco17::kLeftWrist;
    const cv::Vec3b expected = touches_wrist ? cv::Vec3b(0, 0, 0) : bgr(palette[i]);
    EXPECT_EQ(pixelAtMidpoint(image, pose, limbs[i]), expected) << "limb " << i;
  }
  EXPECT_EQ(image.at<cv::Vec3b>(650, 900), cv::Vec3b(0, 0, 0)) << "no dot at the invalid wrist";
}

TEST(StickFigureTest, PaletteColoursAreAllDistinct) {
  const auto palette = stickFigurePalette();
  const auto joints = stickFigureJointColours();
  for (std::size_t i = 0; i < palette.size(); ++i) {
    for (std::size_t j = i + 1; j < palette.size(); ++j) {
      EXPECT_NE(bgr(palette[i]), bgr(palette[j])) << "limbs " << i << " and " << j;
    }
    for (const cv::Scalar& joint : joints) EXPECT_NE(bgr(palette[i]), bgr(joint)) << "limb " << i;
  }
  for (std::size_t i = 0; i < joints.size(); ++i) {
    for (std::size_t j = i + 1; j < joints.size(); ++j) {
      EXPECT_NE(bgr(joints[i]), bgr(joints[j])) << "joints " << i << " and " << j;
    }
  }
}

// Height of the run of limb-coloured pixels crossing a horizontal limb.
int horizontalLimbThickness(int canvas_height) {
  Pose pose;
  const float y = canvas_height / 2.f;
  pose[Coco17::kLeftShoulder] = {canvas_height * 0.9f, y, 1.f, false};
  pose[Coco17::kRightShoulder] = {canvas_height * 0.1f, y, 1.f, false};
  const cv::Mat image = renderStickFigure(pose, {canvas_height, canvas_height});
  const cv::Vec3b colour = bgr(stickFigurePalette()[0]);
  int count = 0;
  for (int row = 0; row < canvas_height; ++row) {
    if (image.at<cv::Vec3b>(row, canvas_height / 2) == colour) ++count;
  }
  return count;
}

TEST(StickFigureTest, LineThicknessIsAFractionOfCanvasHeight) {
  const StickFigureStyle style;
  const int small = horizontalLimbThickness(200);
  const int large = horizontalLimbThickness(800);
  EXPECT_NEAR(small, style.limb_thickness * 200, 2.0);
  EXPECT_NEAR(large, style.limb_thickness * 800, 2.0);
}

TEST(StickFigureTest, RejectsACanvasThatIsNotBgr) {
  cv::Mat gray(100, 100, CV_8UC1, cv::Scalar(0));
  EXPECT_THROW(drawStickFigure(gray, spreadPose()), std::invalid_argument);
}

}  // namespace
}  // namespace booth
