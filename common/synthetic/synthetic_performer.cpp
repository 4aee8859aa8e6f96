#include "common/synthetic/synthetic_performer.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <optional>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

// Built-in looks. Proportions differ on purpose, so that a generator trained
// on one performer and driven by another's normalized poses has a real
// retargeting problem: ben is broad-shouldered and thick-limbed, cleo tall
// with long legs and a short torso, dev shorter with a bigger head and wide
// hips; ada is close to the BodyProportions defaults.
std::vector<PerformerLook> makeBuiltinPerformers() {
  std::vector<PerformerLook> looks;

  PerformerLook ada;
  ada.name = "ada";
  ada.body.height_px = 345.f;
  ada.body.head_radius = 0.068f;
  ada.body.neck = 0.095f;
  ada.body.shoulder_width = 0.23f;
  ada.body.hip_width = 0.18f;
  ada.body.limb_width = 0.052f;
  ada.skin = {150, 180, 225};
  ada.hair = {30, 45, 75};
  ada.shirt = {45, 40, 205};     // red
  ada.trousers = {110, 60, 30};  // navy
  ada.shoes = {235, 235, 235};   // white
  looks.push_back(ada);

  PerformerLook ben;
  ben.name = "ben";
  ben.body.height_px = 365.f;
  ben.body.head_radius = 0.064f;
  ben.body.neck = 0.095f;
  ben.body.shoulder_width = 0.29f;
  ben.body.torso = 0.31f;
  ben.body.hip_width = 0.17f;
  ben.body.upper_arm = 0.18f;
  ben.body.forearm = 0.155f;
  ben.body.thigh = 0.235f;
  ben.body.shin = 0.235f;
  ben.body.limb_width = 0.066f;
  ben.skin = {95, 130, 175};
  ben.hair = {25, 25, 30};
  ben.shirt = {60, 165, 55};       // green
  ben.trousers = {120, 170, 195};  // khaki
  ben.shoes = {30, 50, 90};        // brown
  looks.push_back(ben);

  PerformerLook cleo;
  cleo.name = "cleo";
  cleo.body.height_px = 378.f;
  cleo.body.head_radius = 0.063f;
  cleo.body.neck = 0.1f;
  cleo.body.shoulder_width = 0.22f;
  cleo.body.torso = 0.28f;
  cleo.body.hip_width = 0.165f;
  cleo.body.upper_arm = 0.175f;
  cleo.body.forearm = 0.155f;
  cleo.body.thigh = 0.265f;
  cleo.body.shin = 0.26f;
  cleo.body.limb_width = 0.048f;
  cleo.skin = {60, 90, 135};
  cleo.hair = {20, 20, 25};
  cleo.shirt = {40, 205, 235};   // yellow
  cleo.trousers = {40, 35, 35};  // black
  cleo.shoes = {45, 40, 185};    // red
  looks.push_back(cleo);

  PerformerLook dev;
  dev.name = "dev";
  dev.body.height_px = 330.f;
  dev.body.head_radius = 0.075f;
  dev.body.neck = 0.1f;
  dev.body.shoulder_width = 0.25f;
  dev.body.torso = 0.31f;
  dev.body.hip_width = 0.2f;
  dev.body.upper_arm = 0.16f;
  dev.body.forearm = 0.145f;
  dev.body.thigh = 0.225f;
  dev.body.shin = 0.22f;
  dev.body.limb_width = 0.062f;
  dev.skin = {120, 160, 205};
  dev.hair = {40, 70, 150};        // auburn
  dev.shirt = {205, 120, 40};      // blue
  dev.trousers = {135, 135, 135};  // grey
  dev.shoes = {25, 25, 25};        // black
  looks.push_back(dev);

  return looks;
}

// Sub-pixel drawing (1/16 px), so slow motion is not quantised to whole pixels.
constexpr int kShift = 4;
constexpr double kSubPixel = 1 << kShift;
constexpr double kMaxCoordinate = 1e5;

cv::Point2d at(const Keypoint& k) { return {k.x, k.y}; }

