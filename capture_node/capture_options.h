#pragma once
// Command line and config file of capture_node, parsed once into typed
// structs (Boost.Program_options). Every bad value comes back as one Error
// line naming the option and the fix.
#include <optional>
#include <string>
#include <vector>

#include "capture_node/capture_node.h"
#include "common/core/result.h"

namespace booth {

struct CameraSpec {
  enum class Kind { kAuto, kSynthetic, kVideo, kV4l2 };
  Kind kind = Kind::kAuto;
  std::string camera_id;  // "cam0", "cam1", ... by position
  std::string path;       // video file or device node
  std::string performer = "ada";
  std::string choreography = "warmup";
  std::uint64_t seed = 0;
};

struct CaptureOptions {
  bool help = false;
  std::string help_text;
  CaptureNodeConfig node;
  std::vector<CameraSpec> cameras;
  int width = 640;
  int height = 480;
  double fps = 30;
  std::string pose = "auto";  // auto | ground-truth | network
  std::string pose_model;     // OpenPose-style .pb for the network
  int pose_workers = 2;       // pose worker threads, one estimator each
  int synthetic_loop_frames = 0;  // synthetic cameras: pre-render this many frames and loop them
  std::string log_level = "info";
};

// Camera spec syntax (repeatable --camera):
//   auto                       /dev/video0 when present, else the synthetic performer
//   synthetic[:performer[:choreography[:seed]]]
//   video:PATH                 a video file, looped, paced at its frame rate
//   v4l2:DEVICE                a V4L2 camera, e.g. v4l2:/dev/video0
Result<CameraSpec> parseCameraSpec(const std::string& text, int index);

Result<CaptureOptions> parseCaptureOptions(int argc, const char* const* argv);

}  // namespace booth
