#include "capture_node/pose/choreography_importer.h"

#include <optional>
#include <utility>

#include <opencv2/videoio.hpp>
#include <spdlog/spdlog.h>

#include "capture_node/pose/performer_tracker.h"
#include "common/pose/fixed_lag_smoother.h"

namespace booth {

ChoreographyImporter::ChoreographyImporter(ImportConfig config) : config_(std::move(config)) {}

Result<ChoreographyFile> ChoreographyImporter::run(
    const std::function<void(std::size_t, std::size_t)>& progress, const FrameObserver& on_frame) {
  summary_ = {};
  const std::string video = config_.video.string();
  if (!ChoreographyFile::isValidName(config_.name)) {
    return fail("choreography name '" + config_.name +
                "' must be 1..64 characters of A-Z, a-z, 0-9, '_' and '-'");
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(config_.video, ec)) {
    return fail("video " + video + " does not exist");
  }
  cv::VideoCapture capture;
  cv::Mat first;
  try {
    if (!capture.open(video) || !capture.read(first) || first.empty()) {
      return fail("video " + video + " has no decodable frames");
    }
  } catch (const cv::Exception& e) {
    return fail("cannot decode video " + video + ": " + e.what());
  }
  const double container_fps = capture.get(cv::CAP_PROP_FPS);
  const double fps = container_fps > 0 && container_fps <= 240 ? container_fps : 30.0;
  const auto total = static_cast<std::size_t>(std::max(0.0, capture.get(cv::CAP_PROP_FRAME_COUNT)));

  // The network at the video's aspect ratio (unless the caller fixed it).
  OpenPoseConfig pose = config_.pose;
  if (pose.input_width == 0 && pose.input_height == 0) {
    auto probe = ModelManifest::load(pose.model_path);
    if (!probe) return fail(probe.error());
    const cv::Size input = OpenPoseEstimator::inputSizeFor(
        first.size(), {probe->default_width, probe->default_height}, probe->size_multiple);
    pose.input_width = input.width;
    pose.input_height = input.height;
  }
  auto estimator = OpenPoseEstimator::create(pose);
  if (!estimator) return fail(estimator.error());
  summary_.input = (*estimator)->inputSize();
  std::unique_ptr<MoveNetEstimator> crop;
  if (!config_.crop_model.empty()) {
    auto created = MoveNetEstimator::create({config_.crop_model});
    if (!created) return fail(created.error());
    crop = std::move(created.value());
  }

  ChoreographyFile file;
  file.name = config_.name;
  file.source = config_.video.filename().string();
  file.fps = fps;
  file.width = first.cols;
  file.height = first.rows;
  TrackerConfig tracker_config = TrackerConfig::forFrameRate(fps);
  tracker_config.zone = config_.zone;
  PerformerTracker tracker(tracker_config, first.size());
  TopDownPose top_down(config_.top_down, tracker_config, first.size(), fps);
  FixedLagSmoother smoother(SmootherConfig::forFrameRate(fps));
  const auto keep = [&](const std::vector<FinalPose>& finals) {
    for (const FinalPose& f : finals) {
      file.frames[f.sequence] = f.pose.value_or(Pose{});
      if (f.pose) ++summary_.frames_with_dancer;
    }
  };

  cv::Mat image = first;
  for (std::size_t index = 0; index < config_.max_frames && !image.empty(); ++index) {
    CapturedFrame info;
    info.camera_id = file.source;
    info.sequence = index;
    info.width = image.cols;
    info.height = image.rows;
    file.frames.emplace_back();
    if (on_frame) on_frame(index, image);
    std::optional<Pose> performer;
    Result<TrackedFrame> tracked = fail("no pose");
    if (crop) {
      tracked = top_down.update(info, image, **estimator, *crop);
    } else if (auto people = (*estimator)->estimate(info, image); people.ok()) {
      tracked = tracker.update(std::move(people.value()));
    } else {
      tracked = fail(people.error());
    }
    if (tracked.ok()) {
      if (const TrackedPerson* p = tracked->performer()) performer = p->pose;
    } else {
      ++summary_.frames_failed;
      spdlog::warn("import {}: frame {} has no pose ({})", video, index, tracked.error());
      if (crop) {
        (void)top_down.noPose();
      } else {
        (void)tracker.update({});
      }
    }
    keep(smoother.push(index, std::move(performer)));
    ++summary_.frames;
    if (progress) progress(summary_.frames, total);
    try {
      if (!capture.read(image)) image.release();
    } catch (const cv::Exception& e) {
      spdlog::warn("import {}: decoding stopped after frame {} ({})", video, index, e.what());
      image.release();
    }
  }
  keep(smoother.flush());
  if (summary_.frames_with_dancer == 0) {
    return fail("no dancer found in any of the " + std::to_string(summary_.frames) +
                " frames of " + video);
  }
  return file;
}

}  // namespace booth
