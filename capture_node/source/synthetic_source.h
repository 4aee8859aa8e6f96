#pragma once
// SyntheticSource: the synthetic performer as a camera. Renders a built-in
// performer dancing a built-in choreography, paced in real time like a
// camera (or as fast as possible with realtime=false), JPEG-encodes each
// frame and attaches the renderer's exact keypoints as ground truth.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture_node/source/frame_source.h"
#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"

namespace booth {

struct SyntheticConfig {
  std::string camera_id = "cam0";
  std::string performer = "ada";
  std::string choreography = "warmup";
  int width = 640;
  int height = 480;
  double fps = 30;
  std::uint64_t seed = 0;
  int jpeg_quality = 90;
  bool realtime = true;
  // > 0: render this many frames once (at the first start) and play them in
  // a loop, so a high frame rate costs what a real camera costs (a copy)
  // instead of a render and an encode per frame. 0: render every frame.
  int loop_frames = 0;
};

class SyntheticSource : public FrameSource {
 public:
  // Fails when the performer or choreography name is unknown (the message
  // lists the built-in names) or the size/fps are out of range.
  static Result<std::unique_ptr<SyntheticSource>> create(const SyntheticConfig& config);

  const CameraDescription& description() const override { return description_; }
  Status start() override;
  Result<std::optional<CapturedFrame>> next(std::chrono::milliseconds timeout) override;
  void stop() override { started_ = false; }

 private:
  SyntheticSource(const SyntheticConfig& config, const PerformerLook& look,
                  const ChoreographySpec& spec);

  SyntheticConfig config_;
  CameraDescription description_;
  PerformerLook look_;
  Choreography choreography_;
  struct Rendered {
    std::string jpeg;
    Pose pose;
  };
  Result<Rendered> render(std::uint64_t index) const;

  std::vector<Rendered> loop_;  // loop_frames pre-rendered frames
  bool started_ = false;
  std::uint64_t sequence_ = 0;
  std::chrono::steady_clock::time_point start_time_;
};

}  // namespace booth
