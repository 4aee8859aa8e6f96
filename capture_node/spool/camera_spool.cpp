#include "capture_node/spool/camera_spool.h"

#include <algorithm>

#include "common/storage/pose_record_codec.h"

namespace booth {
namespace fs = std::filesystem;
namespace {

// acks.log records: one kind byte then the sequence, 8 bytes little-endian.
std::string ackRecord(SpoolRecordKind kind, std::uint64_t sequence) {
  std::string r(9, '\0');
  r[0] = kind == SpoolRecordKind::kFrame ? 'F' : 'P';
  for (int i = 0; i < 8; ++i) r[1 + i] = static_cast<char>((sequence >> (8 * i)) & 0xff);
  return r;
}

}  // namespace

Result<std::unique_ptr<CameraSpool>> CameraSpool::open(const fs::path& dir, std::string camera_id,
                                                       SpoolBudget& budget) {
  auto frames = FrameLog::open(dir);
  if (!frames.ok()) return fail(frames.error());
  auto poses = RecordLog::open(dir / "poses.log");
  if (!poses.ok()) return fail(poses.error());
  auto acks = RecordLog::open(dir / "acks.log");
  if (!acks.ok()) return fail(acks.error());
  std::unique_ptr<CameraSpool> spool(
      new CameraSpool(std::move(camera_id), budget, std::move(frames.value()),
                      std::move(poses.value()), std::move(acks.value())));
  if (auto st = spool->loadAcks(); !st.ok()) return fail(st.error());
  return spool;
}

CameraSpool::CameraSpool(std::string camera_id, SpoolBudget& budget,
                         std::unique_ptr<FrameLog> frames, std::unique_ptr<RecordLog> poses,
                         std::unique_ptr<RecordLog> acks)
    : camera_id_(std::move(camera_id)),
      budget_(budget),
      frames_(std::move(frames)),
      poses_(std::move(poses)),
      acks_(std::move(acks)) {}

Status CameraSpool::loadAcks() {
  std::lock_guard lock(mutex_);
  for (const FrameEntry& e : frames_->entries()) sequences_.push_back(e.sequence);
  pose_bytes_ = poses_->records();
  // More poses than frames can only come from a foreign or damaged file.
  if (pose_bytes_.size() > sequences_.size()) pose_bytes_.resize(sequences_.size());
  frame_acked_.assign(sequences_.size(), false);
  pose_acked_.assign(sequences_.size(), false);
  for (const std::string& r : acks_->records()) {
    if (r.size() != 9) continue;
    std::uint64_t seq = 0;
    for (int i = 0; i < 8; ++i) seq |= static_cast<std::uint64_t>(static_cast<unsigned char>(r[1 + i])) << (8 * i);
    auto it = std::lower_bound(sequences_.begin(), sequences_.end(), seq);
    if (it == sequences_.end() || *it != seq) continue;
    const auto index = static_cast<std::size_t>(it - sequences_.begin());
    auto& flags = r[0] == 'F' ? frame_acked_ : pose_acked_;
    if (!flags[index]) {
      flags[index] = true;
      ++(r[0] == 'F' ? frames_acked_ : poses_acked_);
    }
  }
  // Frames acked and posed before a restart: their bytes may not have been
  // freed yet.
  for (std::size_t i = 0; i < sequences_.size(); ++i) releaseIfDone(i);
  return okStatus();
}

Status CameraSpool::appendFrame(const CapturedFrame& frame) {
  std::string meta;
  if (frame.ground_truth) {
    // The synthetic source's ground truth rides along as a pose record.
    PoseRecord truth;
    truth.sequence = frame.sequence;
    truth.origin = PoseOrigin::kGroundTruth;
    truth.performer = *frame.ground_truth;
    meta = encodePoseRecord(truth);
  }
  {
    std::lock_guard lock(mutex_);
    if (!sequences_.empty() && frame.sequence <= sequences_.back()) {
      return fail("camera " + camera_id_ + ": frame " + std::to_string(frame.sequence) +
                  " does not follow frame " + std::to_string(sequences_.back()));
    }
  }
  const std::uint64_t bytes = frame.data.size() + meta.size() + FrameLog::kEntryBytes;
  if (!budget_.reserve(bytes)) {
    return fail("spool full: the spool's disk budget of " + std::to_string(budget_.max() >> 20) +
                " MiB is used up (raise --spool-budget-mb or free the disk)");
  }
  FrameToAppend f;
  f.sequence = frame.sequence;
  f.capture_time_us = frame.capture_time_us;
  f.encoding = frame.encoding;
  f.width = frame.width;
  f.height = frame.height;
  f.data = frame.data;
  f.meta = meta;
  auto appended = frames_->append(f);
  if (!appended.ok()) {
    budget_.release(bytes);
    return fail("camera " + camera_id_ + ": " + appended.error());
  }
  std::lock_guard lock(mutex_);
  sequences_.push_back(frame.sequence);
  frame_acked_.push_back(false);
  pose_acked_.push_back(false);
  return okStatus();
}

Status CameraSpool::appendPose(const PoseRecord& pose) {
  std::string bytes = encodePoseRecord(pose);
  std::size_t index;
  {
    std::lock_guard lock(mutex_);
    index = pose_bytes_.size();
    if (index >= sequences_.size() || sequences_[index] != pose.sequence) {
      return fail("camera " + camera_id_ + ": pose for frame " + std::to_string(pose.sequence) +
                  " is out of order (next frame to pose is #" + std::to_string(index) + ")");
    }
  }
  budget_.adopt(bytes.size() + 12);  // poses are small; never refused once the frame is in
  if (auto st = poses_->append(bytes); !st.ok()) return st;
  std::lock_guard lock(mutex_);
  pose_bytes_.push_back(std::move(bytes));
  releaseIfDone(index);
  return okStatus();
}

Status CameraSpool::sync() {
  if (auto st = frames_->sync(); !st.ok()) return st;
  if (auto st = poses_->sync(); !st.ok()) return st;
  return acks_->sync();
}

std::size_t CameraSpool::poseCount() const {
  std::lock_guard lock(mutex_);
  return pose_bytes_.size();
}

Result<CapturedFrame> CameraSpool::readFrame(std::size_t index) const {
  auto entry = frames_->entry(index);
  if (!entry) return fail("camera " + camera_id_ + ": no frame #" + std::to_string(index));
  auto bytes = frames_->read(index);
  if (!bytes.ok()) return fail(bytes.error());
  CapturedFrame frame;
  frame.camera_id = camera_id_;
  frame.sequence = entry->sequence;
  frame.capture_time_us = entry->capture_time_us;
  frame.encoding = entry->encoding;
  frame.width = entry->width;
  frame.height = entry->height;
  frame.data = std::move(bytes->data);
  if (!bytes->meta.empty()) {
    auto truth = decodePoseRecord(bytes->meta);
    if (!truth.ok() || !truth->performer) {
      return fail("camera " + camera_id_ + ": frame " + std::to_string(entry->sequence) +
                  " has unreadable ground truth");
    }
    frame.ground_truth = *truth->performer;
  }
  return frame;
}

Result<PoseRecord> CameraSpool::readPose(std::size_t index) const {
  std::string bytes;
  {
    std::lock_guard lock(mutex_);
    if (index >= pose_bytes_.size())
      return fail("camera " + camera_id_ + ": no pose #" + std::to_string(index));
    bytes = pose_bytes_[index];
  }
  auto record = decodePoseRecord(bytes);
  if (!record.ok()) return fail("camera " + camera_id_ + ": pose #" + std::to_string(index) + ": " + record.error());
  record->camera_id = camera_id_;
  return record;
}

Status CameraSpool::markAcked(SpoolRecordKind kind, std::uint64_t sequence) {
  std::size_t index;
  {
    std::lock_guard lock(mutex_);
    auto it = std::lower_bound(sequences_.begin(), sequences_.end(), sequence);
    if (it == sequences_.end() || *it != sequence) {
      return fail("camera " + camera_id_ + ": ack for unknown frame " + std::to_string(sequence));
    }
    index = static_cast<std::size_t>(it - sequences_.begin());
    if (kind == SpoolRecordKind::kPose && index >= pose_bytes_.size()) {
      return fail("camera " + camera_id_ + ": ack for pose " + std::to_string(sequence) +
                  " that was never sent");
    }
    if ((kind == SpoolRecordKind::kFrame ? frame_acked_ : pose_acked_)[index]) return okStatus();
  }
  if (auto st = acks_->append(ackRecord(kind, sequence)); !st.ok()) return st;
  std::lock_guard lock(mutex_);
  auto& flags = kind == SpoolRecordKind::kFrame ? frame_acked_ : pose_acked_;
  if (!flags[index]) {
    flags[index] = true;
    ++(kind == SpoolRecordKind::kFrame ? frames_acked_ : poses_acked_);
  }
  releaseIfDone(index);
  return okStatus();
}

void CameraSpool::releaseIfDone(std::size_t index) {
  if (index >= frame_acked_.size() || !frame_acked_[index] || index >= pose_bytes_.size()) return;
  auto e = frames_->entry(index);
  if (!e || e->released) return;
  frames_->release(index);
  budget_.release(std::uint64_t{e->length} + e->meta_length);
}

bool CameraSpool::isAcked(SpoolRecordKind kind, std::size_t index) const {
  std::lock_guard lock(mutex_);
  const auto& flags = kind == SpoolRecordKind::kFrame ? frame_acked_ : pose_acked_;
  return index < flags.size() && flags[index];
}

std::optional<std::size_t> CameraSpool::indexOf(std::uint64_t sequence) const {
  std::lock_guard lock(mutex_);
  auto it = std::lower_bound(sequences_.begin(), sequences_.end(), sequence);
  if (it == sequences_.end() || *it != sequence) return std::nullopt;
  return static_cast<std::size_t>(it - sequences_.begin());
}

bool CameraSpool::fullyAcked() const {
  std::lock_guard lock(mutex_);
  return frames_acked_ == sequences_.size() && poses_acked_ == pose_bytes_.size();
}

CameraSpoolSummary CameraSpool::summary() const {
  CameraSpoolSummary s;
  for (const FrameEntry& e : frames_->entries()) s.checksum += e.fnv;
  std::lock_guard lock(mutex_);
  s.frames = sequences_.size();
  s.poses = pose_bytes_.size();
  s.frames_acked = frames_acked_;
  s.poses_acked = poses_acked_;
  if (!sequences_.empty()) {
    s.first_sequence = sequences_.front();
    s.last_sequence = sequences_.back();
    s.gaps = s.last_sequence + 1 - s.frames;  // sequences start at 0 per capture
  }
  return s;
}

std::uint64_t CameraSpool::allocatedBytes() const {
  return frames_->allocatedBytes() + poses_->sizeBytes() + acks_->sizeBytes();
}

}  // namespace booth
