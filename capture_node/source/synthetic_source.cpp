#include "capture_node/source/synthetic_source.h"

#include <thread>
#include <vector>

#include <opencv2/imgcodecs.hpp>

namespace booth {
namespace {

std::string performerNames() {
  std::string names;
  for (const auto& p : builtinPerformers()) names += (names.empty() ? "" : ", ") + p.name;
  return names;
}

std::string choreographyNames() {
  std::string names;
  for (const auto& c : builtinChoreographies()) names += (names.empty() ? "" : ", ") + c.name;
  return names;
}

}  // namespace

Result<std::unique_ptr<SyntheticSource>> SyntheticSource::create(const SyntheticConfig& config) {
  const PerformerLook* look = findPerformer(config.performer);
  if (look == nullptr) {
    return fail("unknown synthetic performer '" + config.performer +
                "'; built-in performers: " + performerNames());
  }
  const ChoreographySpec* spec = findChoreography(config.choreography);
  if (spec == nullptr) {
    return fail("unknown choreography '" + config.choreography +
                "'; built-in choreographies: " + choreographyNames());
  }
  if (config.width < 64 || config.height < 64 || config.width > 4096 || config.height > 4096) {
    return fail("synthetic frame size " + std::to_string(config.width) + "x" +
                std::to_string(config.height) + " is out of range (64..4096 each)");
  }
  if (!(config.fps > 0 && config.fps <= 240)) {
    return fail("synthetic fps " + std::to_string(config.fps) +
                " is out of range (0 < fps <= 240)");
  }
  if (config.loop_frames < 0 || config.loop_frames > 100000) {
    return fail("synthetic loop of " + std::to_string(config.loop_frames) +
                " frames is out of range (0..100000)");
  }
  if (config.jpeg_quality < 1 || config.jpeg_quality > 100) {
    return fail("jpeg quality " + std::to_string(config.jpeg_quality) +
                " is out of range (1..100)");
  }
  // The built-in bodies are sized for 480-pixel-high frames; scale with the frame.
  PerformerLook scaled = *look;
  scaled.body.height_px *= static_cast<float>(config.height) / 480.f;
  return std::unique_ptr<SyntheticSource>(new SyntheticSource(config, scaled, *spec));
}

SyntheticSource::SyntheticSource(const SyntheticConfig& config, const PerformerLook& look,
                                 const ChoreographySpec& spec)
    : config_(config),
      description_{config.camera_id, "synthetic", config.width, config.height, config.fps},
      look_(look),
      choreography_(spec, look.body, Stage{cv::Size(config.width, config.height)}, config.seed) {}

Result<SyntheticSource::Rendered> SyntheticSource::render(std::uint64_t index) const {
  const double t = static_cast<double>(index) / config_.fps;
  Rendered out;
  out.pose = choreography_.poseAt(t);
  const cv::Mat image = renderPerformer(look_, out.pose, cv::Size(config_.width, config_.height));
  std::vector<uchar> jpeg;
  if (!cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, config_.jpeg_quality})) {
    return fail("synthetic source " + config_.camera_id + ": JPEG encoding failed");
  }
  out.jpeg.assign(jpeg.begin(), jpeg.end());
  return out;
}

Status SyntheticSource::start() {
  if (config_.loop_frames > 0 && loop_.empty()) {
    for (int i = 0; i < config_.loop_frames; ++i) {
      auto r = render(static_cast<std::uint64_t>(i));
      if (!r.ok()) return fail(r.error());
      loop_.push_back(std::move(r.value()));
    }
  }
  started_ = true;
  sequence_ = 0;
  start_time_ = std::chrono::steady_clock::now();
  return okStatus();
}

Result<std::optional<CapturedFrame>> SyntheticSource::next(std::chrono::milliseconds timeout) {
  if (!started_) return fail("synthetic source " + config_.camera_id + " is not started");
  const double t = static_cast<double>(sequence_) / config_.fps;
  if (config_.realtime) {
    const auto due = start_time_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                       std::chrono::duration<double>(t));
    const auto now = std::chrono::steady_clock::now();
    if (due > now + timeout) {
      std::this_thread::sleep_for(timeout);
      return std::optional<CapturedFrame>{};
    }
    std::this_thread::sleep_until(due);
  }
  CapturedFrame frame;
  frame.camera_id = config_.camera_id;
  const std::uint64_t index = sequence_++;
  frame.sequence = index;
  frame.capture_time_us = steadyMicros();
  frame.encoding = FrameEncoding::kJpeg;
  frame.width = config_.width;
  frame.height = config_.height;
  if (!loop_.empty()) {
    const Rendered& r = loop_[index % loop_.size()];
    frame.data = r.jpeg;
    frame.ground_truth = r.pose;
  } else {
    auto r = render(index);
    if (!r.ok()) return fail(r.error());
    frame.data = std::move(r->jpeg);
    frame.ground_truth = r->pose;
  }
  return std::optional<CapturedFrame>(std::move(frame));
}

}  // namespace booth
