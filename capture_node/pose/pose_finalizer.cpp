#include "capture_node/pose/pose_finalizer.h"

#include <spdlog/spdlog.h>

namespace booth {

cv::Rect2f PoseFinalizerConfig::zoneFor(const std::string& camera_id) const {
  const auto it = zones.find(camera_id);
  return it != zones.end() ? it->second : tracker.zone;
}

PoseFinalizer::PoseFinalizer(CameraSpool& spool, PoseFinalizerConfig config,
                             std::size_t first_index, cv::Size frame_size)
    : spool_(spool),
      config_(config),
      next_index_(first_index),
      frame_size_(frame_size),
      tracker_(config.tracker, frame_size),
      smoother_(config.smoother),
      finalized_(first_index) {}

Status PoseFinalizer::submit(std::size_t index, FrameEstimate estimate) {
  std::lock_guard lock(mutex_);
  if (failed_) return fail("the pose stage of camera " + spool_.cameraId() + " has stopped");
  if (index < next_index_) return okStatus();  // a repeat after a restart
  waiting_.emplace(index, std::move(estimate));
  while (!waiting_.empty() && waiting_.begin()->first == next_index_) {
    auto node = waiting_.extract(waiting_.begin());
    if (auto st = process(node.key(), std::move(node.mapped())); !st.ok()) {
      failed_ = true;
      return st;
    }
    ++next_index_;
  }
  return okStatus();
}

Status PoseFinalizer::process(std::size_t /*index*/, FrameEstimate estimate) {
  if (estimate.skipped) {
    PoseRecord record;
    record.camera_id = spool_.cameraId();
    record.sequence = estimate.sequence;
    record.capture_time_us = estimate.capture_time_us;
    record.origin = config_.origin;
    record.performer_track = last_performer_track_;
    pending_.push_back(std::move(record));
    return emit(smoother_.push(estimate.sequence, std::nullopt));
  }
  const TrackedFrame tracked = estimate.tracked ? std::move(*estimate.tracked)
                                                : tracker_.update(std::move(estimate.people));
  last_performer_track_ = tracked.performer_track;
  PoseRecord record;
  record.camera_id = spool_.cameraId();
  record.sequence = estimate.sequence;
  record.capture_time_us = estimate.capture_time_us;
  record.origin = config_.origin;
  record.error = std::move(estimate.error);
  record.performer_track = tracked.performer_track;
  std::optional<Pose> performer_raw;
  for (const TrackedPerson& p : tracked.people) {
    record.people.push_back({p.track_id, p.pose});
    if (p.track_id == tracked.performer_track) performer_raw = p.pose;
  }
  if (config_.board) {
    config_.board->post(spool_.cameraId(), estimate.sequence, frame_size_, performer_raw,
                        config_.tracker.zone);
  }
  if (config_.live) {
    config_.live->offer(LiveFrame{spool_.cameraId(), estimate.sequence, estimate.capture_time_us,
                                  std::move(estimate.image), performer_raw,
                                  config_.tracker.zone, estimate.crop});
  }
  pending_.push_back(std::move(record));
  return emit(smoother_.push(estimate.sequence, performer_raw));
}

Status PoseFinalizer::emit(const std::vector<FinalPose>& finals) {
  for (const FinalPose& f : finals) {
    if (pending_.empty() || pending_.front().sequence != f.sequence) {
      return fail("camera " + spool_.cameraId() + ": the smoother finalised frame " +
                  std::to_string(f.sequence) + " out of order");
    }
    PoseRecord record = std::move(pending_.front());
    pending_.pop_front();
    // A frame that could not be posed (undecodable) keeps "no pose": the
    // smoother may have imputed it from its neighbours, but the trainer
    // cannot use the frame's pixels either.
    record.performer = record.error.empty() ? f.pose : std::nullopt;
    if (auto st = spool_.appendPose(record); !st.ok()) return st;
    ++finalized_;
  }
  return okStatus();
}

Status PoseFinalizer::finish() {
  std::lock_guard lock(mutex_);
  if (failed_) return fail("the pose stage of camera " + spool_.cameraId() + " has stopped");
  if (!waiting_.empty()) {
    return fail("camera " + spool_.cameraId() + ": frame " + std::to_string(next_index_) +
                " was never posed");
  }
  if (auto st = emit(smoother_.flush()); !st.ok()) {
    failed_ = true;
    return st;
  }
  return okStatus();
}

std::size_t PoseFinalizer::finalized() const {
  std::lock_guard lock(mutex_);
  return finalized_;
}

}  // namespace booth