cv::Point fixed(cv::Point2d p) {
  auto f = [](double v) {
    return static_cast<int>(
        std::lround(std::clamp(v, -kMaxCoordinate, kMaxCoordinate) * kSubPixel));
  };
  return {f(p.x), f(p.y)};
}

int fixedLength(double v) {
  return static_cast<int>(std::lround(std::clamp(v, 0.0, kMaxCoordinate) * kSubPixel));
}

int pixels(double v) { return std::max(1, static_cast<int>(std::lround(v))); }

cv::Scalar shade(const cv::Scalar& c, double f) { return {c[0] * f, c[1] * f, c[2] * f}; }

cv::Scalar mix(const cv::Scalar& a, const cv::Scalar& b, double t) {
  return {a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t};
}

// The booth: a wall lit from above with panel seams and a skirting board, and
// a floor with boards running toward the camera and a lit spot where the
// visitor stands. Subtle on purpose: texture for the generator to learn, not
// a distraction from the person.
void drawBackdrop(cv::Mat& image, const Backdrop& backdrop) {
  const int w = image.cols;
  const int h = image.rows;
  const int horizon = std::clamp(static_cast<int>(std::lround(double{backdrop.horizon} * h)), 0, h);
  for (int y = 0; y < horizon; ++y) {
    const double lift = 14.0 * (1.0 - static_cast<double>(y) / std::max(1, horizon));
    image.row(y).setTo(backdrop.wall + cv::Scalar::all(lift));
  }
  for (int y = horizon; y < h; ++y) {
    const double near = static_cast<double>(y - horizon) / std::max(1, h - horizon);
    image.row(y).setTo(shade(backdrop.floor, 0.9 + 0.15 * near));
  }
  if (horizon > 0) {
    const cv::Scalar seam = shade(backdrop.wall, 0.9);
    for (int i = 1; i < 6; ++i) {
      const int x = i * w / 6;
      cv::line(image, {x, 0}, {x, horizon - 1}, seam, 1, cv::LINE_8);
    }
    const int skirting = std::max(1, h / 60);
    cv::rectangle(image, cv::Point(0, std::max(0, horizon - skirting)),
                  cv::Point(w - 1, horizon - 1), shade(backdrop.wall, 0.7), cv::FILLED);
  }
  if (horizon < h) {
    const cv::Point2d vanishing{0.5 * w, horizon - 1.5 * h};
    const cv::Scalar board = shade(backdrop.floor, 0.85);
    for (int i = -6; i <= 6; ++i) {
      const double bottom_x = 0.5 * w + i * w / 6.0;
      const double t = (horizon - vanishing.y) / (h - vanishing.y);
      const cv::Point2d top{vanishing.x + (bottom_x - vanishing.x) * t,
                            static_cast<double>(horizon)};
      cv::line(image, fixed(top), fixed({bottom_x, h - 1.0}), board, 1, cv::LINE_AA, kShift);
    }
    const cv::Point2d spot{0.5 * w, horizon + 0.6 * (h - horizon)};
    cv::ellipse(image, fixed(spot),
                cv::Size(fixedLength(0.22 * w), fixedLength(0.25 * (h - horizon))), 0, 0, 360,
                shade(backdrop.floor, 1.12), cv::FILLED, cv::LINE_AA, kShift);
  }
}

