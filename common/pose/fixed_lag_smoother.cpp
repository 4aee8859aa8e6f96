#include "common/pose/fixed_lag_smoother.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace booth {
namespace {

constexpr int kMaxPolyOrder = 4;
constexpr int kMaxHalfWindow = 240;  // 2 s at 120 fps
constexpr int kMaxGap = 240;

SmootherConfig clamped(SmootherConfig c) {
  if (!(c.min_confidence >= 0.f)) c.min_confidence = 0.f;
  c.min_confidence = std::min(c.min_confidence, 1.f);
  c.max_gap = std::clamp(c.max_gap, 0, kMaxGap);
  c.half_window = std::clamp(c.half_window, 0, kMaxHalfWindow);
  c.poly_order = std::clamp(c.poly_order, 0, kMaxPolyOrder);
  c.outlier_half_window = std::clamp(c.outlier_half_window, 0, kMaxHalfWindow);
  if (!(c.outlier_fraction >= 0.f)) c.outlier_fraction = 0.f;
  return c;
}

// Value at t = 0 of the least-squares polynomial of `order` through
// (t[i], v[i]). Normal equations, solved by Gaussian elimination with
// partial pivoting: at most 5x5, over small integer t, so well conditioned.
double polyFitAtZero(const std::vector<double>& t, const std::vector<double>& v, int order) {
  const int n = order + 1;
  std::array<std::array<double, kMaxPolyOrder + 2>, kMaxPolyOrder + 1> a{};
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::array<double, 2 * kMaxPolyOrder + 1> powers{};
    powers[0] = 1;
    for (int p = 1; p <= 2 * order; ++p) powers[p] = powers[p - 1] * t[i];
    for (int r = 0; r < n; ++r) {
      for (int c = 0; c < n; ++c) a[r][c] += powers[r + c];
      a[r][n] += powers[r] * v[i];
    }
  }
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    for (int r = col + 1; r < n; ++r) {
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    }
    std::swap(a[col], a[pivot]);
    if (std::abs(a[col][col]) < 1e-12) return v[0];  // degenerate: cannot happen for distinct t
    for (int r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = a[r][col] / a[col][col];
      for (int c = col; c <= n; ++c) a[r][c] -= f * a[col][c];
    }
  }
  return a[0][n] / a[0][0];  // the constant coefficient
}

double median(std::vector<double> v) {
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  if (v.size() % 2 == 1) return v[mid];
  const double upper = v[mid];
  return (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)) + upper) / 2;
}

struct Point2 {
  double x;
  double y;
};

// The median of a point and its neighbours (each side nearest first),
// taking as many from each side: a steady motion's median is then the point
// itself, where a one-sided median at the end of a stream or a gap would
// lag (or lead) the motion.
Point2 symmetricMedian(Point2 centre, const std::vector<Point2>& before,
                       const std::vector<Point2>& after) {
  const std::size_t side = std::min(before.size(), after.size());
  std::vector<double> xs = {centre.x};
  std::vector<double> ys = {centre.y};
  for (std::size_t i = 0; i < side; ++i) {
    for (const Point2& q : {before[i], after[i]}) {
      xs.push_back(q.x);
      ys.push_back(q.y);
    }
  }
  return {median(std::move(xs)), median(std::move(ys))};
}

}  // namespace

SmootherConfig SmootherConfig::forFrameRate(double fps) {
  SmootherConfig c;
  if (!(fps > 0)) return c;
  c.half_window = std::max(1, static_cast<int>(std::lround(kHalfWindowSeconds * fps)));
  c.outlier_half_window = std::max(1, static_cast<int>(std::lround(0.067 * fps)));
  c.max_gap = std::max(1, static_cast<int>(std::lround(0.133 * fps)));
  return c;
}

Status SmootherConfig::validate() const {
  if (!(min_confidence >= 0.f && min_confidence <= 1.f)) {
    return fail("smoother min_confidence " + std::to_string(min_confidence) +
                " must be in [0, 1]");
  }
  if (max_gap < 0 || max_gap > kMaxGap) {
    return fail("smoother max_gap " + std::to_string(max_gap) + " must be in 0.." +
                std::to_string(kMaxGap) + " frames");
  }
  if (half_window < 0 || half_window > kMaxHalfWindow) {
    return fail("smoother half_window " + std::to_string(half_window) + " must be in 0.." +
                std::to_string(kMaxHalfWindow) + " frames");
  }
  if (outlier_half_window < 0 || outlier_half_window > kMaxHalfWindow) {
    return fail("smoother outlier_half_window " + std::to_string(outlier_half_window) +
                " must be in 0.." + std::to_string(kMaxHalfWindow) + " frames");
  }
  if (!(outlier_fraction >= 0.f)) {
    return fail("smoother outlier_fraction " + std::to_string(outlier_fraction) +
                " must be >= 0 (0: off)");
  }
  if (poly_order < 0 || poly_order > kMaxPolyOrder) {
    return fail("smoother poly_order " + std::to_string(poly_order) + " must be in 0.." +
                std::to_string(kMaxPolyOrder));
  }
  return okStatus();
}

