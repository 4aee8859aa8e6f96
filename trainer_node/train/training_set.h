#pragma once
// TrainingSet: a session's (stick figure, frame) pairs at model resolution.
// Frames are cropped to one fixed square for the whole session (so the
// camera's view stays still, as in the booth), centred on the performer's
// median hip position with the floor in view, then resized; keypoints go
// through the same map and are drawn as stick figures. Kept in time order:
// the model trains on consecutive pairs. The last frames of the session
// are held out (never trained on): the trainer scores its weights on them
// and keeps the best.
#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include <opencv2/core.hpp>

#include "common/core/keypoints.h"
#include "common/core/result.h"
#include "common/pose/pose_normalization.h"
#include "trainer_node/store/stored_frame.h"
#include "trainer_node/train/pose_to_image_model.h"

namespace booth {

// Source pixels -> model pixels: model = (source - (x, y)) * scale, where
// (x, y, side) is the square crop in the source frame.
struct SessionCrop {
  int x = 0;
  int y = 0;
  int side = 0;
  float scale = 1.f;
  Pose toModel(const Pose& source) const;
  Pose toSource(const Pose& model) const;
};

// Where the visitor stands, in model pixels: enough to render a clip for
// them without the frames (a re-render after a restart).
struct SessionGeometry {
  SessionCrop crop;
  FloorStats floor;
  int face_side = 0;
  int source_width = 0, source_height = 0;
};

// From the poses and the frame size alone (no decoding). Fails like
// buildTrainingSet when no pose shows ankles and head.
Result<SessionGeometry> sessionGeometry(const std::vector<Pose>& source_poses, cv::Size source,
                                        int resolution);
// The same for a stored session: frames with a pose, the first one's size.
Result<SessionGeometry> sessionGeometry(const std::vector<StoredFrame>& frames, int resolution);

struct TrainingSetOptions {
  int resolution = 128;
  // This fraction of the frames, at the session's end, is held out; none
  // when that would be fewer than kMinHeldOutFrames.
  double held_out_fraction = 0.1;
  // Polled once per frame while decoding; true abandons the build (the
  // result is then an error saying so).
  std::function<bool()> should_stop;
};
inline constexpr std::size_t kMinHeldOutFrames = 8;

struct TrainingSet {
  int resolution = 0;
  std::vector<cv::Mat> frames;  // BGR, resolution^2
  std::vector<cv::Mat> sticks;  // BGR, resolution^2
  std::vector<Pose> poses;      // in model pixels
  // The head crop of each frame (face_box.h), all of side face_side;
  // nullopt where the head is not seen.
  std::vector<std::optional<cv::Rect>> face_boxes;
  int face_side = 0;
  FloorStats floor;  // of the visitor, in model pixels, over every frame
  int source_width = 0, source_height = 0;
  SessionCrop crop;
  // Frames [held_out_begin, size) are held out.
  std::size_t held_out_begin = 0;

  std::size_t heldOutCount() const { return frames.size() - held_out_begin; }
  // Views of the training and held-out frames (valid while this set lives).
  TrainClip trainClip() const;
  TrainClip heldOutClip() const;
};

// From a stored session. Frames without a pose are left out (the model
// learns from (pose, image) pairs only). Fails when fewer than 2 frames
// with a pose remain, when a frame does not decode or changes size, or when
// no frame has a usable pose (ankles and head), naming how many were
// usable.
Result<TrainingSet> buildTrainingSet(const std::vector<StoredFrame>& frames,
                                     const TrainingSetOptions& options);
Result<TrainingSet> buildTrainingSet(const std::vector<StoredFrame>& frames, int resolution);
// The same from decoded BGR images of one size and their poses.
Result<TrainingSet> buildTrainingSet(const std::vector<cv::Mat>& images,
                                     const std::vector<Pose>& poses,
                                     const TrainingSetOptions& options);

}  // namespace booth