// Body height in pixels as drawn: estimated from the pose's own bone lengths
// (each valid bone's length divided by its proportion; the median of those),
// so a performer far from the camera gets thin limbs and a small head. Falls
// back to look.body.height_px when no bone is visible. Bones foreshortened in
// a real pose only shorten, and the median keeps a few of them from shrinking
// the figure.
double drawnHeight(const PerformerLook& look, const Pose& pose) {
  const BodyProportions& b = look.body;
  using C = Coco17;
  struct Bone {
    C a;
    C b;
    float proportion;
  };
  const std::array<Bone, 10> bones = {{
      {C::kLeftShoulder, C::kRightShoulder, b.shoulder_width},
      {C::kLeftHip, C::kRightHip, b.hip_width},
      {C::kLeftShoulder, C::kLeftElbow, b.upper_arm},
      {C::kRightShoulder, C::kRightElbow, b.upper_arm},
      {C::kLeftElbow, C::kLeftWrist, b.forearm},
      {C::kRightElbow, C::kRightWrist, b.forearm},
      {C::kLeftHip, C::kLeftKnee, b.thigh},
      {C::kRightHip, C::kRightKnee, b.thigh},
      {C::kLeftKnee, C::kLeftAnkle, b.shin},
      {C::kRightKnee, C::kRightAnkle, b.shin},
  }};
  std::vector<double> estimates;
  for (const Bone& bone : bones) {
    const Keypoint& p = pose[bone.a];
    const Keypoint& q = pose[bone.b];
    if (!isUsable(p) || !isUsable(q) || bone.proportion <= 0.f) continue;
    const double length = cv::norm(at(p) - at(q));
    if (length > 0.0) estimates.push_back(length / bone.proportion);
  }
  if (estimates.empty()) return b.height_px;
  const auto mid = estimates.begin() + static_cast<std::ptrdiff_t>(estimates.size() / 2);
  std::nth_element(estimates.begin(), mid, estimates.end());
  return *mid;
}

// Draws shapes with a thin darker outline, so overlapping parts of the same
// colour (an arm across the torso) stay readable.
class Painter {
 public:
  Painter(cv::Mat& image, double body_height)
      : image_(image), outline_(std::max(1.0, 0.006 * body_height)) {}

  void limb(cv::Point2d a, cv::Point2d b, double width, const cv::Scalar& colour) {
    limbOutline(a, b, width, colour);
    limbFill(a, b, width, colour);
  }
  // For jointed limbs: outline every segment first, then fill them, so no
  // outline is drawn across an elbow or a knee.
  void limbOutline(cv::Point2d a, cv::Point2d b, double width, const cv::Scalar& colour) {
    cv::line(image_, fixed(a), fixed(b), shade(colour, 0.6), pixels(width + 2 * outline_),
             cv::LINE_AA, kShift);
  }
  void limbFill(cv::Point2d a, cv::Point2d b, double width, const cv::Scalar& colour) {
    cv::line(image_, fixed(a), fixed(b), colour, pixels(width), cv::LINE_AA, kShift);
  }

  void disc(cv::Point2d centre, double radius, const cv::Scalar& colour, bool outlined = true) {
    if (outlined) {
      cv::circle(image_, fixed(centre), fixedLength(radius + outline_), shade(colour, 0.6),
                 cv::FILLED, cv::LINE_AA, kShift);
    }
    cv::circle(image_, fixed(centre), fixedLength(radius), colour, cv::FILLED, cv::LINE_AA, kShift);
  }

  void oval(cv::Point2d centre, cv::Size2d axes, double angle_rad, const cv::Scalar& colour,
            bool outlined = true) {
    const double degrees = angle_rad * 180.0 / std::numbers::pi;
    if (outlined) {
      cv::ellipse(image_, fixed(centre),
                  cv::Size(fixedLength(axes.width + outline_), fixedLength(axes.height + outline_)),
                  degrees, 0, 360, shade(colour, 0.6), cv::FILLED, cv::LINE_AA, kShift);
    }
    cv::ellipse(image_, fixed(centre), cv::Size(fixedLength(axes.width), fixedLength(axes.height)),
                degrees, 0, 360, colour, cv::FILLED, cv::LINE_AA, kShift);
  }

  void polygon(const std::vector<cv::Point2d>& points, const cv::Scalar& colour) {
    std::vector<cv::Point> fixed_points;
    fixed_points.reserve(points.size());
    for (const auto& p : points) fixed_points.push_back(fixed(p));
    cv::fillPoly(image_, std::vector<std::vector<cv::Point>>{fixed_points}, colour, cv::LINE_AA,
                 kShift);
    cv::polylines(image_, std::vector<std::vector<cv::Point>>{fixed_points}, true,
                  shade(colour, 0.6), pixels(outline_), cv::LINE_AA, kShift);
  }

