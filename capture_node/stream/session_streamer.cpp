#include "capture_node/stream/session_streamer.h"

#include "common/core/checksum.h"
#include "common/transport/wire.h"

namespace booth {

SessionStreamer::SessionStreamer(SessionCapture capture, int window,
                                 std::chrono::milliseconds resend_after)
    : capture_(std::move(capture)), window_(window), resend_after_(resend_after) {
  for (const auto& cam : capture_.cameras) {
    total_ += cam.frames.size();
    acked_flags_.emplace_back(cam.frames.size(), false);
  }
  // Skip cameras that captured nothing.
  while (next_.first < capture_.cameras.size() && capture_.cameras[next_.first].frames.empty()) {
    ++next_.first;
  }
}

v1::Envelope SessionStreamer::record(const Key& key) const {
  const CameraCapture& cam = capture_.cameras[key.first];
  const CapturedFrame& f = cam.frames[key.second];
  v1::Envelope env;
  v1::FrameRecord* rec = env.mutable_record();
  v1::Frame* frame = rec->mutable_frame();
  frame->set_session_id(capture_.session_id);
  frame->set_camera_id(f.camera_id);
  frame->set_sequence(f.sequence);
  frame->set_capture_time_us(f.capture_time_us);
  frame->set_encoding(f.encoding == FrameEncoding::kJpeg ? v1::ENCODING_JPEG
                                                         : v1::ENCODING_RAW_BGR);
  frame->set_width(static_cast<uint32_t>(f.width));
  frame->set_height(static_cast<uint32_t>(f.height));
  frame->set_data(f.data);
  poseToProto(cam.poses[key.second],
              capture_.pose_origin == PoseOrigin::kGroundTruth ? v1::POSE_SOURCE_GROUND_TRUTH
                                                               : v1::POSE_SOURCE_NETWORK,
              rec->mutable_keypoints());
  return env;
}

std::vector<v1::Envelope> SessionStreamer::due(Clock::time_point now) {
  std::vector<v1::Envelope> out;
  for (auto& [key, sent] : in_flight_) {
    if (now - sent >= resend_after_) {
      out.push_back(record(key));
      sent = now;
      ++resends_;
    }
  }
  while (static_cast<int>(in_flight_.size()) < window_ && next_.first < capture_.cameras.size()) {
    out.push_back(record(next_));
    in_flight_[next_] = now;
    if (++next_.second >= capture_.cameras[next_.first].frames.size()) {
      next_.second = 0;
      do {
        ++next_.first;
      } while (next_.first < capture_.cameras.size() &&
               capture_.cameras[next_.first].frames.empty());
    }
  }
  return out;
}

bool SessionStreamer::onAck(const v1::Ack& ack) {
  if (ack.session_id() != capture_.session_id) return false;
  for (std::size_t c = 0; c < capture_.cameras.size(); ++c) {
    const CameraCapture& cam = capture_.cameras[c];
    if (cam.camera.camera_id != ack.camera_id() || cam.frames.empty()) continue;
    // Sequences are increasing; frames may have gaps (dropped), so search.
    const std::uint64_t first = cam.frames.front().sequence;
    std::size_t idx = static_cast<std::size_t>(std::min<std::uint64_t>(
        ack.sequence() - std::min(ack.sequence(), first), cam.frames.size() - 1));
    while (idx > 0 && cam.frames[idx].sequence > ack.sequence()) --idx;
    if (cam.frames[idx].sequence != ack.sequence()) return false;
    const Key key{c, idx};
    if (!ack.ok()) {
      // The trainer could not store it: resend at the next due().
      auto it = in_flight_.find(key);
      if (it != in_flight_.end()) it->second = Clock::time_point{};
      return true;
    }
    if (!acked_flags_[c][idx]) {
      acked_flags_[c][idx] = true;
      ++acked_;
    }
    in_flight_.erase(key);
    return true;
  }
  return false;
}

v1::SessionManifest SessionStreamer::manifest(const std::string& node_id) const {
  v1::SessionManifest m;
  m.set_session_id(capture_.session_id);
  m.set_node_id(node_id);
  m.set_capture_seconds(capture_.capture_seconds);
  m.set_pose_seconds(capture_.pose_seconds);
  m.set_pose_source(capture_.pose_source);
  for (const CameraCapture& cam : capture_.cameras) {
    v1::CameraManifest* cm = m.add_cameras();
    cm->set_camera_id(cam.camera.camera_id);
    cm->set_frame_count(cam.frames.size());
    cm->set_dropped(cam.dropped);
    std::uint64_t sum = 0;
    for (const CapturedFrame& f : cam.frames) sum += fnv1a64(f.data);
    cm->set_checksum(sum);
    if (!cam.frames.empty()) {
      cm->set_first_sequence(cam.frames.front().sequence);
      cm->set_last_sequence(cam.frames.back().sequence);
    }
  }
  return m;
}

}  // namespace booth
