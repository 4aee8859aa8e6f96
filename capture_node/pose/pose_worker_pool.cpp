#include "capture_node/pose/pose_worker_pool.h"

#include <algorithm>
#include <sstream>

#include <spdlog/spdlog.h>

#include "common/image/frame_image.h"

namespace booth {

PoseWorkerPool::PoseWorkerPool(std::vector<std::unique_ptr<PoseEstimator>> estimators,
                               PoseFinalizerConfig finalizer, const Clock& clock,
                               std::vector<std::unique_ptr<MoveNetEstimator>> crop,
                               TopDownConfig top_down)
    : estimators_(std::move(estimators)),
      crop_(std::move(crop)),
      top_down_(top_down),
      finalizer_config_(finalizer),
      clock_(clock) {
  if (!crop_.empty() && crop_.size() != estimators_.size()) {
    spdlog::error("pose stage: {} crop networks for {} workers; top-down pose is off",
                  crop_.size(), estimators_.size());
    crop_.clear();
  }
  origin_ = estimators_.empty() ? PoseOrigin::kNetwork : estimators_.front()->origin();
  description_ = estimators_.empty() ? "none" : estimators_.front()->describe();
  if (!crop_.empty()) {
    std::ostringstream hz;
    hz << top_down_.finder_hz;
    description_ = "top-down: finder " + description_ + " at " + hz.str() + " Hz, crop " +
                   crop_.front()->describe();
  }
  finalizer_config_.origin = origin_;
  for (std::size_t w = 0; w < estimators_.size(); ++w) {
    const Networks networks{estimators_[w].get(), crop_.empty() ? nullptr : crop_[w].get()};
    threads_.emplace_back([this, networks](std::stop_token st) { run(st, networks); });
  }
}

PoseWorkerPool::~PoseWorkerPool() {
  for (auto& t : threads_) t.request_stop();
  work_.notify_all();
  threads_.clear();  // joins
}

void PoseWorkerPool::addSession(SessionSpool& spool, CompletionHandler on_complete) {
  auto work = std::make_unique<SessionWork>();
  work->spool = &spool;
  work->on_complete = std::move(on_complete);
  for (std::size_t c = 0; c < spool.cameraCount(); ++c) {
    CameraSpool& cam = spool.camera(c);
    const auto& d = spool.meta().cameras[c];
    CameraWork cw;
    cw.spool = &cam;
    // The network is sampled; ground truth costs nothing and is kept whole.
    if (origin_ == PoseOrigin::kNetwork) {
      cw.sampler = PoseSampler(d.fps, finalizer_config_.max_pose_fps);
    }
    cw.next_dispatch = cam.poseCount();  // after a restart: where posing stopped
    // Smoothing windows and track lifetimes are set in time, so they follow
    // each camera's frame rate (unless the config asks for its own).
    PoseFinalizerConfig config = finalizer_config_;
    if (config.smoother_for_camera_fps && d.fps > 0) {
      config.smoother = SmootherConfig::forFrameRate(d.fps);
      // The tracker sees only the frames the network runs on (sampled-out
      // frames skip it), so its lifetimes count in those.
      config.tracker = TrackerConfig::forFrameRate(d.fps / std::max(1, cw.sampler.every()));
    }
    config.tracker.zone = finalizer_config_.zoneFor(cam.cameraId());
    if (!crop_.empty() && origin_ == PoseOrigin::kNetwork) {
      cw.top_down = std::make_unique<TopDownPose>(top_down_, config.tracker,
                                                  cv::Size(d.width, d.height),
                                                  d.fps / std::max(1, cw.sampler.every()));
    }
    // Sampled-out frames are gaps the smoother must be allowed to fill.
    config.smoother.max_gap = std::max(config.smoother.max_gap, cw.sampler.every() - 1);
    cw.finalizer = std::make_unique<PoseFinalizer>(cam, config, cw.next_dispatch,
                                                   cv::Size(d.width, d.height));
    work->cameras.push_back(std::move(cw));
  }
  {
    std::lock_guard lock(mutex_);
    sessions_.push_back(std::move(work));
  }
  work_.notify_all();
}

void PoseWorkerPool::captureComplete(const std::string& session_id) {
  {
    std::lock_guard lock(mutex_);
    for (auto& s : sessions_) {
      if (s->spool->id() != session_id || s->capture_complete) continue;
      s->capture_complete = true;
      s->capture_done_at = clock_.steady();
      maybeComplete(*s);
    }
  }
  work_.notify_all();
}

void PoseWorkerPool::removeSession(const std::string& session_id) {
  std::unique_lock lock(mutex_);
  auto it = std::find_if(sessions_.begin(), sessions_.end(),
                         [&](const auto& s) { return s->spool->id() == session_id; });
  if (it == sessions_.end()) return;
  SessionWork* s = it->get();
  // Workers hold raw pointers while a task runs: wait for them.
  for (auto& c : s->cameras) c.failed = true;  // no new tasks
  idle_.wait(lock, [&] {
    return std::all_of(s->cameras.begin(), s->cameras.end(),
                       [](const CameraWork& c) { return c.in_progress == 0; });
  });
  sessions_.erase(it);
}

void PoseWorkerPool::notify() { work_.notify_all(); }

PoseStageStats PoseWorkerPool::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool PoseWorkerPool::nextTask(Task& task) {
  // Round-robin over every (session, camera) with a spooled frame not yet
  // handed out, so no camera starves another.
  std::vector<std::pair<SessionWork*, std::size_t>> slots;
  for (auto& s : sessions_) {
    for (std::size_t c = 0; c < s->cameras.size(); ++c) slots.emplace_back(s.get(), c);
  }
  for (std::size_t k = 0; k < slots.size(); ++k) {
    auto [s, c] = slots[(rr_ + k) % slots.size()];
    CameraWork& cw = s->cameras[c];
    if (cw.failed || cw.next_dispatch >= cw.spool->frameCount()) continue;
    if (cw.top_down && cw.in_progress > 0) continue;  // top-down: one frame at a time, in order
    task = {s, c, cw.next_dispatch++};
    ++cw.in_progress;
    rr_ = (rr_ + k + 1) % slots.size();
    return true;
  }
  return false;
}

void PoseWorkerPool::maybeComplete(SessionWork& s) {
  if (s.completed || !s.capture_complete) return;
  for (const CameraWork& c : s.cameras) {
    if (c.in_progress > 0) return;
    if (!c.failed && c.next_dispatch < c.spool->frameCount()) return;
  }
  s.completed = true;
  Status result = okStatus();
  for (CameraWork& c : s.cameras) {
    if (c.failed) {
      result = fail("the pose stage of camera " + c.spool->cameraId() + " stopped early");
      continue;
    }
    if (auto st = c.finalizer->finish(); !st.ok()) result = st;
  }
  const double seconds = secondsBetween(s.capture_done_at, clock_.steady());
  if (result.ok()) {
    if (auto st = s.spool->notePoseComplete(seconds); !st.ok()) result = st;
  }
  if (s.on_complete) s.on_complete(s.spool->id(), result);
}

FrameEstimate PoseWorkerPool::failedFrame(const CameraWork& camera, std::size_t index,
                                         const std::string& why) {
  FrameEstimate out;
  if (const auto entry = camera.spool->frameEntry(index)) {
    out.sequence = entry->sequence;
    out.capture_time_us = entry->capture_time_us;
  }
  out.error = "camera " + camera.spool->cameraId() + " frame " + std::to_string(out.sequence) +
              ": " + why;
  if (camera.top_down) out.tracked = camera.top_down->noPose();
  return out;
}

FrameEstimate PoseWorkerPool::estimate(Networks networks, const CameraWork& camera,
                                       std::size_t index) {
  CameraSpool& spool = *camera.spool;
  FrameEstimate out;
  if (const auto entry = spool.frameEntry(index); entry && !camera.sampler.shouldPose(entry->sequence)) {
    out.sequence = entry->sequence;
    out.capture_time_us = entry->capture_time_us;
    out.skipped = true;
    return out;
  }
  auto frame = spool.readFrame(index);
  if (!frame.ok()) return failedFrame(camera, index, frame.error());
  out.sequence = frame->sequence;
  out.capture_time_us = frame->capture_time_us;
  cv::Mat image;
  if (networks.estimator->origin() == PoseOrigin::kNetwork) {
    auto decoded = decodeFrameImageOrError(frame->encoding, frame->width, frame->height, frame->data);
    if (!decoded) return failedFrame(camera, index, "the image does not decode: " + decoded.error());
    image = std::move(decoded.value());
  }
  if (camera.top_down && networks.crop != nullptr) {
    auto tracked = camera.top_down->update(*frame, image, *networks.estimator, *networks.crop);
    if (!tracked) return failedFrame(camera, index, tracked.error());
    out.tracked = std::move(tracked.value());
    out.crop = camera.top_down->lastFrame().crop;
  } else {
    auto people = networks.estimator->estimate(*frame, image);
    if (!people.ok()) return failedFrame(camera, index, people.error());
    out.people = std::move(people.value());
  }
  out.image = std::move(image);
  return out;
}

void PoseWorkerPool::run(std::stop_token stop, Networks networks) {
  while (!stop.stop_requested()) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      if (!work_.wait_for(lock, stop, std::chrono::milliseconds(200),
                          [&] { return nextTask(task); })) {
        continue;
      }
    }
    CameraWork& cw = task.session->cameras[task.camera];
    const auto t0 = clock_.steady();
    // Last resort: whatever a decoder or a network throws fails this frame
    // (a record with the error), never the worker or the node.
    FrameEstimate result;
    try {
      result = estimate(networks, cw, task.index);
    } catch (const std::exception& e) {
      result = failedFrame(cw, task.index, std::string("pose failed unexpectedly: ") + e.what());
    } catch (...) {
      result = failedFrame(cw, task.index, "pose failed unexpectedly (unknown exception)");
    }
    const bool failed_frame = !result.error.empty();
    const bool skipped = result.skipped;
    const bool finder_ran = cw.top_down && cw.top_down->lastFrame().finder_ran;
    if (failed_frame) spdlog::warn("pose: {}", result.error);
    Status submitted = okStatus();
    try {
      submitted = cw.finalizer->submit(task.index, std::move(result));
    } catch (const std::exception& e) {
      submitted = fail(std::string("camera ") + cw.spool->cameraId() + ": " + e.what());
    }
    {
      std::lock_guard lock(mutex_);
      --cw.in_progress;
      const double busy = secondsBetween(t0, clock_.steady());
      stats_.busy_seconds += busy;
      if (finder_ran) {
        ++stats_.finder_runs;
        stats_.finder_seconds += busy;
      }
      if (skipped) {
        ++stats_.frames_skipped;
      } else {
        ++(failed_frame ? stats_.frames_failed : stats_.frames_posed);
      }
      if (!submitted.ok()) {
        spdlog::error("pose stage: {}", submitted.error());
        cw.failed = true;
      }
      try {
        maybeComplete(*task.session);
      } catch (const std::exception& e) {
        spdlog::error("pose stage: completing session {}: {}", task.session->spool->id(), e.what());
      }
    }
    idle_.notify_all();
  }
}

}  // namespace booth
