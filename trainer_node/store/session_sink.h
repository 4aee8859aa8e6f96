#pragma once
// SessionSink: where the ingest puts a session's frames and pose records,
// one implementation per kind of store:
//   SessionStore (session_store.h)        the embedded trainer's own files
//                                         under DATA/sessions/ (fsync)
//   BlobSessionSink (blob_session_sink.h) segment blobs in a BlobStore
//                                         (PostgreSQL with --database), so
//                                         workers on other machines need no
//                                         shared data folder
// The contract the ingest's durable acks rest on: a write returns true when
// the record is new, false when it was taken before (a resend: a no-op), and
// sync() returns ok only once every record written so far (resends
// included) is durable; the ingest acks only after that.
//
// Threading: the ingest thread writes; totals() may be asked from it too.
#include <cstdint>
#include <string>

#include "common/core/pose_record.h"
#include "common/core/result.h"
#include "common/storage/frame_log.h"

namespace booth {

// What is stored for one camera, for manifest checks.
struct CameraTotals {
  std::uint64_t frames = 0;
  std::uint64_t poses = 0;
  std::uint64_t checksum = 0;  // wrapping sum of FNV-1a 64 of every frame's bytes
  std::uint64_t bytes = 0;
};

// Refuses ids that are not isSafeId (common/core/safe_id.h), quoting them.
Status checkSessionIds(const std::string& session, const std::string& node,
                       const std::string& camera);

class SessionSink {
 public:
  virtual ~SessionSink() = default;

  // true: newly taken; false: it was already there (a resend). Ids must
  // pass isSafeId (common/core/safe_id.h).
  virtual Result<bool> writeFrame(const std::string& session, const std::string& node,
                                  const std::string& camera, const FrameToAppend& frame) = 0;
  virtual Result<bool> writePose(const std::string& session, const std::string& node,
                                 const PoseRecord& pose) = 0;
  // Makes every write so far durable; only then may the records be acked.
  virtual Status sync() = 0;
  // The session is over (complete, failed or cancelled): its open state
  // goes (what is written but not yet durable still is, at the next sync()).
  virtual void close(const std::string& session) = 0;
  // What is stored for one camera (after a restart: read back first), or
  // why it cannot be said (the store is unreachable: isStoreUnreachable,
  // store/store_errors.h; a stored record is damaged). Never zeros for an
  // error: a count of 0 would be taken for the truth.
  virtual Result<CameraTotals> totals(const std::string& session, const std::string& node,
                              const std::string& camera) = 0;
  // Where the records go, for messages (a folder, or "the blob store").
  virtual std::string location() const = 0;
};

}  // namespace booth
