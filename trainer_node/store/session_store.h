#pragma once
// SessionStore: each session's frames and keypoints under the data
// directory, one file per streamed record:
//   <root>/sessions/<session>/<node>/<camera>/<sequence>.rec
// A .rec file is the FrameRecord protobuf as received (JPEG bytes and
// keypoints), written to a temporary name, fsynced (when enabled) and
// renamed, so a record either exists whole or not at all; only then is it
// acked. Writing a record that exists already is a no-op (resends dedup).
//
// Threading: write() is called by the ingest thread; load() and verify() by
// any thread once the session is closed.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "booth.pb.h"
#include "common/core/result.h"
#include "trainer_node/store/stored_frame.h"

namespace booth {

// Ids from the wire become path components: 1..64 of [A-Za-z0-9_.-], not
// starting with '.'.
bool isSafeId(const std::string& id);

class SessionStore {
 public:
  SessionStore(std::filesystem::path root, bool fsync);

  // true: newly stored; false: was already there (a resend).
  Result<bool> write(const std::string& node_id, const v1::FrameRecord& record);
  // Checks every camera of the manifest: frame count and checksum sum.
  Status verify(const v1::SessionManifest& manifest);
  // Every frame of one camera with its pose, in sequence order.
  Result<std::vector<StoredFrame>> load(const std::string& session_id,
                                            const std::string& node_id,
                                            const std::string& camera_id) const;
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
  std::filesystem::path cameraDir(const std::string& session, const std::string& node,
                                  const std::string& camera) const;
  std::filesystem::path root_;
  bool fsync_;
};

}  // namespace booth
