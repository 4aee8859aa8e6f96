#include "trainer_node/store/blob_session_frames.h"

#include "common/storage/pose_record_codec.h"
#include "trainer_node/store/session_segment.h"
#include "trainer_node/store/session_store.h"

namespace booth {

Result<std::uint64_t> materializeCamera(BlobStore& blobs, const std::string& session,
                                        const std::string& node, const std::string& camera,
                                        SessionStore& into) {
  std::uint64_t frames = 0;
  SegmentVisitor visit;
  visit.frame = [&](const FrameToAppend& f) -> Status {
    auto written = into.writeFrame(session, node, camera, f);
    if (!written.ok()) return fail(written.error());
    if (written.value()) ++frames;
    return okStatus();
  };
  visit.pose = [&](std::string_view bytes) -> Status {
    auto pose = decodePoseRecord(bytes);
    if (!pose.ok()) return fail("a pose record: " + pose.error());
    auto written = into.writePose(session, node, pose.value());
    return written.ok() ? okStatus() : fail(written.error());
  };
  auto segments = readCameraSegments(blobs, session, node, camera, visit);
  if (!segments.ok()) return fail(segments.error());
  into.close(session);
  return frames;
}

Result<std::vector<StoredFrame>> BlobSessionFrames::loadCamera(
    const JobRecord& job, const CameraFrames& camera, const std::filesystem::path& scratch) {
  const std::string what = "the frames of " + camera.node + "/" + camera.camera + " of session " +
                           job.session_id + " in the blob store";
  // From nothing, also when called again after a failed try.
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  if (ec) return fail("cannot empty " + scratch.string() + ": " + ec.message());
  SessionStore local(scratch, /*fsync=*/false);
  auto frames = materializeCamera(blobs_, job.session_id, camera.node, camera.camera, local);
  if (!frames.ok()) return fail(what + ": " + frames.error());
  if (frames.value() != static_cast<std::uint64_t>(camera.frames)) {
    return fail(what + " are incomplete: " + std::to_string(frames.value()) + " frames where " +
                std::to_string(camera.frames) + " were received (a segment is missing or cut)");
  }
  auto loaded = local.load(job.session_id, camera.node, camera.camera);
  if (!loaded.ok()) return fail(what + ": " + loaded.error());
  return loaded;
}

}  // namespace booth
