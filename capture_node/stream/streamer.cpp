#include "capture_node/stream/streamer.h"

#include <spdlog/spdlog.h>

#include "common/transport/wire.h"

namespace booth {

Streamer::Streamer(SessionSpool& spool, const Clock& clock, StreamerConfig config)
    : spool_(spool), clock_(clock), config_(config), cursors_(spool.cameraCount()) {}

bool Streamer::sendable(Kind kind, std::size_t camera, std::size_t index) const {
  const CameraSpool& cam = spool_.camera(camera);
  if (kind == Kind::kFrame) {
    return index < cam.frameCount() && !cam.isAcked(SpoolRecordKind::kFrame, index);
  }
  return index < cam.poseCount() && !cam.isAcked(SpoolRecordKind::kPose, index);
}

Result<v2::Envelope> Streamer::build(Kind kind, std::size_t camera, std::size_t index,
                                     std::uint64_t& bytes) const {
  const CameraSpool& cam = spool_.camera(camera);
  v2::Envelope env;
  if (kind == Kind::kFrame) {
    auto frame = cam.readFrame(index);
    if (!frame.ok()) return fail(frame.error());
    v2::Frame* f = env.mutable_frame();
    f->set_session_id(spool_.id());
    f->set_camera_id(frame->camera_id);
    f->set_sequence(frame->sequence);
    f->set_capture_time_us(frame->capture_time_us);
    f->set_encoding(frame->encoding == FrameEncoding::kJpeg ? v2::ENCODING_JPEG
                                                            : v2::ENCODING_RAW_BGR);
    f->set_width(static_cast<std::uint32_t>(frame->width));
    f->set_height(static_cast<std::uint32_t>(frame->height));
    bytes = frame->data.size();
    f->set_data(std::move(frame->data));
  } else {
    auto pose = cam.readPose(index);
    if (!pose.ok()) return fail(pose.error());
    poseRecordToProto(spool_.id(), pose.value(), env.mutable_pose());
    bytes = 0;  // poses count against the record credit only
  }
  return env;
}

std::vector<v2::Envelope> Streamer::due(Credit& credit) {
  std::vector<v2::Envelope> out;
  const auto now = clock_.steady();
  // Resends first: the oldest unconfirmed records are what the trainer is
  // most likely to be waiting for.
  for (auto& [key, flight] : in_flight_) {
    if (now - flight.sent < config_.resend_after) continue;
    const auto [kind, camera, index] = key;
    std::uint64_t bytes = 0;
    auto env = build(static_cast<Kind>(kind), camera, index, bytes);
    if (!env.ok()) {
      spdlog::error("session {}: cannot resend: {}", spool_.id(), env.error());
      continue;
    }
    out.push_back(std::move(env.value()));
    flight.sent = now;
    ++resends_;
  }
  // New records, round-robin over cameras; within a camera poses first
  // (they are small and complete the trainer's training pairs).
  const std::size_t n = cursors_.size();
  bool progress = true;
  while (progress) {
    progress = false;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t c = (next_camera_ + k) % n;
      Cursor& cur = cursors_[c];
      const CameraSpool& cam = spool_.camera(c);
      for (Kind kind : {Kind::kPose, Kind::kFrame}) {
        std::size_t& index = kind == Kind::kPose ? cur.pose : cur.frame;
        const std::size_t available = kind == Kind::kPose ? cam.poseCount() : cam.frameCount();
        // Skip what an earlier run already got acked.
        while (index < available && !sendable(kind, c, index)) ++index;
        if (index >= available) continue;
        const std::uint64_t size =
            kind == Kind::kFrame ? cam.frameEntry(index).value_or(FrameEntry{}).length : 0;
        if (!credit.fits(size)) return out;
        std::uint64_t bytes = 0;
        auto env = build(kind, c, index, bytes);
        if (!env.ok()) {
          // It stays unacked, so the session cannot close on a lie; the
          // operator sees the error in the node's log.
          spdlog::error("session {}: cannot send: {}", spool_.id(), env.error());
          ++index;
          continue;
        }
        credit.take(bytes);
        in_flight_[{static_cast<int>(kind), c, index}] = Flight{now, bytes};
        out.push_back(std::move(env.value()));
        ++sent_;
        ++index;
        progress = true;
      }
    }
    next_camera_ = n ? (next_camera_ + 1) % n : 0;
  }
  return out;
}

Status Streamer::onAck(const v2::Ack& ack, Credit& credit) {
  if (ack.session_id() != spool_.id()) return fail("ack for another session " + ack.session_id());
  const auto camera = spool_.cameraIndex(ack.camera_id());
  if (!camera) return fail("ack names unknown camera '" + ack.camera_id() + "'");
  const Kind kind = ack.kind() == v2::RECORD_POSE ? Kind::kPose : Kind::kFrame;
  CameraSpool& cam = spool_.camera(*camera);
  for (std::uint64_t sequence : ack.sequences()) {
    const auto index = cam.indexOf(sequence);
    if (!index) return fail("ack names unknown frame " + std::to_string(sequence));
    if (!ack.ok()) {
      // Refused: it goes again after resend_after (a permanent refusal ends
      // the session from the trainer's side with SessionStop).
      spdlog::warn("session {}: trainer refused {} {} of {}: {}", spool_.id(),
                   kind == Kind::kPose ? "pose" : "frame", sequence, ack.camera_id(), ack.error());
      continue;
    }
    if (auto it = in_flight_.find({static_cast<int>(kind), *camera, *index});
        it != in_flight_.end()) {
      credit.give(it->second.bytes);
      in_flight_.erase(it);
    }
    const auto spool_kind = kind == Kind::kPose ? SpoolRecordKind::kPose : SpoolRecordKind::kFrame;
    if (auto st = cam.markAcked(spool_kind, sequence); !st.ok()) return st;
  }
  return okStatus();
}

void Streamer::resendAll() {
  for (auto& [key, flight] : in_flight_) flight.sent = Clock::TimePoint{};
}

void Streamer::abandon(Credit& credit) {
  for (auto& [key, flight] : in_flight_) credit.give(flight.bytes);
  in_flight_.clear();
}

bool Streamer::allAcked() const {
  for (std::size_t c = 0; c < spool_.cameraCount(); ++c) {
    if (!spool_.camera(c).fullyAcked()) return false;
  }
  return true;
}

v2::SessionManifest Streamer::manifest(const std::string& node_id) const {
  const SessionNotes notes = spool_.notes();
  v2::SessionManifest m;
  m.set_session_id(spool_.id());
  m.set_node_id(node_id);
  m.set_capture_seconds(notes.capture_seconds);
  m.set_pose_seconds(notes.pose_seconds);
  m.set_pose_source(spool_.meta().pose_source);
  m.set_incomplete_reason(notes.incomplete_reason);
  for (std::size_t c = 0; c < spool_.cameraCount(); ++c) {
    const CameraSpool& cam = spool_.camera(c);
    const auto s = cam.summary();
    v2::CameraManifest* cm = m.add_cameras();
    cm->set_camera_id(cam.cameraId());
    cm->set_frame_count(s.frames);
    cm->set_first_sequence(s.first_sequence);
    cm->set_last_sequence(s.last_sequence);
    cm->set_dropped(s.gaps);
    cm->set_checksum(s.checksum);
    cm->set_pose_count(s.poses);
    for (const auto& [camera, reason] : notes.camera_ended) {
      if (camera == cam.cameraId()) cm->set_end_reason(reason);
    }
  }
  return m;
}

}  // namespace booth
