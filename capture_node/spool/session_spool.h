#pragma once
// SessionSpool: one session in the capture node's spool directory:
//   <spool>/<session>/session.meta   what was asked and which cameras took part
//   <spool>/<session>/notes.log      what happened since (capture finished,
//                                    a camera ended, the spool filled up, ...)
//   <spool>/<session>/<camera>/      one CameraSpool per camera
// Everything needed to finish the session after a crash of the node is on
// disk: recover() rebuilds the object from these files alone.
//
// Threading: the notes and the camera list are guarded; each CameraSpool
// documents its own rules.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "capture_node/source/frame_source.h"
#include "capture_node/spool/camera_spool.h"
#include "capture_node/spool/spool_budget.h"
#include "common/core/result.h"
#include "common/storage/record_log.h"

namespace booth {

struct SessionMeta {
  std::string session_id;
  double seconds = 0;
  std::int64_t created_unix_ms = 0;
  std::string pose_source;  // human-readable, for the manifest
  std::vector<CameraDescription> cameras;
};

// What the notes say, folded.
struct SessionNotes {
  bool capture_complete = false;
  double capture_seconds = 0;
  bool pose_complete = false;
  double pose_seconds = 0;
  std::string incomplete_reason;  // first reason the capture is not whole
  std::vector<std::pair<std::string, std::string>> camera_ended;  // camera, reason
};

class SessionSpool {
 public:
  static Result<std::unique_ptr<SessionSpool>> create(const std::filesystem::path& root,
                                                      const SessionMeta& meta,
                                                      SpoolBudget& budget);
  static Result<std::unique_ptr<SessionSpool>> recover(const std::filesystem::path& dir,
                                                       SpoolBudget& budget);

  const SessionMeta& meta() const { return meta_; }
  const std::string& id() const { return meta_.session_id; }
  std::size_t cameraCount() const { return cameras_.size(); }
  CameraSpool& camera(std::size_t i) { return *cameras_[i]; }
  const CameraSpool& camera(std::size_t i) const { return *cameras_[i]; }
  std::optional<std::size_t> cameraIndex(const std::string& camera_id) const;

  Status noteCaptureComplete(double capture_seconds);
  Status notePoseComplete(double pose_seconds);
  Status noteIncomplete(const std::string& reason);
  Status noteCameraEnded(const std::string& camera_id, const std::string& reason);
  SessionNotes notes() const;

  // Everything synced to disk (each camera, the notes).
  Status sync();
  std::uint64_t allocatedBytes() const;
  // Deletes the session's folder; the object must not be used afterwards.
  Status remove();
  const std::filesystem::path& dir() const { return dir_; }

 private:
  SessionSpool(std::filesystem::path dir, SessionMeta meta, std::unique_ptr<RecordLog> notes);
  Status note(const std::string& line);

  std::filesystem::path dir_;
  SessionMeta meta_;
  std::vector<std::unique_ptr<CameraSpool>> cameras_;
  std::unique_ptr<RecordLog> notes_log_;
  mutable std::mutex mutex_;  // guards notes_
  SessionNotes notes_;
};

}  // namespace booth
