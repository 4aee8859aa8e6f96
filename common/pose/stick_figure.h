#pragma once
// Stick figures in the Everybody Dance Now style: the bridge between two
// people. Black background, each COCO-17 limb drawn as a thick line in its
// own fixed colour (palette below, index = position in coco17Limbs()), each
// valid joint as a filled dot. A limb is drawn only when both ends are valid.
// The palette is part of the model's input contract: changing it invalidates
// every trained checkpoint.
#include <span>

#include <opencv2/core.hpp>

#include "common/core/keypoints.h"

namespace booth {

struct StickFigureStyle {
  // Line thickness and joint radius as a fraction of the canvas height, so a
  // figure looks the same at 128 px and 512 px (at least 1 px each).
  float limb_thickness = 0.025f;
  float joint_radius = 0.018f;
};

// BGR colour of each limb of coco17Limbs(), in the same order.
std::span<const cv::Scalar> stickFigurePalette();
// BGR colour of joint dots (one per COCO-17 joint).
std::span<const cv::Scalar> stickFigureJointColours();

// Draws onto an existing 8-bit BGR canvas (pose in canvas pixels).
void drawStickFigure(cv::Mat& canvas, const Pose& pose, const StickFigureStyle& style = {});
// A new black canvas of the given size with the figure drawn on it.
cv::Mat renderStickFigure(const Pose& pose, cv::Size size, const StickFigureStyle& style = {});

}  // namespace booth
