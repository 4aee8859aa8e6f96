#pragma once
// Where the face is: the square head crop that the face GAN refines and
// that the quality benchmark scores. libtorch-free.
//
// The box is centred on the head (the ears' midpoint when both ears are
// seen, which is where the synthetic performer and most people have the
// head's centre; else the eyes' midpoint; else the nose) and its side is a
// fixed fraction of the person's standing height, so it holds hair, face
// and chin at any distance from the camera. One side per session: the face
// GAN trains on crops of one size.
#include <optional>

#include <opencv2/core.hpp>

#include "common/core/keypoints.h"

namespace booth {

// Side of the face box for a person `height_px` tall (nose to ankles, as
// FloorStats measures it): a quarter of the height, rounded up to a
// multiple of 4, at least 16 and at most `max_side`.
int faceBoxSide(float height_px, int max_side);

// nullopt when the pose has no usable ear pair, eye pair or nose, when the
// head centre lies outside the image, or when the box does not fit it. The box is shifted to lie inside the
// image, never shrunk.
std::optional<cv::Point2f> headCentre(const Pose& pose);
std::optional<cv::Rect> faceBox(const Pose& pose, int side, cv::Size image);

}  // namespace booth