  void arc(cv::Point2d centre, cv::Size2d axes, double angle_rad, const cv::Scalar& colour,
           double width) {
    cv::ellipse(image_, fixed(centre), cv::Size(fixedLength(axes.width), fixedLength(axes.height)),
                angle_rad * 180.0 / std::numbers::pi, 10, 170, colour, pixels(width), cv::LINE_AA,
                kShift);
  }

 private:
  cv::Mat& image_;
  double outline_;
};

// The shirt's pattern over the pixels of `mask` (the shirt piece just
// drawn), in image coordinates so that it lines up across pieces. `period`
// is the pattern's repeat in pixels.
void overlayPattern(cv::Mat& image, const cv::Mat& mask, const Outfit& outfit, double period) {
  if (outfit.pattern == Pattern::kPlain) return;
  const cv::Rect box = cv::boundingRect(mask);
  if (box.empty()) return;
  cv::Mat roi = image(box);
  cv::Mat layer = roi.clone();
  const int step = std::max(3, static_cast<int>(std::lround(period)));
  const int thick = std::max(1, step / 3);
  const cv::Scalar ink = outfit.pattern_colour;
  const auto first = [&](int origin) { return (step - origin % step) % step; };
  switch (outfit.pattern) {
    case Pattern::kStripes:
      for (int y = first(box.y); y < box.height; y += step)
        cv::line(layer, {0, y}, {box.width - 1, y}, ink, thick, cv::LINE_8);
      break;
    case Pattern::kChecks:  // thinner lines both ways: the shirt shows between them
      for (int y = first(box.y); y < box.height; y += step)
        cv::line(layer, {0, y}, {box.width - 1, y}, ink, std::max(1, step / 5), cv::LINE_8);
      for (int x = first(box.x); x < box.width; x += step)
        cv::line(layer, {x, 0}, {x, box.height - 1}, ink, std::max(1, step / 5), cv::LINE_8);
      break;
    case Pattern::kDots:
      for (int y = first(box.y); y < box.height; y += step)
        for (int x = first(box.x) + ((y + box.y) / step % 2) * step / 2; x < box.width; x += step)
          cv::circle(layer, {x, y}, thick, ink, cv::FILLED, cv::LINE_AA);
      break;
    case Pattern::kPlain:
      break;
  }
  layer.copyTo(roi, mask(box));
}

// A mask of one limb-shaped shirt piece (a sleeve), as Painter::limbFill draws it.
cv::Mat limbMask(cv::Size size, cv::Point2d a, cv::Point2d b, double width) {
  cv::Mat mask = cv::Mat::zeros(size, CV_8U);
  cv::line(mask, fixed(a), fixed(b), cv::Scalar(255), pixels(width), cv::LINE_8, kShift);
  return mask;
}

void drawLegs(Painter& paint, const PerformerLook& look, const Pose& pose, double width) {
  using C = Coco17;
  const std::array<std::array<C, 3>, 2> legs = {
      {{C::kLeftHip, C::kLeftKnee, C::kLeftAnkle}, {C::kRightHip, C::kRightKnee, C::kRightAnkle}}};
  for (const auto& leg : legs) {
    const Keypoint& hip = pose[leg[0]];
    const Keypoint& knee = pose[leg[1]];
    const Keypoint& ankle = pose[leg[2]];
    const bool has_thigh = isUsable(hip) && isUsable(knee);
    const bool has_shin = isUsable(knee) && isUsable(ankle);
    // Trousers cover the leg; shorts and a skirt (drawTorso) show its skin.
    const bool covered = look.outfit.legs == LegWear::kTrousers;
    const cv::Scalar& cloth = covered ? look.trousers : look.skin;
    const double thigh_width = (covered ? 1.15 : 1.0) * width;
    const double shin_width = (covered ? 1.0 : 0.85) * width;
    if (has_thigh) paint.limbOutline(at(hip), at(knee), thigh_width, cloth);
    if (has_shin) paint.limbOutline(at(knee), at(ankle), shin_width, cloth);
    if (has_thigh) paint.limbFill(at(hip), at(knee), thigh_width, cloth);
    if (has_shin) paint.limbFill(at(knee), at(ankle), shin_width, cloth);
    if (has_thigh && look.outfit.legs == LegWear::kShorts) {
      paint.limb(at(hip), at(hip) + (at(knee) - at(hip)) * 0.55, 1.2 * width, look.trousers);
    }
  }
  // Shoes: seen from the front, an oval just under and outside each ankle.
  for (const auto& [ankle_joint, side] :
       {std::pair{C::kLeftAnkle, 1.0}, std::pair{C::kRightAnkle, -1.0}}) {
    const Keypoint& ankle = pose[ankle_joint];
    if (!isUsable(ankle)) continue;
    paint.oval(at(ankle) + cv::Point2d(side * 0.25 * width, 0.3 * width),
               {0.85 * width, 0.45 * width}, 0, look.shoes);
  }
}

