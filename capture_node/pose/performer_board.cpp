#include "capture_node/pose/performer_board.h"

#include <algorithm>

#include "capture_node/pose/performer_tracker.h"

namespace booth {
namespace {

NormalisedBox clamped(float x0, float y0, float x1, float y1) {
  const auto unit = [](float v) { return std::clamp(v, 0.f, 1.f); };
  x0 = unit(x0), y0 = unit(y0), x1 = unit(x1), y1 = unit(y1);
  return {x0, y0, std::max(0.f, x1 - x0), std::max(0.f, y1 - y0)};
}

}  // namespace

std::optional<NormalisedBox> PerformerBoard::normalisedBoxOf(const Pose& pose, cv::Size frame) {
  if (frame.width <= 0 || frame.height <= 0) return std::nullopt;
  const cv::Rect2f box = PerformerTracker::boxOf(pose);
  if (box.width <= 0 && box.height <= 0) return std::nullopt;
  const float w = static_cast<float>(frame.width);
  const float h = static_cast<float>(frame.height);
  return clamped(box.x / w, box.y / h, (box.x + box.width) / w, (box.y + box.height) / h);
}

void PerformerBoard::post(const std::string& camera_id, std::uint64_t sequence, cv::Size frame,
                          const std::optional<Pose>& performer, const cv::Rect2f& zone) {
  CameraPerformer c;
  c.camera_id = camera_id;
  c.sequence = sequence;
  if (performer) {
    if (const auto box = normalisedBoxOf(*performer, frame)) {
      c.seen = true;
      c.box = *box;
    }
  }
  if (zone.width > 0 && zone.height > 0) c.zone = clamped(zone.x, zone.y, zone.br().x, zone.br().y);
  std::lock_guard lock(mutex_);
  CameraPerformer& slot = cameras_[camera_id];
  // The sequence alone changing is not news for the page.
  CameraPerformer without_sequence = slot;
  without_sequence.sequence = sequence;
  if (without_sequence == c) {
    slot.sequence = sequence;
    return;
  }
  slot = std::move(c);
  ++version_;
}

void PerformerBoard::clear() {
  std::lock_guard lock(mutex_);
  cameras_.clear();
  ++version_;
}

std::uint64_t PerformerBoard::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

std::vector<CameraPerformer> PerformerBoard::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<CameraPerformer> out;
  for (const auto& [id, c] : cameras_) out.push_back(c);
  return out;
}

}  // namespace booth
