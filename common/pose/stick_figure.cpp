#include "common/pose/stick_figure.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

// Limb colours, BGR, fully saturated (S = V = 1). Limb i gets hue
// (5 * i mod 16) * 22.5 degrees: the 16 hues are evenly spaced, and the
// stride of 5 puts connected limbs (upper arm / forearm, thigh / shin) and
// left / right counterparts 112 to 135 degrees apart, so the generator never
// has to tell neighbours apart by a small hue difference.
//
//   i  limb                     hue     BGR
//   0  l_shoulder - r_shoulder    0.0   (  0,   0, 255) red
//   1  l_shoulder - l_elbow     112.5   (  0, 255,  32) green
//   2  l_elbow    - l_wrist     225.0   (255,  64,   0) blue
//   3  r_shoulder - r_elbow     337.5   ( 96,   0, 255) rose
//   4  r_elbow    - r_wrist      90.0   (  0, 255, 128) chartreuse
//   5  l_shoulder - l_hip       202.5   (255, 159,   0) azure
//   6  r_shoulder - r_hip       315.0   (191,   0, 255) magenta-pink
//   7  l_hip      - r_hip        67.5   (  0, 255, 223) yellow
//   8  l_hip      - l_knee      180.0   (255, 255,   0) cyan
//   9  l_knee     - l_ankle     292.5   (255,   0, 223) violet-magenta
//  10  r_hip      - r_knee       45.0   (  0, 191, 255) orange
//  11  r_knee     - r_ankle     157.5   (159, 255,   0) spring green
//  12  nose       - l_eye       270.0   (255,   0, 128) violet
//  13  nose       - r_eye        22.5   (  0,  96, 255) red-orange
//  14  l_eye      - l_ear       135.0   ( 64, 255,   0) green
//  15  r_eye      - r_ear       247.5   (255,   0,  32) ultramarine
const std::array<cv::Scalar, 16> kLimbPalette = {{
    {0, 0, 255},
    {0, 255, 32},
    {255, 64, 0},
    {96, 0, 255},
    {0, 255, 128},
    {255, 159, 0},
    {191, 0, 255},
    {0, 255, 223},
    {255, 255, 0},
    {255, 0, 223},
    {0, 191, 255},
    {159, 255, 0},
    {255, 0, 128},
    {0, 96, 255},
    {64, 255, 0},
    {255, 0, 32},
}};

// Joint dots: pastel tints (S = 0.45, V = 1) of 17 evenly spaced hues, so a
// dot stands out from the saturated limbs it sits on. Index = COCO-17 joint.
const std::array<cv::Scalar, kCoco17Count> kJointColours = {{
    {140, 160, 255},  // nose
    {140, 201, 255},  // left_eye
    {140, 242, 255},  // right_eye
    {140, 255, 228},  // left_ear
    {140, 255, 187},  // right_ear
    {140, 255, 147},  // left_shoulder
    {174, 255, 140},  // right_shoulder
    {214, 255, 140},  // left_elbow
    {255, 255, 140},  // right_elbow
    {255, 214, 140},  // left_wrist
    {255, 174, 140},  // right_wrist
    {255, 140, 147},  // left_hip
    {255, 140, 188},  // right_hip
    {255, 140, 228},  // left_knee
    {242, 140, 255},  // right_knee
    {201, 140, 255},  // left_ankle
    {161, 140, 255},  // right_ankle
}};

// Sub-pixel drawing: coordinates are passed to OpenCV in 1/16 px so a figure
// moving by less than a pixel per frame still moves in the picture.
constexpr int kShift = 4;
constexpr float kSubPixel = 1 << kShift;
// Keeps float -> int conversion defined for wild (but finite) coordinates;
// OpenCV clips the rest.
constexpr float kMaxCoordinate = 1e5f;

cv::Point toFixed(const Keypoint& k) {
  auto fixed = [](float v) {
    return static_cast<int>(
        std::lround(std::clamp(v, -kMaxCoordinate, kMaxCoordinate) * kSubPixel));
  };
  return {fixed(k.x), fixed(k.y)};
}

}  // namespace

std::span<const cv::Scalar> stickFigurePalette() { return kLimbPalette; }

std::span<const cv::Scalar> stickFigureJointColours() { return kJointColours; }

void drawStickFigure(cv::Mat& canvas, const Pose& pose, const StickFigureStyle& style) {
  if (canvas.empty()) return;
  if (canvas.type() != CV_8UC3) {
    throw std::invalid_argument("drawStickFigure: canvas should be CV_8UC3, got type " +
                                std::to_string(canvas.type()));
  }
  const int thickness = std::max(
      1, static_cast<int>(std::lround(style.limb_thickness * static_cast<float>(canvas.rows))));
  const int radius = std::max(
      1, static_cast<int>(std::lround(style.joint_radius * static_cast<float>(canvas.rows))));

  const auto limbs = coco17Limbs();
  for (std::size_t i = 0; i < limbs.size(); ++i) {
    const Keypoint& a = pose[limbs[i].a];
    const Keypoint& b = pose[limbs[i].b];
    if (!isUsable(a) || !isUsable(b)) continue;
    cv::line(canvas, toFixed(a), toFixed(b), kLimbPalette[i], thickness, cv::LINE_AA, kShift);
  }
  // Dots last, so every joint is visible where limbs meet.
  for (int j = 0; j < kCoco17Count; ++j) {
    const Keypoint& k = pose.points[j];
    if (!isUsable(k)) continue;
    cv::circle(canvas, toFixed(k), radius << kShift, kJointColours[j], cv::FILLED, cv::LINE_AA,
               kShift);
  }
}

cv::Mat renderStickFigure(const Pose& pose, cv::Size size, const StickFigureStyle& style) {
  cv::Mat canvas(size, CV_8UC3, cv::Scalar::all(0));
  drawStickFigure(canvas, pose, style);
  return canvas;
}

}  // namespace booth