void drawTorso(Painter& paint, cv::Mat& image, const PerformerLook& look, const Pose& pose,
               double width, double pattern_period) {
  using C = Coco17;
  const Keypoint& ls = pose[C::kLeftShoulder];
  const Keypoint& rs = pose[C::kRightShoulder];
  const Keypoint& lh = pose[C::kLeftHip];
  const Keypoint& rh = pose[C::kRightHip];
  if (!isUsable(ls) || !isUsable(rs) || !isUsable(lh) || !isUsable(rh)) return;
  const cv::Point2d l_shoulder = at(ls);
  const cv::Point2d r_shoulder = at(rs);
  const cv::Point2d l_hip = at(lh);
  const cv::Point2d r_hip = at(rh);
  // The shirt reaches a little past the shoulder joints, so the sleeves join
  // it, and down to a waist 85% of the way to the hips; trousers cover the rest.
  const cv::Point2d across = l_shoulder - r_shoulder;
  const cv::Point2d out = across * (0.25 * width / std::max(1.0, cv::norm(across)));
  const cv::Point2d l_waist = l_shoulder + (l_hip - l_shoulder) * 0.85;
  const cv::Point2d r_waist = r_shoulder + (r_hip - r_shoulder) * 0.85;
  const cv::Point2d hips_across = l_hip - r_hip;
  const cv::Point2d hip_out =
      hips_across * (0.5 * 1.15 * width / std::max(1.0, cv::norm(hips_across)));
  paint.polygon(
      {r_waist - hip_out * 0.5, r_hip - hip_out, l_hip + hip_out, l_waist + hip_out * 0.5},
      look.trousers);
  if (look.outfit.legs == LegWear::kSkirt) {
    // From the waist, flaring out, to a hem above the knees (or where they
    // would be).
    const Keypoint& lk = pose[C::kLeftKnee];
    const Keypoint& rk = pose[C::kRightKnee];
    const cv::Point2d down = 0.5 * ((l_hip - l_shoulder) + (r_hip - r_shoulder));
    const cv::Point2d l_knee = isUsable(lk) ? at(lk) : l_hip + down * 0.8;
    const cv::Point2d r_knee = isUsable(rk) ? at(rk) : r_hip + down * 0.8;
    paint.polygon({r_waist - hip_out * 0.5, l_waist + hip_out * 0.5,
                   l_hip + (l_knee - l_hip) * 0.8 + hip_out * 1.6,
                   r_hip + (r_knee - r_hip) * 0.8 - hip_out * 1.6},
                  look.trousers);
  }
  const std::vector<cv::Point2d> shirt = {r_shoulder - out, l_shoulder + out,
                                          l_waist + hip_out * 0.3, r_waist - hip_out * 0.3};
  paint.polygon(shirt, look.shirt);
  if (look.outfit.pattern != Pattern::kPlain) {
    cv::Mat mask = cv::Mat::zeros(image.size(), CV_8U);
    std::vector<cv::Point> points;
    for (const auto& p : shirt) points.push_back(fixed(p));
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{points}, cv::Scalar(255), cv::LINE_8,
                 kShift);
    overlayPattern(image, mask, look.outfit, pattern_period);
  }
}

