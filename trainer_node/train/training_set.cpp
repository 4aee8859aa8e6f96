#include "trainer_node/train/training_set.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "common/image/frame_image.h"
#include "common/pose/stick_figure.h"

namespace booth {

Result<TrainingSet> buildTrainingSet(const std::vector<StoredFrame>& frames, int resolution) {
  TrainingSet set;
  set.resolution = resolution;
  std::vector<Pose> source_poses;
  std::vector<cv::Mat> images;
  for (const StoredFrame& f : frames) {
    if (!f.pose) continue;
    const cv::Mat image = decodeFrameImage(f.encoding, f.width, f.height, f.data);
    if (image.empty()) {
      return fail("frame " + std::to_string(f.sequence) + " could not be decoded");
    }
    images.push_back(image);
    source_poses.push_back(*f.pose);
  }
  if (images.size() < 2) {
    return fail("need at least 2 frames with a pose to train, the session has " +
                std::to_string(images.size()) + " of " + std::to_string(frames.size()));
  }
  const int w = images.front().cols, h = images.front().rows;
  set.source_width = w;
  set.source_height = h;

  // One square crop for the whole session, centred on the median hip x.
  std::vector<float> hip_x;
  for (const Pose& p : source_poses) {
    const auto& l = p[Coco17::kLeftHip];
    const auto& r = p[Coco17::kRightHip];
    if (l.valid() && r.valid()) hip_x.push_back((l.x + r.x) / 2);
  }
  const int side = std::min(w, h);
  float cx = w / 2.f;
  if (!hip_x.empty()) {
    std::nth_element(hip_x.begin(), hip_x.begin() + hip_x.size() / 2, hip_x.end());
    cx = hip_x[hip_x.size() / 2];
  }
  const int x0 = std::clamp(static_cast<int>(cx - side / 2.f), 0, w - side);
  const int y0 = h - side;  // keep the floor in view
  const float scale = static_cast<float>(resolution) / side;

  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].cols != w || images[i].rows != h) {
      return fail("frame size changed within the session: " + std::to_string(images[i].cols) + "x" +
                  std::to_string(images[i].rows) + " after " + std::to_string(w) + "x" +
                  std::to_string(h));
    }
    cv::Mat crop;
    cv::resize(images[i](cv::Rect(x0, y0, side, side)), crop, cv::Size(resolution, resolution), 0,
               0, cv::INTER_AREA);
    const Pose pose = transformPose(source_poses[i], scale, -x0 * scale, -y0 * scale);
    set.frames.push_back(std::move(crop));
    set.sticks.push_back(renderStickFigure(pose, cv::Size(resolution, resolution)));
    set.poses.push_back(pose);
  }
  auto floor = computeFloorStats(set.poses);
  if (!floor) {
    return fail("no frame of the session shows the ankles and head of the visitor (" +
                std::to_string(set.poses.size()) +
                " frames); the whole body must be in view to learn the visitor");
  }
  set.floor = *floor;
  return set;
}

}  // namespace booth
