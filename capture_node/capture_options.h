#pragma once
// Command line and config file of capture_node, parsed once into typed
// structs (Boost.Program_options). Every bad value comes back as one Error
// line naming the option and the fix.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capture_node/capture_node.h"
#include "capture_node/pose/model_manifest.h"  // defaultCropModel
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
  bool list_cameras = false;  // --list-cameras: print the V4L2 devices and exit
  CaptureNodeConfig node;
  std::vector<CameraSpec> cameras;
  int width = 640;
  int height = 480;
  double fps = 30;
  std::string pose = "auto";  // auto | ground-truth | network
  std::string pose_model;     // pose model manifest (JSON): the multi-person network (the finder)
  std::string pose_mode = "top-down";  // top-down (finder + crop network) | single (the finder alone)
  std::string pose_crop_model = "auto";  // the crop network's manifest; auto: beside --pose-model
  int pose_workers = 2;       // pose worker threads, one estimator each
  int pose_input_width = 0;   // network input; 0x0: the manifest's pixel count at the camera's aspect
  int pose_input_height = 0;
  int synthetic_loop_frames = 0;  // synthetic cameras: pre-render this many frames and loop them
  std::string log_level = "info";
};

// Camera spec syntax (repeatable --camera):
//   auto                       /dev/video0 when present, else the synthetic performer
//   synthetic[:performer[:choreography[:seed]]]
//   video:PATH                 a video file, looped, paced at its frame rate
//   v4l2:DEVICE                a V4L2 camera, e.g. v4l2:/dev/video0
Result<CameraSpec> parseCameraSpec(const std::string& text, int index);

// A performance zone, --performance-zone [CAMERA=]X,Y,W,H: a rectangle
// normalised to the frame (0..1, inside it, width and height > 0); no
// CAMERA: every camera's default. Returns (camera id or "", rectangle).
Result<std::pair<std::string, cv::Rect2f>> parsePerformanceZone(const std::string& text);

Result<CaptureOptions> parseCaptureOptions(int argc, const char* const* argv);

}  // namespace booth