struct HeadFrame {
  cv::Point2d centre;
  cv::Point2d up;      // unit, from chin to crown
  cv::Point2d across;  // unit, from the right ear (image left) to the left ear
  double radius = 0.0;
};

// Where the head is: between the ears when both are seen (they sit at the
// head's sides), else just above the nose; tilt from the ear or eye line.
std::optional<HeadFrame> findHead(const Pose& pose, double radius) {
  using C = Coco17;
  const Keypoint& nose = pose[C::kNose];
  const Keypoint& l_ear = pose[C::kLeftEar];
  const Keypoint& r_ear = pose[C::kRightEar];
  const Keypoint& l_eye = pose[C::kLeftEye];
  const Keypoint& r_eye = pose[C::kRightEye];
  HeadFrame head;
  head.radius = radius;
  head.across = {1, 0};
  if (isUsable(l_ear) && isUsable(r_ear) && cv::norm(at(l_ear) - at(r_ear)) > 0) {
    head.across = (at(l_ear) - at(r_ear)) / cv::norm(at(l_ear) - at(r_ear));
  } else if (isUsable(l_eye) && isUsable(r_eye) && cv::norm(at(l_eye) - at(r_eye)) > 0) {
    head.across = (at(l_eye) - at(r_eye)) / cv::norm(at(l_eye) - at(r_eye));
  }
  head.up = {head.across.y, -head.across.x};
  if (isUsable(l_ear) && isUsable(r_ear)) {
    head.centre = 0.5 * (at(l_ear) + at(r_ear));
  } else if (isUsable(nose)) {
    head.centre = at(nose) + head.up * (0.2 * radius);
  } else if (isUsable(l_eye) && isUsable(r_eye)) {
    head.centre = 0.5 * (at(l_eye) + at(r_eye)) - head.up * (0.1 * radius);
  } else {
    return std::nullopt;
  }
  return head;
}

void drawNeck(Painter& paint, const PerformerLook& look, const Pose& pose,
              const std::optional<HeadFrame>& head) {
  const Keypoint& ls = pose[Coco17::kLeftShoulder];
  const Keypoint& rs = pose[Coco17::kRightShoulder];
  if (!head || !isUsable(ls) || !isUsable(rs)) return;
  paint.limb(0.5 * (at(ls) + at(rs)), head->centre, 0.85 * head->radius, look.skin);
}

void drawHead(Painter& paint, const PerformerLook& look, const Pose& pose, const HeadFrame& head) {
  using C = Coco17;
  const double r = head.radius;
  const double roll = std::atan2(head.across.y, head.across.x);
  for (C ear : {C::kLeftEar, C::kRightEar}) {
    if (isUsable(pose[ear])) paint.disc(at(pose[ear]), 0.22 * r, look.skin);
  }
  // Hair behind and above the face, the face, then a fringe on top. Long
  // hair falls behind the head to the shoulders; a bun sits on the crown;
  // shaved hair is a shadow over the scalp.
  const HairStyle style = look.outfit.hair;
  if (style == HairStyle::kLong) {
    paint.oval(head.centre - head.up * (0.45 * r), {1.12 * r, 1.5 * r}, roll, look.hair);
  }
  if (style == HairStyle::kBun) paint.disc(head.centre + head.up * (1.1 * r), 0.42 * r, look.hair);
  if (style != HairStyle::kShaved) paint.disc(head.centre + head.up * (0.12 * r), 1.05 * r, look.hair);
  paint.oval(head.centre - head.up * (0.04 * r), {0.9 * r, 0.98 * r}, roll, look.skin);
  if (style == HairStyle::kShaved) {
    paint.oval(head.centre + head.up * (0.55 * r), {0.8 * r, 0.38 * r}, roll,
               mix(look.skin, look.hair, 0.35), false);
  } else {
    paint.oval(head.centre + head.up * (0.66 * r), {0.78 * r, 0.34 * r}, roll, look.hair, false);
  }

  const cv::Scalar eye_white{240, 240, 245};
  const cv::Scalar pupil{40, 30, 25};
  std::optional<cv::Point2d> eyes_mid;
  if (isUsable(pose[C::kLeftEye]) && isUsable(pose[C::kRightEye])) {
    eyes_mid = 0.5 * (at(pose[C::kLeftEye]) + at(pose[C::kRightEye]));
  }
  for (C eye : {C::kLeftEye, C::kRightEye}) {
    if (!isUsable(pose[eye])) continue;
    paint.oval(at(pose[eye]), {0.17 * r, 0.12 * r}, roll, eye_white, false);
    paint.disc(at(pose[eye]), std::max(0.8, 0.08 * r), pupil, false);
  }
  const Keypoint& nose = pose[C::kNose];
  if (!isUsable(nose)) return;
  paint.disc(at(nose), std::max(0.8, 0.07 * r), shade(look.skin, 0.75), false);
  // The mouth sits below the nose, as far again as the nose is below the eyes.
  cv::Point2d mouth = at(nose) - head.up * (0.3 * r);
  if (eyes_mid) {
    const cv::Point2d down = at(nose) - *eyes_mid;
    if (cv::norm(down) > 0.1 * r) mouth = at(nose) + down;
  }
  paint.arc(mouth - head.up * (0.05 * r), {0.27 * r, 0.12 * r}, roll, {70, 60, 170},
            std::max(1.0, 0.08 * r));
}

