#pragma once
// BlobSessionSink: the ingest's SessionSink over a BlobStore (PostgreSQL
// with --database), so that workers on other machines read a session's
// frames from the store rather than from a shared data folder.
//
// Records are kept per (session, node, camera) in memory until sync(),
// which publishes every camera's new records as segment blobs
// (session_segment.h: sessions/<session>/frames/<node>/<camera>/<index>.seg)
// in one BlobStore::putAll (in PostgreSQL one transaction); the ingest acks
// only after it succeeded. A segment is thus one ack batch of the ingest
// (under load up to its 512 messages, at a trickle a few records), cut
// into segments of at most about max_segment_bytes (plus one record), so
// a reader never holds more than that of one camera at once.
//
// Failure: when putAll fails the records stay pending under the same
// segment keys and the next sync() publishes them again, with whatever came
// since (a segment only grows until it is published; putting the same keys
// again replaces them whole), so a resend that was taken but not yet durable
// is acked only after a later sync succeeded. Nothing is lost or doubled.
//
// A capture node sends its manifest only once every record is acked, so
// when the intake queues the job every segment of the session is committed.
//
// Restart: the first write or totals() of a camera this process has not
// seen lists and reads back its published segments (deduplication,
// manifest totals, the next index). A failed read-back is remembered for
// the camera, so that its next records are refused at once with the same
// reason instead of reading everything again: a store that could not be
// reached (isStoreUnreachable, store_errors.h) is tried again after
// kUnreachableRetry, a damaged segment not at all until the session is
// closed (its records are refused, so it stalls and fails with the reason).
//
// One gateway per session: two gateways writing the same camera of the same
// session would publish the same segment numbers.
//
// Threading: the ingest thread (not thread-safe).
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "common/core/clock.h"
#include "trainer_node/store/blob_store.h"
#include "trainer_node/store/session_segment.h"
#include "trainer_node/store/session_sink.h"

namespace booth {

class BlobSessionSink final : public SessionSink {
 public:
  static constexpr std::size_t kDefaultMaxSegmentBytes = 8u << 20;
  // How long a camera whose read-back found the store unreachable is
  // refused before it is read again.
  static constexpr std::chrono::seconds kUnreachableRetry{2};

  explicit BlobSessionSink(BlobStore& blobs,
                           std::size_t max_segment_bytes = kDefaultMaxSegmentBytes,
                           const Clock& clock = SystemClock::instance());
  ~BlobSessionSink() override;

  Result<bool> writeFrame(const std::string& session, const std::string& node,
                          const std::string& camera, const FrameToAppend& frame) override;
  Result<bool> writePose(const std::string& session, const std::string& node,
                         const PoseRecord& pose) override;
  Status sync() override;
  void close(const std::string& session) override;
  Result<CameraTotals> totals(const std::string& session, const std::string& node,
                      const std::string& camera) override;
  std::string location() const override { return "the blob store (sessions/)"; }

  // Segments published so far (for figures and tests).
  std::uint64_t segmentsPublished() const { return segments_published_; }

 private:
  struct Camera {
    std::unordered_set<std::uint64_t> frame_sequences;
    std::unordered_set<std::uint64_t> pose_sequences;
    CameraTotals totals;
    std::uint64_t next_index = 0;     // of the first segment not yet published
    std::vector<std::string> sealed;  // full segments not yet published, from next_index
    SegmentBuilder pending;           // the open segment, after them
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // session, node, camera
  Result<Camera*> camera(const std::string& session, const std::string& node,
                         const std::string& camera);
  // Reads back what a camera published before this process saw it.
  Status recover(const Key& key, Camera& cam);
  // Seals the open segment once it reached max_segment_bytes_.
  void sealIfFull(Camera& cam);

  // A camera whose read-back failed: why, and when to try again (never,
  // for a damaged segment).
  struct Unreadable {
    std::string error;
    std::optional<Clock::TimePoint> retry_at;
  };

  BlobStore& blobs_;
  const std::size_t max_segment_bytes_;
  const Clock& clock_;
  std::map<Key, std::unique_ptr<Camera>> cameras_;
  std::map<Key, Unreadable> unreadable_;  // forgotten with their session (close())
  std::set<std::string> closed_;  // sessions to forget once their records are published
  std::uint64_t segments_published_ = 0;
};

}  // namespace booth
