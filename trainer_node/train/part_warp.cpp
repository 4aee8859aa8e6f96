#include "trainer_node/train/part_warp.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "trainer_node/train/face_box.h"

namespace booth {
namespace {

using C = Coco17;

// The body's scale between two poses, and the torso's width ratio, are
// kept within these bounds: a wrong or foreshortened torso must not blow a
// part up or shrink it to nothing.
constexpr double kMinScale = 0.5;
constexpr double kMaxScale = 2.0;
constexpr double kMinWidthRatio = 0.25;  // times the body's scale
// Part widths and the head's radius as fractions of the torso's length
// (measured on the synthetic performers: the masks hold the limb with a
// little margin, so the blurred edge falls outside it).
constexpr double kTorsoMargin = 0.30;
constexpr double kHeadRadius = 0.40;
constexpr double kNeckWidth = 0.30;
constexpr double kUpperArmWidth = 0.30;
constexpr double kForearmWidth = 0.25;
constexpr double kThighWidth = 0.40;
constexpr double kShinWidth = 0.30;
constexpr double kBlurSigma = 0.04;  // of the torso's length, at least kMinBlurSigma px
constexpr double kMinBlurSigma = 0.8;
// Sub-pixel drawing: 4 fractional bits, as the stick figure.
constexpr int kShift = 4;

std::optional<cv::Point2d> joint(const Pose& pose, C j) {
  if (!isUsable(pose[j])) return std::nullopt;
  return cv::Point2d(pose[j].x, pose[j].y);
}

std::optional<cv::Point2d> midpoint(const Pose& pose, C a, C b) {
  const auto pa = joint(pose, a);
  const auto pb = joint(pose, b);
  if (!pa || !pb) return std::nullopt;
  return (*pa + *pb) * 0.5;
}

std::optional<Segment> jointSegment(const Pose& pose, C a, C b) {
  const auto pa = joint(pose, a);
  const auto pb = joint(pose, b);
  if (!pa || !pb) return std::nullopt;
  return Segment{*pa, *pb};
}

cv::Point fixed(const cv::Point2d& p) {
  return cv::Point(static_cast<int>(std::lround(p.x * (1 << kShift))),
                   static_cast<int>(std::lround(p.y * (1 << kShift))));
}

// The part's width (limbs) as a fraction of the torso's length.
double limbWidth(BodyPart part) {
  switch (part) {
    case BodyPart::kLeftUpperArm:
    case BodyPart::kRightUpperArm:
      return kUpperArmWidth;
    case BodyPart::kLeftForearm:
    case BodyPart::kRightForearm:
      return kForearmWidth;
    case BodyPart::kLeftThigh:
    case BodyPart::kRightThigh:
      return kThighWidth;
    case BodyPart::kLeftShin:
    case BodyPart::kRightShin:
      return kShinWidth;
    case BodyPart::kTorso:
    case BodyPart::kHead:
      break;
  }
  return kNeckWidth;
}

// The shoulders' width measured across the torso's axis.
std::optional<double> torsoWidth(const Pose& pose, const Segment& axis) {
  const auto l = joint(pose, C::kLeftShoulder);
  const auto r = joint(pose, C::kRightShoulder);
  if (!l || !r) return std::nullopt;
  const cv::Point2d d = axis.b - axis.a;
  const double length = std::hypot(d.x, d.y);
  if (length < 1e-9) return std::hypot(l->x - r->x, l->y - r->y);
  const cv::Point2d normal(-d.y / length, d.x / length);
  return std::abs((*l - *r).dot(normal));
}

}  // namespace

std::array<BodyPart, kBodyPartCount> bodyParts() {
  return {BodyPart::kTorso,        BodyPart::kHead,          BodyPart::kLeftThigh,
          BodyPart::kLeftShin,     BodyPart::kRightThigh,    BodyPart::kRightShin,
          BodyPart::kLeftUpperArm, BodyPart::kLeftForearm,   BodyPart::kRightUpperArm,
          BodyPart::kRightForearm};
}

const char* bodyPartName(BodyPart part) {
  switch (part) {
    case BodyPart::kTorso: return "torso";
    case BodyPart::kHead: return "head";
    case BodyPart::kLeftThigh: return "left thigh";
    case BodyPart::kLeftShin: return "left shin";
    case BodyPart::kRightThigh: return "right thigh";
    case BodyPart::kRightShin: return "right shin";
    case BodyPart::kLeftUpperArm: return "left upper arm";
    case BodyPart::kLeftForearm: return "left forearm";
    case BodyPart::kRightUpperArm: return "right upper arm";
    case BodyPart::kRightForearm: return "right forearm";
  }
  return "unknown part";
}

std::optional<Segment> partSegment(const Pose& pose, BodyPart part) {
  switch (part) {
    case BodyPart::kTorso: {
      const auto s = midpoint(pose, C::kLeftShoulder, C::kRightShoulder);
      const auto h = midpoint(pose, C::kLeftHip, C::kRightHip);
      if (!s || !h) return std::nullopt;
      return Segment{*s, *h};
    }
    case BodyPart::kHead: {
      const auto s = midpoint(pose, C::kLeftShoulder, C::kRightShoulder);
      const auto head = headCentre(pose);
      if (!s || !head) return std::nullopt;
      return Segment{*s, cv::Point2d(head->x, head->y)};
    }
    case BodyPart::kLeftThigh: return jointSegment(pose, C::kLeftHip, C::kLeftKnee);
    case BodyPart::kLeftShin: return jointSegment(pose, C::kLeftKnee, C::kLeftAnkle);
    case BodyPart::kRightThigh: return jointSegment(pose, C::kRightHip, C::kRightKnee);
    case BodyPart::kRightShin: return jointSegment(pose, C::kRightKnee, C::kRightAnkle);
    case BodyPart::kLeftUpperArm: return jointSegment(pose, C::kLeftShoulder, C::kLeftElbow);
    case BodyPart::kLeftForearm: return jointSegment(pose, C::kLeftElbow, C::kLeftWrist);
    case BodyPart::kRightUpperArm: return jointSegment(pose, C::kRightShoulder, C::kRightElbow);
    case BodyPart::kRightForearm: return jointSegment(pose, C::kRightElbow, C::kRightWrist);
  }
  return std::nullopt;
}

std::optional<double> torsoLength(const Pose& pose) {
  const auto torso = partSegment(pose, BodyPart::kTorso);
  if (!torso) return std::nullopt;
  const double length = std::hypot(torso->b.x - torso->a.x, torso->b.y - torso->a.y);
  if (length < 1.0) return std::nullopt;
  return length;
}

cv::Matx23d segmentTransform(const Segment& from, const Segment& to, double across) {
  const cv::Point2d df = from.b - from.a;
  const cv::Point2d dt = to.b - to.a;
  const double lf = std::hypot(df.x, df.y);
  const double lt = std::hypot(dt.x, dt.y);
  cv::Matx22d m;
  if (lf < 1.0) {
    m = cv::Matx22d(across, 0, 0, across);
  } else {
    const cv::Vec2d uf(df.x / lf, df.y / lf);
    const cv::Vec2d nf(-uf[1], uf[0]);
    const cv::Vec2d ut = lt > 1e-9 ? cv::Vec2d(dt.x / lt, dt.y / lt) : uf;
    const cv::Vec2d nt(-ut[1], ut[0]);
    // p -> to.a + ((p - a) . uf) (lt / lf) ut + ((p - a) . nf) across nt
    m = (lt / lf) * (ut * uf.t()) + across * (nt * nf.t());
  }
  const cv::Vec2d a(from.a.x, from.a.y);
  const cv::Vec2d t = cv::Vec2d(to.a.x, to.a.y) - m * a;
  return cv::Matx23d(m(0, 0), m(0, 1), t[0], m(1, 0), m(1, 1), t[1]);
}

std::optional<cv::Matx23d> partTransform(const Pose& reference, const Pose& target, BodyPart part) {
  const auto from = partSegment(reference, part);
  const auto to = partSegment(target, part);
  const auto ref_length = torsoLength(reference);
  const auto target_length = torsoLength(target);
  if (!from || !to || !ref_length || !target_length) return std::nullopt;
  const double scale = std::clamp(*target_length / *ref_length, kMinScale, kMaxScale);
  double across = scale;
  if (part == BodyPart::kTorso) {
    const auto ref_width = torsoWidth(reference, *from);
    const auto target_width = torsoWidth(target, *to);
    if (ref_width && target_width && *ref_width >= 1.0)
      across = std::clamp(*target_width / *ref_width, kMinWidthRatio * scale, kMaxScale * scale);
  }
  return segmentTransform(*from, *to, across);
}

cv::Mat partMask(const Pose& pose, BodyPart part, cv::Size size) {
  cv::Mat drawn(size, CV_8U, cv::Scalar(0));
  const auto length = torsoLength(pose);
  const auto segment = partSegment(pose, part);
  cv::Mat out(size, CV_32F, cv::Scalar(0));
  if (!length || !segment) return out;
  const double t = *length;
  auto width = [&](double fraction) { return std::max(1, static_cast<int>(std::lround(fraction * t))); };
  if (part == BodyPart::kTorso) {
    const cv::Point corners[] = {fixed(*joint(pose, C::kLeftShoulder)), fixed(*joint(pose, C::kRightShoulder)),
                                 fixed(*joint(pose, C::kRightHip)), fixed(*joint(pose, C::kLeftHip))};
    cv::fillConvexPoly(drawn, corners, 4, cv::Scalar(255), cv::LINE_8, kShift);
    const cv::Point* polygon[] = {corners};
    const int count = 4;
    cv::polylines(drawn, polygon, &count, 1, true, cv::Scalar(255), width(kTorsoMargin), cv::LINE_8,
                  kShift);
  } else if (part == BodyPart::kHead) {
    cv::line(drawn, fixed(segment->a), fixed(segment->b), cv::Scalar(255), width(kNeckWidth),
             cv::LINE_8, kShift);
    cv::circle(drawn, fixed(segment->b), static_cast<int>(std::lround(kHeadRadius * t * (1 << kShift))),
               cv::Scalar(255), cv::FILLED, cv::LINE_8, kShift);
  } else {
    cv::line(drawn, fixed(segment->a), fixed(segment->b), cv::Scalar(255), width(limbWidth(part)),
             cv::LINE_8, kShift);
  }
  drawn.convertTo(out, CV_32F, 1.0 / 255.0);
  const double sigma = std::max(kMinBlurSigma, kBlurSigma * t);
  cv::GaussianBlur(out, out, cv::Size(), sigma);
  return out;
}

WarpedReference warpReference(const cv::Mat& image, const Pose& reference, const Pose& target) {
  const cv::Size size = image.size();
  const auto parts = bodyParts();
  // What each part may take from the reference: its own mask less the
  // parts in front of it there (a hand hanging beside the hip belongs to
  // the forearm, not to the thigh or the torso).
  std::array<cv::Mat, kBodyPartCount> visible;
  cv::Mat in_front(size, CV_32F, cv::Scalar(0));
  for (int i = kBodyPartCount - 1; i >= 0; --i) {
    const cv::Mat mask = partMask(reference, parts[static_cast<std::size_t>(i)], size);
    visible[static_cast<std::size_t>(i)] = mask.mul(1 - in_front);
    in_front = cv::max(in_front, mask);
  }
  cv::Mat out(size, CV_32FC3, cv::Scalar::all(0));
  cv::Mat cover(size, CV_32F, cv::Scalar(0));
  cv::Mat source;
  image.convertTo(source, CV_32FC3);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto m = partTransform(reference, target, parts[i]);
    if (!m) continue;
    cv::Mat warped, warped_mask;
    cv::warpAffine(source, warped, cv::Mat(*m), size, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
    cv::warpAffine(visible[i], warped_mask, cv::Mat(*m), size, cv::INTER_LINEAR, cv::BORDER_CONSTANT);
    // Alpha: inside the target's part and taken from the reference's.
    const cv::Mat alpha = partMask(target, parts[i], size).mul(warped_mask);
    cv::Mat alpha3;
    cv::merge(std::vector<cv::Mat>{alpha, alpha, alpha}, alpha3);
    out = out.mul(cv::Scalar::all(1) - alpha3) + warped.mul(alpha3);
    cover = cover.mul(1 - alpha) + alpha;
  }
  WarpedReference result;
  out.convertTo(result.image, CV_8UC3);
  cover.convertTo(result.mask, CV_8U, 255.0);
  return result;
}

}  // namespace booth