FixedLagSmoother::FixedLagSmoother(SmootherConfig config) : config_(clamped(config)) {}

int FixedLagSmoother::lag() const {
  return config_.outlier_half_window + config_.max_gap + config_.half_window;
}

bool FixedLagSmoother::observed(std::size_t index, int joint) const {
  const Entry& e = entries_[index];
  if (e.observed[joint] != 0) return e.observed[joint] > 0;
  if (!e.raw) return false;
  const Keypoint& k = e.raw->points[joint];
  const bool ok = isUsable(k) && k.confidence >= config_.min_confidence && !isOutlier(index, joint);
  e.observed[joint] = ok ? 1 : -1;
  return ok;
}

bool FixedLagSmoother::isOutlier(std::size_t index, int joint) const {
  if (!(config_.outlier_fraction > 0)) return false;
  const Entry& e = entries_[index];
  const auto half = static_cast<std::uint64_t>(config_.outlier_half_window);
  // The joint's points within the window, nearest first, on each side.
  const auto usable = [&](std::size_t k) {
    const auto& raw = entries_[k].raw;
    if (!raw) return false;
    const Keypoint& p = raw->points[joint];
    return isUsable(p) && p.confidence >= config_.min_confidence;
  };
  const auto point = [&](std::size_t k) {
    const Keypoint& p = entries_[k].raw->points[joint];
    return Point2{p.x, p.y};
  };
  std::vector<Point2> before;
  std::vector<Point2> after;
  for (std::size_t k = index; k-- > 0 && e.sequence - entries_[k].sequence <= half;) {
    if (usable(k)) before.push_back(point(k));
  }
  for (std::size_t k = index + 1; k < entries_.size() && entries_[k].sequence - e.sequence <= half; ++k) {
    if (usable(k)) after.push_back(point(k));
  }
  // Nothing on one side: no way to call it an outlier.
  if (before.empty() || after.empty()) return false;
  if (e.size < 0) {
    float x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
    for (const Keypoint& p : e.raw->points) {
      if (!isUsable(p)) continue;
      x0 = std::min(x0, p.x);
      y0 = std::min(y0, p.y);
      x1 = std::max(x1, p.x);
      y1 = std::max(y1, p.y);
    }
    e.size = x1 >= x0 ? std::hypot(x1 - x0, y1 - y0) : 0.f;
  }
  const Point2 m = symmetricMedian(point(index), before, after);
  const Keypoint& p = e.raw->points[joint];
  const double d = std::hypot(p.x - m.x, p.y - m.y);
  return d > config_.outlier_fraction * e.size;
}

FixedLagSmoother::Sample FixedLagSmoother::cleaned(std::size_t index, int joint) const {
  if (observed(index, joint)) {
    const Keypoint& k = entries_[index].raw->points[joint];
    return {true, k.x, k.y, k.confidence, false};
  }
  const std::uint64_t seq = entries_[index].sequence;
  const auto gap = static_cast<std::uint64_t>(config_.max_gap);
  std::optional<std::size_t> before;
  for (std::size_t k = index; k-- > 0 && seq - entries_[k].sequence <= gap;) {
    if (observed(k, joint)) {
      before = k;
      break;
    }
  }
  if (!before) return {};
  std::optional<std::size_t> after;
  for (std::size_t k = index + 1; k < entries_.size() && entries_[k].sequence - seq <= gap; ++k) {
    if (observed(k, joint)) {
      after = k;
      break;
    }
  }
  if (!after) return {};
  const std::uint64_t s0 = entries_[*before].sequence;
  const std::uint64_t s1 = entries_[*after].sequence;
  if (s1 - s0 - 1 > gap) return {};  // the whole run of missing frames is too long
  const Keypoint& a = entries_[*before].raw->points[joint];
  const Keypoint& b = entries_[*after].raw->points[joint];
  const float f = static_cast<float>(seq - s0) / static_cast<float>(s1 - s0);
  return {true, a.x + (b.x - a.x) * f, a.y + (b.y - a.y) * f,
          std::min(a.confidence, b.confidence), true};
}

