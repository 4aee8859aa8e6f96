#pragma once
// BlobSessionFrames: a worker's SessionFrameSource over the BlobStore the
// ingest wrote to (blob_session_sink.h). It materializes one camera of the
// job's session into the worker's scratch folder, in the session store's
// own files (a SessionStore rooted at `scratch`: frames.dat, frames.idx,
// poses.log, exactly as the ingest of an embedded trainer would have
// written them for the same records), then loads it as the embedded worker
// does; the training code does not know the difference. A job resumed on
// another worker does the same there.
//
// Completeness: the segments must be numbered 0, 1, 2, ... without a gap,
// each must read whole (session_segment.h: header, length, crc32), and the
// frames must number what the job says the camera sent
// (CameraFrames::frames, verified by the ingest against the node's
// manifest). Anything else (a missing, truncated or damaged segment, a
// missing frame, the store unreachable) is an error naming the camera and
// the segment, which fails the job, never the process.
//
// Threading: any thread; no state between calls.
#include "trainer_node/store/blob_store.h"
#include "trainer_node/store/session_frame_source.h"

namespace booth {

class SessionStore;

// Reads the segments of (session, node, camera) into `into` (a
// SessionStore) in the order they were published; returns the number of
// distinct frames the camera has.
Result<std::uint64_t> materializeCamera(BlobStore& blobs, const std::string& session,
                                        const std::string& node, const std::string& camera,
                                        SessionStore& into);

class BlobSessionFrames final : public SessionFrameSource {
 public:
  explicit BlobSessionFrames(BlobStore& blobs) : blobs_(blobs) {}
  Result<std::vector<StoredFrame>> loadCamera(const JobRecord& job, const CameraFrames& camera,
                                              const std::filesystem::path& scratch) override;

 private:
  BlobStore& blobs_;
};

}  // namespace booth
