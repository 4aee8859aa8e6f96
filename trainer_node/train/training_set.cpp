#include "trainer_node/train/training_set.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "common/image/frame_image.h"
#include "common/pose/stick_figure.h"
#include "trainer_node/train/face_box.h"

namespace booth {

Pose SessionCrop::toModel(const Pose& source) const {
  return transformPose(source, scale, -x * scale, -y * scale);
}

Pose SessionCrop::toSource(const Pose& model) const {
  return transformPose(model, 1.f / scale, static_cast<float>(x), static_cast<float>(y));
}

TrainClip TrainingSet::trainClip() const {
  TrainClip clip;
  clip.sticks = std::span<const cv::Mat>(sticks.data(), held_out_begin);
  clip.frames = std::span<const cv::Mat>(frames.data(), held_out_begin);
  clip.face_boxes =
      face_side > 0 ? std::span<const std::optional<cv::Rect>>(face_boxes.data(), held_out_begin)
                    : std::span<const std::optional<cv::Rect>>();
  clip.poses = std::span<const Pose>(poses.data(), held_out_begin);
  return clip;
}

TrainClip TrainingSet::heldOutClip() const {
  TrainClip clip;
  const std::size_t n = heldOutCount();
  clip.sticks = std::span<const cv::Mat>(sticks.data() + held_out_begin, n);
  clip.frames = std::span<const cv::Mat>(frames.data() + held_out_begin, n);
  if (face_side > 0)
    clip.face_boxes = std::span<const std::optional<cv::Rect>>(face_boxes.data() + held_out_begin, n);
  clip.poses = std::span<const Pose>(poses.data() + held_out_begin, n);
  return clip;
}

Result<SessionGeometry> sessionGeometry(const std::vector<Pose>& source_poses, cv::Size source,
                                        int resolution) {
  SessionGeometry g;
  g.source_width = source.width;
  g.source_height = source.height;
  // One square crop for the whole session, centred on the median hip x,
  // with the floor in view.
  std::vector<float> hip_x;
  for (const Pose& p : source_poses) {
    const auto& l = p[Coco17::kLeftHip];
    const auto& r = p[Coco17::kRightHip];
    if (l.valid() && r.valid()) hip_x.push_back((l.x + r.x) / 2);
  }
  const int side = std::min(source.width, source.height);
  float cx = source.width / 2.f;
  if (!hip_x.empty()) {
    std::nth_element(hip_x.begin(), hip_x.begin() + hip_x.size() / 2, hip_x.end());
    cx = hip_x[hip_x.size() / 2];
  }
  g.crop.x = std::clamp(static_cast<int>(cx - side / 2.f), 0, source.width - side);
  g.crop.y = source.height - side;
  g.crop.side = side;
  g.crop.scale = static_cast<float>(resolution) / static_cast<float>(side);
  std::vector<Pose> model_poses;
  model_poses.reserve(source_poses.size());
  for (const Pose& p : source_poses) model_poses.push_back(g.crop.toModel(p));
  auto floor = computeFloorStats(model_poses);
  if (!floor) {
    return fail("no frame of the session shows the ankles and head of the visitor (" +
                std::to_string(source_poses.size()) +
                " frames); the whole body must be in view to learn the visitor");
  }
  g.floor = *floor;
  g.face_side = faceBoxSide((floor->far_height + floor->close_height) / 2, resolution / 2);
  return g;
}

Result<SessionGeometry> sessionGeometry(const std::vector<StoredFrame>& frames, int resolution) {
  std::vector<Pose> poses;
  cv::Size size;
  for (const StoredFrame& f : frames) {
    if (!f.pose) continue;
    if (size.area() <= 0) {
      size = cv::Size(f.width, f.height);
      // A record without its size: the image knows it.
      if (size.area() <= 0) size = decodeFrameImage(f.encoding, f.width, f.height, f.data).size();
    }
    poses.push_back(*f.pose);
  }
  if (size.area() <= 0) return fail("no frame of the session has a pose and a frame size");
  return sessionGeometry(poses, size, resolution);
}

Result<TrainingSet> buildTrainingSet(const std::vector<cv::Mat>& images,
                                     const std::vector<Pose>& source_poses,
                                     const TrainingSetOptions& options) {
  const int resolution = options.resolution;
  if (images.size() != source_poses.size())
    return fail("training set: " + std::to_string(images.size()) + " images but " +
                std::to_string(source_poses.size()) + " poses");
  if (images.size() < 2)
    return fail("need at least 2 frames with a pose to train, got " + std::to_string(images.size()));
  const int w = images.front().cols, h = images.front().rows;
  auto geometry = sessionGeometry(source_poses, cv::Size(w, h), resolution);
  if (!geometry.ok()) return fail(geometry.error());
  TrainingSet set;
  set.resolution = resolution;
  set.source_width = w;
  set.source_height = h;
  set.crop = geometry->crop;
  set.floor = geometry->floor;
  set.face_side = geometry->face_side;
  const int side = set.crop.side;
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (options.should_stop && options.should_stop()) return fail("stopped while building the training set");
    if (images[i].cols != w || images[i].rows != h || images[i].type() != CV_8UC3) {
      return fail("frame size changed within the session: " + std::to_string(images[i].cols) + "x" +
                  std::to_string(images[i].rows) + " after " + std::to_string(w) + "x" +
                  std::to_string(h));
    }
    cv::Mat crop;
    cv::resize(images[i](cv::Rect(set.crop.x, set.crop.y, side, side)), crop,
               cv::Size(resolution, resolution), 0, 0, cv::INTER_AREA);
    const Pose pose = set.crop.toModel(source_poses[i]);
    set.frames.push_back(std::move(crop));
    set.sticks.push_back(renderStickFigure(pose, cv::Size(resolution, resolution)));
    set.face_boxes.push_back(faceBox(pose, set.face_side, cv::Size(resolution, resolution)));
    set.poses.push_back(pose);
  }
  const auto held = static_cast<std::size_t>(std::lround(
      std::clamp(options.held_out_fraction, 0.0, 0.5) * static_cast<double>(set.frames.size())));
  set.held_out_begin = set.frames.size();
  if (held >= kMinHeldOutFrames && set.frames.size() - held >= 2) set.held_out_begin -= held;
  return set;
}

Result<TrainingSet> buildTrainingSet(const std::vector<StoredFrame>& frames,
                                     const TrainingSetOptions& options) {
  std::vector<Pose> poses;
  std::vector<cv::Mat> images;
  for (const StoredFrame& f : frames) {
    if (!f.pose) continue;
    if (options.should_stop && options.should_stop()) return fail("stopped while decoding the session");
    const cv::Mat image = decodeFrameImage(f.encoding, f.width, f.height, f.data);
    if (image.empty()) {
      return fail("frame " + std::to_string(f.sequence) + " could not be decoded");
    }
    images.push_back(image);
    poses.push_back(*f.pose);
  }
  if (images.size() < 2) {
    return fail("need at least 2 frames with a pose to train, the session has " +
                std::to_string(images.size()) + " of " + std::to_string(frames.size()));
  }
  return buildTrainingSet(images, poses, options);
}

Result<TrainingSet> buildTrainingSet(const std::vector<StoredFrame>& frames, int resolution) {
  TrainingSetOptions options;
  options.resolution = resolution;
  return buildTrainingSet(frames, options);
}

}  // namespace booth
