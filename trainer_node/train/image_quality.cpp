#include "trainer_node/train/image_quality.h"

#include <cmath>
#include <limits>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

constexpr double kC1 = (0.01 * 255) * (0.01 * 255);
constexpr double kC2 = (0.03 * 255) * (0.03 * 255);
constexpr double kMaxPsnr = 100.0;

cv::Mat blur(const cv::Mat& m) {
  cv::Mat out;
  cv::GaussianBlur(m, out, cv::Size(11, 11), 1.5, 1.5, cv::BORDER_REFLECT);
  return out;
}

cv::Mat boxMask(cv::Size size, const cv::Rect& box) {
  cv::Mat mask(size, CV_8U, cv::Scalar(0));
  mask(box & cv::Rect(0, 0, size.width, size.height)).setTo(255);
  return mask;
}

RegionScore score(const cv::Mat& map, const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
  return {meanOver(map, mask), psnr(a, b, mask)};
}

}  // namespace

cv::Mat ssimMap(const cv::Mat& a, const cv::Mat& b) {
  CV_Assert(a.size() == b.size() && a.type() == b.type() && a.depth() == CV_8U);
  std::vector<cv::Mat> ca, cb;
  cv::split(a, ca);
  cv::split(b, cb);
  cv::Mat total = cv::Mat::zeros(a.size(), CV_64F);
  for (std::size_t c = 0; c < ca.size(); ++c) {
    cv::Mat x, y;
    ca[c].convertTo(x, CV_64F);
    cb[c].convertTo(y, CV_64F);
    const cv::Mat mu_x = blur(x), mu_y = blur(y);
    const cv::Mat s_x = blur(x.mul(x)) - mu_x.mul(mu_x);
    const cv::Mat s_y = blur(y.mul(y)) - mu_y.mul(mu_y);
    const cv::Mat s_xy = blur(x.mul(y)) - mu_x.mul(mu_y);
    const cv::Mat num = (2 * mu_x.mul(mu_y) + kC1).mul(2 * s_xy + kC2);
    const cv::Mat den = (mu_x.mul(mu_x) + mu_y.mul(mu_y) + kC1).mul(s_x + s_y + kC2);
    cv::Mat map;
    cv::divide(num, den, map);
    total += map;
  }
  return total / static_cast<double>(ca.size());
}

double meanOver(const cv::Mat& map, const cv::Mat& mask) {
  if (!mask.empty() && cv::countNonZero(mask) == 0) return std::numeric_limits<double>::quiet_NaN();
  return cv::mean(map, mask)[0];
}

double psnr(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  diff.convertTo(diff, CV_64F);
  diff = diff.mul(diff);
  const int pixels = mask.empty() ? static_cast<int>(a.total()) : cv::countNonZero(mask);
  if (pixels == 0) return std::numeric_limits<double>::quiet_NaN();
  const cv::Scalar sum = cv::sum(mask.empty() ? diff : [&] {
    cv::Mat masked;
    diff.copyTo(masked, mask);
    return masked;
  }());
  double total = 0;
  for (int c = 0; c < a.channels(); ++c) total += sum[c];
  const double mse = total / (static_cast<double>(pixels) * a.channels());
  return mse <= 1e-10 ? kMaxPsnr : std::min(kMaxPsnr, 10.0 * std::log10(255.0 * 255.0 / mse));
}

double flicker(const cv::Mat& generated_prev, const cv::Mat& generated, const cv::Mat& truth_prev,
               const cv::Mat& truth, const cv::Mat& mask) {
  CV_Assert(generated_prev.size() == generated.size() && truth_prev.size() == generated.size() &&
            truth.size() == generated.size() && mask.size() == generated.size() &&
            mask.type() == CV_8U);
  const int pixels = cv::countNonZero(mask);
  if (pixels == 0) return std::numeric_limits<double>::quiet_NaN();
  cv::Mat g0, g1, t0, t1;
  generated_prev.convertTo(g0, CV_32F);
  generated.convertTo(g1, CV_32F);
  truth_prev.convertTo(t0, CV_32F);
  truth.convertTo(t1, CV_32F);
  cv::Mat error = cv::abs((g1 - g0) - (t1 - t0));
  cv::Mat outside;
  cv::bitwise_not(mask, outside);
  error.setTo(cv::Scalar::all(0), outside);
  const cv::Scalar sum = cv::sum(error);
  double total = 0;
  for (int c = 0; c < generated.channels(); ++c) total += sum[c];
  return total / (static_cast<double>(pixels) * generated.channels());
}

cv::Mat personMask(const cv::Mat& frame, const cv::Mat& backdrop, int threshold) {
  cv::Mat diff;
  cv::absdiff(frame, backdrop, diff);
  std::vector<cv::Mat> channels;
  cv::split(diff, channels);
  cv::Mat largest = channels[0].clone();
  for (std::size_t c = 1; c < channels.size(); ++c) largest = cv::max(largest, channels[c]);
  return largest > threshold;
}

FrameScores scoreFrame(const cv::Mat& generated, const cv::Mat& truth, const cv::Mat& backdrop,
                       const std::optional<cv::Rect>& face_box) {
  const cv::Mat map = ssimMap(generated, truth);
  const cv::Mat person = personMask(truth, backdrop);
  FrameScores s;
  s.whole = score(map, generated, truth, cv::Mat());
  s.person = score(map, generated, truth, person);
  const cv::Rect body = cv::countNonZero(person) > 0 ? cv::boundingRect(person) : cv::Rect();
  s.body = score(map, generated, truth, boxMask(truth.size(), body));
  s.face = face_box ? score(map, generated, truth, boxMask(truth.size(), *face_box)) : s.whole;
  return s;
}

}  // namespace booth