void drawArms(Painter& paint, cv::Mat& image, const PerformerLook& look, const Pose& pose,
              double width, double pattern_period) {
  using C = Coco17;
  const std::array<std::array<C, 3>, 2> arms = {
      {{C::kLeftShoulder, C::kLeftElbow, C::kLeftWrist},
       {C::kRightShoulder, C::kRightElbow, C::kRightWrist}}};
  for (const auto& arm : arms) {
    const Keypoint& shoulder = pose[arm[0]];
    const Keypoint& elbow = pose[arm[1]];
    const Keypoint& wrist = pose[arm[2]];
    const double arm_width = 0.85 * width;
    const bool has_upper = isUsable(shoulder) && isUsable(elbow);
    const bool has_forearm = isUsable(elbow) && isUsable(wrist);
    if (has_forearm) {
      const cv::Point2d along = at(wrist) - at(elbow);
      const double length = cv::norm(along);
      const cv::Point2d hand =
          at(wrist) + (length > 0 ? along * (0.3 * arm_width / length) : cv::Point2d{});
      paint.disc(hand, 0.55 * arm_width, look.skin);
      paint.limbOutline(at(elbow), at(wrist), 0.8 * arm_width, look.skin);
    }
    if (has_upper) paint.limbOutline(at(shoulder), at(elbow), 0.8 * arm_width, look.skin);
    if (has_forearm) paint.limbFill(at(elbow), at(wrist), 0.8 * arm_width, look.skin);
    if (has_upper) paint.limbFill(at(shoulder), at(elbow), 0.8 * arm_width, look.skin);
    // Sleeves: a short one over most of the upper arm, a long one down to
    // the wrist, none on a sleeveless top.
    std::vector<std::pair<cv::Point2d, cv::Point2d>> sleeves;
    if (has_upper && look.outfit.sleeves == Sleeves::kShort) {
      sleeves.push_back({at(shoulder), at(shoulder) + (at(elbow) - at(shoulder)) * 0.75});
    } else if (has_upper && look.outfit.sleeves == Sleeves::kLong) {
      sleeves.push_back({at(shoulder), at(elbow)});
      if (has_forearm) sleeves.push_back({at(elbow), at(elbow) + (at(wrist) - at(elbow)) * 0.92});
    }
    for (const auto& [from, to] : sleeves) paint.limbOutline(from, to, arm_width, look.shirt);
    for (const auto& [from, to] : sleeves) {
      paint.limbFill(from, to, arm_width, look.shirt);
      overlayPattern(image, limbMask(image.size(), from, to, arm_width), look.outfit,
                     pattern_period);
    }
  }
}

