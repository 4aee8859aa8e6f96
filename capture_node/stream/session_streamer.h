#pragma once
// SessionStreamer: the delivery state of one captured session, without
// sockets. Decides what to send next under a credit window (at most
// `window` frames in flight), which frames to resend (not acked within
// `resend_after`), and builds the manifest once every frame is acked.
// Nothing is dropped: a frame leaves the streamer only through its ack.
//
// Threading: owned and called by the node's control thread only. Time is
// passed in, so tests drive it with a fake clock.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "booth.pb.h"
#include "capture_node/capture_session.h"

namespace booth {

class SessionStreamer {
 public:
  using Clock = std::chrono::steady_clock;

  SessionStreamer(SessionCapture capture, int window, std::chrono::milliseconds resend_after);

  // Up to the free credit, the records to send now: first any in-flight
  // record older than resend_after (again), then new ones in order.
  std::vector<v1::Envelope> due(Clock::time_point now);
  // Applies an ack. Returns false when it names no frame of this session.
  bool onAck(const v1::Ack& ack);

  bool allAcked() const { return acked_ == total_; }
  std::size_t total() const { return total_; }
  std::size_t acked() const { return acked_; }
  std::uint64_t resends() const { return resends_; }
  v1::SessionManifest manifest(const std::string& node_id) const;
  const std::string& sessionId() const { return capture_.session_id; }

 private:
  using Key = std::pair<std::size_t, std::size_t>;  // camera index, frame index
  v1::Envelope record(const Key& key) const;

  SessionCapture capture_;
  int window_;
  std::chrono::milliseconds resend_after_;
  std::size_t total_ = 0;
  std::size_t acked_ = 0;
  std::uint64_t resends_ = 0;
  Key next_{0, 0};                              // next never-sent record
  std::map<Key, Clock::time_point> in_flight_;  // sent, not acked
  std::vector<std::vector<bool>> acked_flags_;  // [camera][frame]
};

}  // namespace booth
