#include "capture_node/capture_session.h"

#include <chrono>
#include <thread>

#include <spdlog/spdlog.h>

#include "capture_node/pose/performer_tracker.h"
#include "common/pose/fixed_lag_smoother.h"

namespace booth {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Camera thread body: copies frames until the deadline. Never decodes.
void acquire(FrameSource& source, Clock::time_point deadline, std::stop_token stop,
             CameraCapture& out, std::string& error) {
  while (!stop.stop_requested() && Clock::now() < deadline) {
    auto next = source.next(std::chrono::milliseconds(100));
    if (!next.ok()) {
      error = next.error();
      return;
    }
    if (!next.value()) continue;
    // A source that paces itself may hand over a frame due at the deadline:
    // it belongs to the next second, not this session.
    if (Clock::now() >= deadline) break;
    CapturedFrame& frame = *next.value();
    if (!out.frames.empty() && frame.sequence > out.frames.back().sequence + 1) {
      out.dropped += frame.sequence - out.frames.back().sequence - 1;
    }
    out.frames.push_back(std::move(frame));
  }
}

}  // namespace

Result<SessionCapture> captureSession(const std::string& session_id, double seconds,
                                      std::span<const std::unique_ptr<FrameSource>> sources,
                                      PoseEstimator& estimator, std::stop_token stop) {
  if (sources.empty()) return fail("no camera sources configured");
  SessionCapture result;
  result.session_id = session_id;
  result.pose_origin = estimator.origin();
  result.pose_source = estimator.describe();
  result.cameras.resize(sources.size());
  std::vector<std::string> errors(sources.size());

  for (size_t i = 0; i < sources.size(); ++i) {
    if (auto started = sources[i]->start(); !started.ok()) {
      for (size_t j = 0; j < i; ++j) sources[j]->stop();
      return fail("camera " + sources[i]->description().camera_id + ": " + started.error());
    }
    result.cameras[i].camera = sources[i]->description();
  }

  const auto t0 = Clock::now();
  const auto deadline =
      t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  {
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < sources.size(); ++i) {
      threads.emplace_back(
          [&, i] { acquire(*sources[i], deadline, stop, result.cameras[i], errors[i]); });
    }
  }  // joins every camera thread
  for (const auto& source : sources) source->stop();
  result.capture_seconds = secondsSince(t0);
  for (size_t i = 0; i < sources.size(); ++i) {
    if (!errors[i].empty())
      return fail("camera " + result.cameras[i].camera.camera_id + ": " + errors[i]);
    spdlog::info("session {}: camera {} captured {} frames in {:.1f} s ({} dropped)", session_id,
                 result.cameras[i].camera.camera_id, result.cameras[i].frames.size(),
                 result.capture_seconds, result.cameras[i].dropped);
  }

  const auto p0 = Clock::now();
  const bool needs_pixels = estimator.origin() == PoseOrigin::kNetwork;
  for (CameraCapture& cam : result.cameras) {
    cam.poses.reserve(cam.frames.size());
    // Network poses: the performer tracked per camera, then the fixed-lag
    // smoother; a frame that cannot be decoded or posed has no pose and the
    // session goes on. Ground truth is passed through as it is.
    PerformerTracker tracker(TrackerConfig{}, cv::Size(cam.camera.width, cam.camera.height));
    FixedLagSmoother smoother(SmootherConfig::forFrameRate(cam.camera.fps));
    const auto keep = [&](const std::vector<FinalPose>& finals) {
      for (const FinalPose& f : finals) cam.poses.push_back(f.pose.value_or(Pose{}));
    };
    for (std::size_t i = 0; i < cam.frames.size(); ++i) {
      const CapturedFrame& frame = cam.frames[i];
      cv::Mat image;
      if (needs_pixels) {
        image = decodeFrameImage(frame.encoding, frame.width, frame.height, frame.data);
      }
      auto people = needs_pixels && image.empty()
                        ? Result<std::vector<PersonDetection>>(fail("could not decode the image"))
                        : estimator.estimate(frame, image);
      if (!needs_pixels) {
        if (!people.ok()) return fail(people.error());
        cam.poses.push_back(people->empty() ? Pose{} : people->front().pose);
        continue;
      }
      std::optional<Pose> performer;
      if (people.ok()) {
        const TrackedFrame tracked = tracker.update(std::move(people.value()));
        if (const TrackedPerson* p = tracked.performer()) performer = p->pose;
      } else {
        spdlog::warn("camera {} frame {}: no pose ({})", cam.camera.camera_id, frame.sequence,
                     people.error());
        tracker.update({});
      }
      keep(smoother.push(i, std::move(performer)));  // index, not sequence: one pose per frame
    }
    if (needs_pixels) keep(smoother.flush());
  }
  result.pose_seconds = secondsSince(p0);
  spdlog::info("session {}: pose stage ({}) done in {:.1f} s", session_id, result.pose_source,
               result.pose_seconds);
  return result;
}

}  // namespace booth
