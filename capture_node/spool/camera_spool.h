#pragma once
// CameraSpool: one camera of one session in the capture node's spool.
//   <session>/<camera>/frames.dat, frames.idx   the frames as captured (FrameLog)
//   <session>/<camera>/poses.log                one final pose record per frame, in frame order
//   <session>/<camera>/acks.log                 which frames and poses the trainer has acked
// A frame's bytes are freed (hole punched) once the trainer has acked it
// AND its pose is final: the pose workers need the pixels until then. The
// index keeps describing freed frames, so the manifest's counts and
// checksums cover the whole session even after a restart.
//
// Threading: appendFrame()/sync() from the camera's spool writer thread;
// appendPose() from the pose stage (one thread at a time per camera);
// markAcked() from the node's control thread; reads from any thread.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "capture_node/source/frame_source.h"
#include "capture_node/spool/spool_budget.h"
#include "common/core/pose_record.h"
#include "common/core/result.h"
#include "common/storage/frame_log.h"
#include "common/storage/record_log.h"

namespace booth {

enum class SpoolRecordKind { kFrame, kPose };

struct CameraSpoolSummary {
  std::uint64_t frames = 0;
  std::uint64_t poses = 0;
  std::uint64_t frames_acked = 0;
  std::uint64_t poses_acked = 0;
  std::uint64_t first_sequence = 0;
  std::uint64_t last_sequence = 0;
  std::uint64_t gaps = 0;      // missing sequence numbers between first and last
  std::uint64_t checksum = 0;  // wrapping sum of FNV-1a 64 of every frame's bytes
};

class CameraSpool {
 public:
  // Opens (creating or recovering) the camera's folder.
  static Result<std::unique_ptr<CameraSpool>> open(const std::filesystem::path& dir,
                                                   std::string camera_id, SpoolBudget& budget);

  const std::string& cameraId() const { return camera_id_; }

  // Fails with "spool full" when the budget has no room, or with the disk's
  // error; nothing already spooled is affected either way.
  Status appendFrame(const CapturedFrame& frame);
  Status appendPose(const PoseRecord& pose);
  Status sync();

  std::size_t frameCount() const { return frames_->size(); }
  std::size_t poseCount() const;
  std::optional<FrameEntry> frameEntry(std::size_t index) const { return frames_->entry(index); }
  // The frame as captured, ground truth included (the synthetic source's).
  Result<CapturedFrame> readFrame(std::size_t index) const;
  Result<PoseRecord> readPose(std::size_t index) const;

  // Records the trainer's ack durably; unknown sequences are an Error.
  Status markAcked(SpoolRecordKind kind, std::uint64_t sequence);
  bool isAcked(SpoolRecordKind kind, std::size_t index) const;
  std::optional<std::size_t> indexOf(std::uint64_t sequence) const;

  // Every frame and pose now in the spool is acked.
  bool fullyAcked() const;
  CameraSpoolSummary summary() const;
  std::uint64_t allocatedBytes() const;

 private:
  CameraSpool(std::string camera_id, SpoolBudget& budget, std::unique_ptr<FrameLog> frames,
              std::unique_ptr<RecordLog> poses, std::unique_ptr<RecordLog> acks);
  Status loadAcks();
  void releaseIfDone(std::size_t index);  // mutex_ held

  std::string camera_id_;
  SpoolBudget& budget_;
  std::unique_ptr<FrameLog> frames_;
  std::unique_ptr<RecordLog> poses_;
  std::unique_ptr<RecordLog> acks_;

  mutable std::mutex mutex_;  // guards the members below
  std::vector<std::uint64_t> sequences_;  // of the frames, increasing, index = frame index
  std::vector<std::string> pose_bytes_;   // serialized pose records, index = frame index
  std::vector<bool> frame_acked_;
  std::vector<bool> pose_acked_;
  std::uint64_t frames_acked_ = 0;
  std::uint64_t poses_acked_ = 0;
};

}  // namespace booth
