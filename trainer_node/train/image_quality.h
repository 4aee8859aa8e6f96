#pragma once
// The quality yardstick: SSIM and PSNR of a generated frame against the
// ground truth, over the whole frame and over regions (body box, face box,
// person pixels). libtorch-free (OpenCV only).
//
// SSIM as Wang et al. 2004: 11x11 Gaussian window (sigma 1.5),
// C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, computed per colour channel and
// averaged over the channels. A region's SSIM is the mean of the full
// frame's SSIM map over the region's pixels (so a small region still sees
// its surroundings through the window, as the eye does). PSNR is over the
// region's pixels and channels, capped at 100 dB for identical pixels.
#include <optional>

#include <opencv2/core.hpp>

namespace booth {

// CV_64FC1 map of the channel-mean SSIM; a and b 8-bit, same size and type.
cv::Mat ssimMap(const cv::Mat& a, const cv::Mat& b);
// Mean of `map` where `mask` (CV_8U) is non-zero; the whole map without a
// mask. NaN for an empty mask.
double meanOver(const cv::Mat& map, const cv::Mat& mask = cv::Mat());
double psnr(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask = cv::Mat());

// Temporal stability: the mean absolute difference, in 8-bit units over
// the pixels of `mask` (CV_8U) and the channels, between the generated
// frame-to-frame change (generated - generated_prev) and the true one
// (truth - truth_prev). 0: exactly as steady as the truth. NaN for an empty
// mask.
double flicker(const cv::Mat& generated_prev, const cv::Mat& generated, const cv::Mat& truth_prev,
               const cv::Mat& truth, const cv::Mat& mask);

// Pixels where `frame` differs from the empty `backdrop` by more than
// `threshold` in any channel: the person (and their shadow).
cv::Mat personMask(const cv::Mat& frame, const cv::Mat& backdrop, int threshold = 12);

struct RegionScore {
  double ssim = 0;
  double psnr = 0;
};

struct FrameScores {
  RegionScore whole;
  RegionScore body;    // bounding box of the person mask
  RegionScore face;    // the face box
  RegionScore person;  // the person mask
};

// Scores `generated` against `truth`: the person mask comes from truth vs
// backdrop; the face region is `face_box` (the whole frame's score when
// absent). Regions that come out empty score NaN.
FrameScores scoreFrame(const cv::Mat& generated, const cv::Mat& truth, const cv::Mat& backdrop,
                       const std::optional<cv::Rect>& face_box);

}  // namespace booth