FinalPose FixedLagSmoother::finalize(std::size_t index) const {
  const std::uint64_t seq = entries_[index].sequence;
  const auto half = static_cast<std::uint64_t>(config_.half_window);
  const auto gap = static_cast<std::uint64_t>(config_.max_gap);
  FinalPose out{seq, std::nullopt};
  Pose pose;
  int usable = 0;
  std::vector<double> t;
  std::vector<double> xs;
  std::vector<double> ys;
  for (int j = 0; j < kCoco17Count; ++j) {
    const Sample centre = cleaned(index, j);
    if (!centre.present) continue;
    t.assign(1, 0.0);
    xs.assign(1, centre.x);
    ys.assign(1, centre.y);
    // The contiguous run of present samples around the frame, within the
    // window; a stretch of dropped frames longer than max_gap ends it too.
    const auto collect = [&](std::size_t k, std::uint64_t previous) {
      const std::uint64_t s = entries_[k].sequence;
      const std::uint64_t distance = s > seq ? s - seq : seq - s;
      const std::uint64_t step = s > previous ? s - previous : previous - s;
      if (distance > half || step > gap + 1) return false;
      const Sample sample = cleaned(k, j);
      if (!sample.present) return false;
      t.push_back(static_cast<double>(s) - static_cast<double>(seq));
      xs.push_back(sample.x);
      ys.push_back(sample.y);
      return true;
    };
    std::uint64_t previous = seq;
    for (std::size_t k = index; k-- > 0;) {
      if (!collect(k, previous)) break;
      previous = entries_[k].sequence;
    }
    previous = seq;
    for (std::size_t k = index + 1; k < entries_.size(); ++k) {
      if (!collect(k, previous)) break;
      previous = entries_[k].sequence;
    }
    double x = centre.x;
    double y = centre.y;
    if (t.size() > 1) {
      if (config_.filter == SmootherConfig::Filter::kMedian) {
        std::vector<Point2> before;
        std::vector<Point2> after;
        for (std::size_t i = 1; i < t.size(); ++i) (t[i] < 0 ? before : after).push_back({xs[i], ys[i]});
        const Point2 m = symmetricMedian({xs[0], ys[0]}, before, after);
        x = m.x;
        y = m.y;
      } else {
        const int order = std::min(config_.poly_order, static_cast<int>(t.size()) - 1);
        x = polyFitAtZero(t, xs, order);
        y = polyFitAtZero(t, ys, order);
      }
    }
    pose.points[j] = {static_cast<float>(x), static_cast<float>(y), centre.confidence,
                      centre.imputed};
    if (isUsable(pose.points[j])) ++usable;
  }
  if (usable > 0) out.pose = pose;
  return out;
}

void FixedLagSmoother::dropHistory() {
  if (entries_.empty()) return;
  // Keep what pending frames may still look back on: their window, and the
  // gap before its first frame.
  const std::uint64_t oldest_pending =
      next_final_ < entries_.size() ? entries_[next_final_].sequence : entries_.back().sequence + 1;
  const std::uint64_t keep_from =
      oldest_pending > static_cast<std::uint64_t>(lag() + 1) ? oldest_pending - lag() - 1 : 0;
  while (!entries_.empty() && next_final_ > 0 && entries_.front().sequence < keep_from) {
    entries_.pop_front();
    --next_final_;
  }
}

std::vector<FinalPose> FixedLagSmoother::push(std::uint64_t sequence, std::optional<Pose> raw) {
  if (!entries_.empty() && sequence <= entries_.back().sequence) return {};
  entries_.push_back({sequence, std::move(raw)});
  std::vector<FinalPose> out;
  const auto lag_frames = static_cast<std::uint64_t>(lag());
  while (next_final_ < entries_.size() &&
         entries_[next_final_].sequence + lag_frames <= sequence) {
    out.push_back(finalize(next_final_));
    ++next_final_;
  }
  dropHistory();
  return out;
}

std::vector<FinalPose> FixedLagSmoother::flush() {
  std::vector<FinalPose> out;
  while (next_final_ < entries_.size()) {
    out.push_back(finalize(next_final_));
    ++next_final_;
  }
  entries_.clear();
  next_final_ = 0;
  return out;
}

}  // namespace booth
