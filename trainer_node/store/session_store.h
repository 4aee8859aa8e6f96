#pragma once
// SessionStore: every session's frames and poses under the data directory,
// in the trainer's own files (not the wire's):
//   <root>/sessions/<session>/<node>/<camera>/frames.dat, frames.idx
//       the frames' bytes as captured, with an index (common/storage/frame_log.h)
//   <root>/sessions/<session>/<node>/<camera>/poses.log
//       one pose record per frame (common/storage/pose_record_codec.h)
// Writes are deduplicated by sequence (a resent frame is a no-op) and made
// durable in batches: the ingest writes what arrived, calls sync() once
// (files, then the directories that name them), and only then acks.
// Folders are 0700 and files 0600: visitors' data is the owner's alone.
//
// It is the embedded trainer's SessionSink (what the ingest writes to) and
// SessionFrameSource (what its worker trains from); a worker that gets its
// frames from blobs materializes them with a SessionStore in its scratch
// folder (blob_session_frames.h), in exactly these files.
//
// Threading: every method may be called from any thread (the open files
// are guarded by one mutex; the ingest is the only frequent writer). load()
// reads files on its own, for sessions the ingest has closed.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "common/core/pose_record.h"
#include "common/core/result.h"
#include "common/storage/frame_log.h"
#include "common/storage/record_log.h"
#include "trainer_node/store/session_frame_source.h"
#include "trainer_node/store/session_sink.h"
#include "trainer_node/store/stored_frame.h"

namespace booth {

class SessionStore final : public SessionSink, public SessionFrameSource {
 public:
  SessionStore(std::filesystem::path root, bool fsync);
  ~SessionStore() override;

  // SessionSink. true: newly stored; false: it was already there (a
  // resend). Ids must pass isSafeId (common/core/safe_id.h).
  Result<bool> writeFrame(const std::string& session, const std::string& node,
                          const std::string& camera, const FrameToAppend& frame) override;
  Result<bool> writePose(const std::string& session, const std::string& node,
                         const PoseRecord& pose) override;
  // Makes every write so far durable (no-op with fsync off).
  Status sync() override;
  // Closes a session's open files (it is complete, failed or cancelled).
  void close(const std::string& session) override;
  Result<CameraTotals> totals(const std::string& session, const std::string& node,
                      const std::string& camera) override;
  // The sessions folder (<root>/sessions).
  std::string location() const override;

  // SessionFrameSource: load() of the job's session and camera (the
  // scratch folder is not needed).
  Result<std::vector<StoredFrame>> loadCamera(const JobRecord& job, const CameraFrames& camera,
                                              const std::filesystem::path& scratch) override;
  // Every frame of one camera with its performer pose, in sequence order.
  Result<std::vector<StoredFrame>> load(const std::string& session, const std::string& node,
                                        const std::string& camera) const;
  std::filesystem::path sessionDir(const std::string& session_id) const;

  // Every (session, node, camera) with stored frames, sessions in name
  // order (session ids start with their creation time).
  struct CameraRef {
    std::string session_id;
    std::string node_id;
    std::string camera_id;
  };
  std::vector<CameraRef> listCameras() const;

 private:
  struct OpenCamera {
    std::unique_ptr<FrameLog> frames;
    std::unique_ptr<RecordLog> poses;
    std::unordered_set<std::uint64_t> frame_sequences;
    std::unordered_set<std::uint64_t> pose_sequences;
    bool dirty = false;
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // session, node, camera
  Result<OpenCamera*> openCamera(const std::string& session, const std::string& node,
                                 const std::string& camera);
  std::filesystem::path cameraDir(const std::string& session, const std::string& node,
                                  const std::string& camera) const;

  std::filesystem::path root_;
  bool fsync_;
  std::mutex mutex_;  // guards open_ and new_dirs_
  std::map<Key, std::unique_ptr<OpenCamera>> open_;
  std::set<std::filesystem::path> new_dirs_;  // created since the last sync()
};

}  // namespace booth
