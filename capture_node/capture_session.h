#pragma once
// One capture session on one node: acquisition from every source for N
// seconds, each source on its own camera thread that only copies frames, then
// the pose stage over every frame in order. The result stays in memory
// until the streamer has had every frame acked.
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "capture_node/pose/pose_estimator.h"
#include "capture_node/source/frame_source.h"

namespace booth {

struct CameraCapture {
  CameraDescription camera;
  std::vector<CapturedFrame> frames;
  std::vector<Pose> poses;  // one per frame, same order
  std::uint64_t dropped = 0;
};

struct SessionCapture {
  std::string session_id;
  std::vector<CameraCapture> cameras;
  double capture_seconds = 0;
  double pose_seconds = 0;
  PoseOrigin pose_origin = PoseOrigin::kGroundTruth;
  std::string pose_source;
};

// Captures `seconds` from every source (started here, stopped before
// returning) and runs `estimator` over all frames. Fails with the first
// source or pose error, naming the camera. A stop request ends acquisition
// early; what was captured is kept.
Result<SessionCapture> captureSession(const std::string& session_id, double seconds,
                                      std::span<const std::unique_ptr<FrameSource>> sources,
                                      PoseEstimator& estimator, std::stop_token stop = {});

}  // namespace booth