// The frame's light (Backdrop::light_*): a gain per channel, times a ramp
// from one side to the other.
void applyLight(cv::Mat& image, const Backdrop& backdrop) {
  const cv::Scalar& tint = backdrop.light_tint;
  if (backdrop.light_gain == 1.0 && tint == cv::Scalar(1, 1, 1) && backdrop.light_side == 0.0) {
    return;
  }
  const int w = image.cols;
  std::vector<std::array<float, 3>> column(static_cast<std::size_t>(w));
  for (int x = 0; x < w; ++x) {
    const double across = w > 1 ? 2.0 * x / (w - 1) - 1.0 : 0.0;  // -1 left .. 1 right
    const double f = backdrop.light_gain * (1.0 + backdrop.light_side * across);
    for (int c = 0; c < 3; ++c) column[static_cast<std::size_t>(x)][c] = static_cast<float>(f * tint[c]);
  }
  for (int y = 0; y < image.rows; ++y) {
    auto* row = image.ptr<cv::Vec3b>(y);
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        row[x][c] = cv::saturate_cast<uchar>(row[x][c] * column[static_cast<std::size_t>(x)][c]);
      }
    }
  }
}

}  // namespace

const char* sleevesName(Sleeves s) {
  switch (s) {
    case Sleeves::kShort: return "short";
    case Sleeves::kLong: return "long";
    case Sleeves::kNone: return "none";
  }
  return "?";
}

const char* patternName(Pattern p) {
  switch (p) {
    case Pattern::kPlain: return "plain";
    case Pattern::kStripes: return "stripes";
    case Pattern::kChecks: return "checks";
    case Pattern::kDots: return "dots";
  }
  return "?";
}

const char* legWearName(LegWear l) {
  switch (l) {
    case LegWear::kTrousers: return "trousers";
    case LegWear::kShorts: return "shorts";
    case LegWear::kSkirt: return "skirt";
  }
  return "?";
}

const char* hairStyleName(HairStyle h) {
  switch (h) {
    case HairStyle::kShort: return "short";
    case HairStyle::kLong: return "long";
    case HairStyle::kShaved: return "shaved";
    case HairStyle::kBun: return "bun";
  }
  return "?";
}

std::span<const PerformerLook> builtinPerformers() {
  static const std::vector<PerformerLook> kLooks = makeBuiltinPerformers();
  return kLooks;
}

const PerformerLook* findPerformer(std::string_view name) {
  for (const auto& look : builtinPerformers()) {
    if (look.name == name) return &look;
  }
  return nullptr;
}

cv::Mat renderPerformer(const PerformerLook& look, const Pose& pose, cv::Size size,
                        const Backdrop& backdrop) {
  cv::Mat image(size, CV_8UC3);
  if (image.empty()) return image;
  drawBackdrop(image, backdrop);

  const double height = drawnHeight(look, pose);
  const double width = look.body.limb_width * height;
  Painter paint(image, height);

  // Soft contact shadow under the feet.
  const Keypoint& la = pose[Coco17::kLeftAnkle];
  const Keypoint& ra = pose[Coco17::kRightAnkle];
  if (isUsable(la) && isUsable(ra)) {
    const cv::Point2d feet{0.5 * (la.x + ra.x), std::max(la.y, ra.y) + 0.5 * width};
    const double half = 0.5 * std::abs(la.x - ra.x) + 1.2 * width;
    paint.oval(feet, {half, 0.35 * width}, 0, mix(backdrop.floor, {0, 0, 0}, 0.3), false);
  }

  // Back to front: legs, neck, torso, head, arms (arms in front of everything,
  // as when a dancer's hands pass before the body or face).
  drawLegs(paint, look, pose, width);
  const auto head = findHead(pose, look.body.head_radius * height);
  drawNeck(paint, look, pose, head);
  const double pattern_period = 0.03 * height;
  drawTorso(paint, image, look, pose, width, pattern_period);
  if (head) drawHead(paint, look, pose, *head);
  drawArms(paint, image, look, pose, width, pattern_period);
  applyLight(image, backdrop);
  return image;
}

}  // namespace booth
