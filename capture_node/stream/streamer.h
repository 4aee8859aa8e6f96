#pragma once
// Streamer: the delivery state of one spooled session, without sockets.
// It decides what to send next: frames as soon as they are in the spool,
// pose records as soon as they are final, round-robin over the cameras,
// within the node's Credit; records not acked within resend_after go
// again (first), and after a reconnect everything in flight goes again.
// Acks are written to the spool (which frees acked frames' bytes), so a
// restarted node resends only what the trainer never confirmed. Nothing is
// dropped: a record leaves the streamer only through its ack.
//
// Threading: the node's control thread only. Time comes from the injected
// Clock, so tests drive it by hand.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "booth.pb.h"
#include "capture_node/spool/session_spool.h"
#include "capture_node/stream/credit.h"
#include "common/core/clock.h"
#include "common/core/result.h"

namespace booth {

struct StreamerConfig {
  std::chrono::milliseconds resend_after{3000};
};

class Streamer {
 public:
  Streamer(SessionSpool& spool, const Clock& clock, StreamerConfig config);

  // The envelopes to send now, taking credit for each.
  std::vector<v2::Envelope> due(Credit& credit);
  // Applies an ack (giving back its credit). Error: it names nothing this
  // session sent.
  Status onAck(const v2::Ack& ack, Credit& credit);
  // The link was down: everything in flight is resent at the next due().
  void resendAll();
  // Returns the credit of everything in flight (the session is dropped).
  void abandon(Credit& credit);

  // Every frame and pose in the spool is acked (capture and pose stage may
  // still add more: the caller checks they are complete).
  bool allAcked() const;
  std::uint64_t sent() const { return sent_; }
  std::uint64_t resends() const { return resends_; }
  std::uint64_t inFlight() const { return in_flight_.size(); }

  // The closing manifest, from the spool's index and notes.
  v2::SessionManifest manifest(const std::string& node_id) const;

 private:
  enum class Kind { kFrame = 0, kPose = 1 };
  using Key = std::tuple<int, std::size_t, std::size_t>;  // kind, camera, index
  struct Flight {
    Clock::TimePoint sent;
    std::uint64_t bytes = 0;
  };
  struct Cursor {
    std::size_t frame = 0;  // next frame index never sent
    std::size_t pose = 0;   // next pose index never sent
  };
  Result<v2::Envelope> build(Kind kind, std::size_t camera, std::size_t index,
                             std::uint64_t& bytes) const;
  bool sendable(Kind kind, std::size_t camera, std::size_t index) const;

  SessionSpool& spool_;
  const Clock& clock_;
  StreamerConfig config_;
  std::vector<Cursor> cursors_;
  std::map<Key, Flight> in_flight_;
  std::size_t next_camera_ = 0;  // round-robin start
  std::uint64_t sent_ = 0;
  std::uint64_t resends_ = 0;
};

}  // namespace booth
