#pragma once
// Part-wise warping (the idea of Liquid Warping GAN / iPER and deformable
// GANs, kept simple and cheap on a CPU): a reference frame of the visitor
// is carried to a target pose body part by body part. For each part the 2-D
// transform between the reference skeleton's segment and the target's is
// computed, the reference image is warped with it, and the warped parts are
// composited under soft part masks into one image, with its coverage as a
// mask. The warp generator (ModelConfig::generator = kWarp) gets that image
// and mask beside the stick figure, so it only has to fix seams, shading
// and cloth instead of inventing the visitor's look in a pose they never
// made. libtorch-free (OpenCV only).
//
// Parts and their segments (a -> b):
//   torso       shoulders' midpoint -> hips' midpoint
//   head        shoulders' midpoint -> head centre (face_box.h)
//   upper arms  shoulder -> elbow,  forearms  elbow -> wrist
//   thighs      hip -> knee,        shins     knee -> ankle
// The transform of a part maps the reference segment's ends exactly onto
// the target's: along the segment it scales by the ratio of the segment
// lengths, across it by the body's scale (torso: by the shoulders' width
// ratio), so a limb that looks shorter (turned towards the camera) is
// shortened without being thinned.
#include <array>
#include <optional>

#include <opencv2/core.hpp>

#include "common/core/keypoints.h"

namespace booth {

// In compositing order: later parts are drawn over earlier ones (arms in
// front of the torso, as in most dance poses seen from the front).
enum class BodyPart : int {
  kTorso = 0,
  kHead,
  kLeftThigh,
  kLeftShin,
  kRightThigh,
  kRightShin,
  kLeftUpperArm,
  kLeftForearm,
  kRightUpperArm,
  kRightForearm,
};
inline constexpr int kBodyPartCount = 10;
std::array<BodyPart, kBodyPartCount> bodyParts();
const char* bodyPartName(BodyPart part);

struct Segment {
  cv::Point2d a, b;
};

// The part's segment in `pose`; nullopt when one of the joints it needs is
// not usable.
std::optional<Segment> partSegment(const Pose& pose, BodyPart part);

// The body's size in pixels: the torso's length (shoulders' midpoint to
// hips' midpoint); nullopt without both shoulders and both hips.
std::optional<double> torsoLength(const Pose& pose);

// The affine map (2x3, source pixel -> destination pixel) that takes
// from.a to to.a and from.b to to.b, scaling by the length ratio along the
// segment and by `across` perpendicular to it, without reflection. A
// segment shorter than a pixel in `from` has no direction: the map is then
// a scaling by `across` about from.a followed by a move onto to.a.
cv::Matx23d segmentTransform(const Segment& from, const Segment& to, double across);

// The transform of one part from the reference pose to the target pose;
// nullopt when the part or the body's size is missing in either pose.
std::optional<cv::Matx23d> partTransform(const Pose& reference, const Pose& target, BodyPart part);

// Soft mask of one part of `pose` (CV_32F, 0..1, `size`): the torso as the
// quadrilateral of shoulders and hips, the head as a disc, limbs as thick
// segments with round ends, widths in proportion to the torso's length;
// blurred at the edges. All zeros when the part is missing.
cv::Mat partMask(const Pose& pose, BodyPart part, cv::Size size);

struct WarpedReference {
  cv::Mat image;  // CV_8UC3: the composited warped parts over black
  cv::Mat mask;   // CV_8U: how much of each pixel the warped parts cover (0..255)
};

// `image` (CV_8UC3) showing `reference`, carried to `target` part by part
// (the output has the image's size). Each part takes only the reference
// pixels under the reference's own part mask that no part drawn after it
// (in front) covers there, warped, and lands under the target's part mask,
// over the parts drawn before it. Parts missing in either pose are left
// out.
WarpedReference warpReference(const cv::Mat& image, const Pose& reference, const Pose& target);

}  // namespace booth
