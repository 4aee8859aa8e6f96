#pragma once
// Session segments: how the ingest keeps a session's records in a
// BlobStore (blob_session_sink.h) and how a worker reads them back
// (blob_session_frames.h). Each camera's records go into append-only
// segment blobs, one per durable batch of the ingest (what arrived between
// two acks), under
//   sessions/<session>/frames/<node>/<camera>/<index>.seg
// with <index> 10 zero-padded digits from 0, so the keys list in the order
// written and a gap in the numbers shows a missing segment. Everything lies
// under sessions/<session>/, the session's one prefix to delete.
//
// A segment is self-checking (little-endian):
//   header   "BOOTHSG1" | record count u32 | crc32 of the payload u32 |
//            payload bytes u64 | 8 bytes reserved (0)
//   payload  records in arrival order, each
//            'F' sequence u64 | capture_time_us i64 | encoding u8 (1 JPEG,
//                2 raw BGR, 3 YUYV) | width u16 | height u16 | bytes u32 |
//                meta bytes u32 | bytes | meta      (a frame, as captured)
//            'P' bytes u32 | bytes                  (a pose record,
//                common/storage/pose_record_codec.h)
// readSegment() refuses anything else (a short, long or damaged segment)
// with the reason.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"
#include "common/storage/frame_log.h"
#include "trainer_node/store/blob_store.h"

namespace booth {

// "sessions/<session>/frames/<node>/<camera>/"
std::string segmentPrefix(const std::string& session, const std::string& node,
                          const std::string& camera);
// segmentPrefix(...) + "<index>.seg"
std::string segmentBlobKey(const std::string& session, const std::string& node,
                           const std::string& camera, std::uint64_t index);
// The index of a key under `prefix`, or nullopt when it is not a segment's.
std::optional<std::uint64_t> segmentIndexOf(std::string_view key, std::string_view prefix);

// Collects one segment's records. Not thread-safe.
class SegmentBuilder {
 public:
  void addFrame(const FrameToAppend& frame);
  void addPose(std::string_view encoded_pose);
  bool empty() const { return records_ == 0; }
  std::uint32_t records() const { return records_; }
  // Bytes of the records so far.
  std::size_t payloadBytes() const { return payload_.size(); }
  // The segment as stored: header and payload.
  std::string segment() const;
  void clear();

 private:
  std::string payload_;
  std::uint32_t records_ = 0;
};

struct SegmentVisitor {
  std::function<Status(const FrameToAppend&)> frame;
  std::function<Status(std::string_view encoded_pose)> pose;
};

// Checks `segment` whole (header, length, crc) and hands each record to
// `visit` in order; the first error (the segment's or a visitor's) ends it.
Status readSegment(std::string_view segment, const SegmentVisitor& visit);

// Reads every segment of (session, node, camera) in `blobs` in order into
// `visit`: they must be numbered from 0 without a gap and each must read
// whole. Returns how many there are; an error names the segment.
Result<std::uint64_t> readCameraSegments(BlobStore& blobs, const std::string& session,
                                         const std::string& node, const std::string& camera,
                                         const SegmentVisitor& visit);

}  // namespace booth
