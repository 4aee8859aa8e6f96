#include "capture_node/node_setup.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "capture_node/pose/ground_truth_pose.h"
#include "capture_node/pose/openpose_estimator.h"
#include "capture_node/source/synthetic_source.h"
#include "capture_node/source/video_file_source.h"
#include "capture_node/v4l2/v4l2_camera.h"

namespace booth {

Result<NodeParts> buildNodeParts(const CaptureOptions& options) {
  NodeParts parts;
  bool all_synthetic = true;
  for (CameraSpec spec : options.cameras) {
    if (spec.kind == CameraSpec::Kind::kAuto) {
      const bool have_camera = std::filesystem::exists("/dev/video0");
      if (have_camera && !options.pose_model.empty()) {
        spec.kind = CameraSpec::Kind::kV4l2;
        spec.path = "/dev/video0";
        spdlog::info("camera auto: using /dev/video0");
      } else {
        spec.kind = CameraSpec::Kind::kSynthetic;
        spdlog::warn("camera auto: {}; using the synthetic performer as camera {}",
                     have_camera ? "/dev/video0 found but no --pose-model for real frames"
                                 : "no camera at /dev/video0",
                     spec.camera_id);
      }
    }
    std::unique_ptr<FrameSource> source;
    switch (spec.kind) {
      case CameraSpec::Kind::kSynthetic: {
        SyntheticConfig config;
        config.camera_id = spec.camera_id;
        config.performer = spec.performer;
        config.choreography = spec.choreography;
        config.seed = spec.seed;
        config.width = options.width;
        config.height = options.height;
        config.fps = options.fps;
        config.loop_frames = options.synthetic_loop_frames;
        auto created = SyntheticSource::create(config);
        if (!created.ok()) return fail(created.error());
        source = std::move(created.value());
        break;
      }
      case CameraSpec::Kind::kVideo:
        all_synthetic = false;
        source = std::make_unique<VideoFileSource>(
            VideoFileConfig{spec.camera_id, spec.path, true, true});
        break;
      case CameraSpec::Kind::kV4l2: {
        all_synthetic = false;
        V4l2Config config;
        config.camera_id = spec.camera_id;
        config.device = spec.path;
        config.width = options.width;
        config.height = options.height;
        config.fps = options.fps;
        source = std::make_unique<V4l2Camera>(config);
        break;
      }
      case CameraSpec::Kind::kAuto:
        break;
    }
    // Probe now: a missing device or file is a start-up error.
    if (auto st = source->start(); !st.ok()) return fail(st.error());
    source->stop();
    const auto& d = source->description();
    spdlog::info("camera {}: {} {}x{} @ {:.1f} fps", d.camera_id, d.kind, d.width, d.height, d.fps);
    parts.sources.push_back(std::move(source));
  }

  const bool use_network = options.pose == "network" || (options.pose == "auto" && !all_synthetic);
  if (use_network) {
    if (options.pose_model.empty()) {
      return fail(
          "real cameras and video files need a pose network: set --pose-model to a pose model "
          "manifest (e.g. capture_node/pose/models/tfpose_mobilenet_v2_small.json)");
    }
    // One estimator per pose worker; OpenCV's thread count is process-wide
    // and set once for all of them (see capture_node/README.md).
    const int cv_threads = OpenPoseEstimator::configureOpenCvThreads(options.pose_workers);
    OpenPoseConfig pose_config;
    pose_config.model_path = options.pose_model;
    pose_config.input_width = options.pose_input_width;
    pose_config.input_height = options.pose_input_height;
    if (pose_config.input_width == 0) {
      // auto: the manifest's pixel count at the first camera's aspect ratio.
      auto manifest = ModelManifest::load(options.pose_model);
      if (!manifest.ok()) return fail(manifest.error());
      const CameraDescription& first = parts.sources.front()->description();
      const cv::Size input = OpenPoseEstimator::inputSizeFor(
          {first.width, first.height}, {manifest->default_width, manifest->default_height},
          manifest->size_multiple);
      pose_config.input_width = input.width;
      pose_config.input_height = input.height;
    }
    for (int i = 0; i < options.pose_workers; ++i) {
      auto estimator = OpenPoseEstimator::create(pose_config);
      if (!estimator.ok()) return fail(estimator.error());
      parts.estimators.push_back(std::move(estimator.value()));
    }
    if (options.pose_mode == "top-down") {
      const std::string crop_model = options.pose_crop_model == "auto"
                                         ? defaultCropModel(options.pose_model)
                                         : options.pose_crop_model;
      for (int i = 0; i < options.pose_workers; ++i) {
        auto crop = MoveNetEstimator::create({crop_model});
        if (!crop.ok()) {
          return fail(crop.error() + " (--pose-crop-model; --pose-mode single runs the finder alone)");
        }
        parts.crop.push_back(std::move(crop.value()));
      }
    }
    spdlog::info("pose: OpenCV uses {} thread(s) per call for {} worker(s)", cv_threads,
                 options.pose_workers);
  } else {
    if (!all_synthetic) {
      return fail("--pose ground-truth works only with synthetic cameras; use --pose network");
    }
    for (int i = 0; i < options.pose_workers; ++i) {
      parts.estimators.push_back(std::make_unique<GroundTruthPose>());
    }
  }
  spdlog::info("pose stage: {} worker(s), {}", parts.estimators.size(),
               parts.crop.empty() ? parts.estimators.front()->describe()
                                  : "top-down: finder " + parts.estimators.front()->describe() +
                                        ", crop " + parts.crop.front()->describe());
  return parts;
}

}  // namespace booth
