#include "trainer_node/store/blob_session_sink.h"

#include <algorithm>
#include <vector>

#include "common/core/checksum.h"
#include "common/core/safe_id.h"
#include "common/storage/pose_record_codec.h"
#include "trainer_node/store/store_errors.h"

namespace booth {

namespace {

void countFrame(CameraTotals& totals, const FrameToAppend& frame) {
  ++totals.frames;
  totals.checksum += fnv1a64(frame.data);
  totals.bytes += frame.data.size();
}

}  // namespace

BlobSessionSink::BlobSessionSink(BlobStore& blobs, std::size_t max_segment_bytes,
                                 const Clock& clock)
    : blobs_(blobs), max_segment_bytes_(std::max<std::size_t>(1, max_segment_bytes)),
      clock_(clock) {}

BlobSessionSink::~BlobSessionSink() = default;

Result<BlobSessionSink::Camera*> BlobSessionSink::camera(const std::string& session,
                                                         const std::string& node,
                                                         const std::string& camera) {
  if (auto st = checkSessionIds(session, node, camera); !st.ok()) return fail(st.error());
  const Key key{session, node, camera};
  if (auto it = cameras_.find(key); it != cameras_.end()) return it->second.get();
  if (auto it = unreadable_.find(key); it != unreadable_.end()) {
    if (!it->second.retry_at || clock_.steady() < *it->second.retry_at) {
      return fail(it->second.error);
    }
    unreadable_.erase(it);
  }
  auto cam = std::make_unique<Camera>();
  if (auto st = recover(key, *cam); !st.ok()) {
    Unreadable why{st.error(), std::nullopt};
    if (isStoreUnreachable(st.error())) why.retry_at = clock_.steady() + kUnreachableRetry;
    unreadable_[key] = std::move(why);
    return fail(st.error());
  }
  closed_.erase(session);
  Camera* raw = cam.get();
  cameras_[key] = std::move(cam);
  return raw;
}

Status BlobSessionSink::recover(const Key& key, Camera& cam) {
  const auto& [session, node, camera] = key;
  SegmentVisitor visit;
  visit.frame = [&](const FrameToAppend& f) -> Status {
    if (cam.frame_sequences.insert(f.sequence).second) countFrame(cam.totals, f);
    return okStatus();
  };
  visit.pose = [&](std::string_view bytes) -> Status {
    auto pose = decodePoseRecord(bytes);
    if (!pose.ok()) return fail("a stored pose record: " + pose.error());
    if (cam.pose_sequences.insert(pose->sequence).second) ++cam.totals.poses;
    return okStatus();
  };
  auto segments = readCameraSegments(blobs_, session, node, camera, visit);
  if (!segments.ok()) return fail(segments.error());
  cam.next_index = segments.value();
  return okStatus();
}

void BlobSessionSink::sealIfFull(Camera& cam) {
  if (cam.pending.payloadBytes() < max_segment_bytes_) return;
  cam.sealed.push_back(cam.pending.segment());
  cam.pending.clear();
}

Result<bool> BlobSessionSink::writeFrame(const std::string& session, const std::string& node,
                                         const std::string& camera_id, const FrameToAppend& frame) {
  auto cam = camera(session, node, camera_id);
  if (!cam.ok()) return fail(cam.error());
  Camera& c = *cam.value();
  if (!c.frame_sequences.insert(frame.sequence).second) return false;
  c.pending.addFrame(frame);
  countFrame(c.totals, frame);
  sealIfFull(c);
  return true;
}

Result<bool> BlobSessionSink::writePose(const std::string& session, const std::string& node,
                                        const PoseRecord& pose) {
  auto cam = camera(session, node, pose.camera_id);
  if (!cam.ok()) return fail(cam.error());
  Camera& c = *cam.value();
  if (!c.pose_sequences.insert(pose.sequence).second) return false;
  c.pending.addPose(encodePoseRecord(pose));
  ++c.totals.poses;
  sealIfFull(c);
  return true;
}

Status BlobSessionSink::sync() {
  std::vector<std::string> pending;  // the open segments' bytes, which putAll's views point into
  std::vector<BlobToPut> puts;
  pending.reserve(cameras_.size());
  for (auto& [key, cam] : cameras_) {
    const auto& [session, node, camera] = key;
    std::uint64_t index = cam->next_index;
    for (const std::string& segment : cam->sealed) {
      puts.push_back({segmentBlobKey(session, node, camera, index++), segment});
    }
    if (cam->pending.empty()) continue;
    pending.push_back(cam->pending.segment());
    puts.push_back({segmentBlobKey(session, node, camera, index), pending.back()});
  }
  if (!puts.empty()) {
    if (auto st = blobs_.putAll(puts); !st.ok()) return st;
  }
  for (auto& [key, cam] : cameras_) {
    cam->next_index += cam->sealed.size() + (cam->pending.empty() ? 0 : 1);
    cam->sealed.clear();
    cam->pending.clear();
  }
  segments_published_ += puts.size();
  // Sessions that ended are forgotten once nothing of theirs is pending.
  for (auto it = cameras_.begin(); it != cameras_.end();) {
    it = closed_.count(std::get<0>(it->first)) ? cameras_.erase(it) : std::next(it);
  }
  closed_.clear();
  return okStatus();
}

void BlobSessionSink::close(const std::string& session) {
  closed_.insert(session);
  for (auto it = unreadable_.begin(); it != unreadable_.end();) {
    it = std::get<0>(it->first) == session ? unreadable_.erase(it) : std::next(it);
  }
}

Result<CameraTotals> BlobSessionSink::totals(const std::string& session, const std::string& node,
                                             const std::string& camera_id) {
  auto cam = camera(session, node, camera_id);
  if (!cam.ok()) return fail(cam.error());
  return cam.value()->totals;
}

}  // namespace booth
