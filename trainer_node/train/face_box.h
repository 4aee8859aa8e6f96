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
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

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

// The order in which the face phase draws its training crops as it goes
// (training_loop.cpp), instead of all of them before its first step: runs
// [begin, end) of at most `run_frames` consecutive frames of one clip
// (`clip_ranges`: each clip's [begin, end) in `boxes`), only runs holding
// at least one box, shuffled with `seed`.
std::vector<std::pair<std::int64_t, std::int64_t>> faceCropRuns(
    std::span<const std::pair<std::int64_t, std::int64_t>> clip_ranges,
    std::span<const std::optional<cv::Rect>> boxes, std::int64_t run_frames, std::uint64_t seed);

}  // namespace booth
