#pragma once
// SessionController: what the capture node does with its sessions, as a
// state machine without sockets, threads or disks. The node feeds it the
// trainer's commands, its own stages' events and the passing of time
// (tick()); it answers with actions for the node to carry out. Time comes
// from the injected Clock, so every transition is unit-tested by hand.
//
// A session's phases:
//   capturing  cameras run until the deadline (SessionStart.seconds, bounded
//              by max_capture_seconds); frames stream as they are spooled
//   draining   cameras stopped; the pose stage catches up, the streamer
//              sends what is left
//   closing    every frame and pose acked: the manifest is sent (and sent
//              again until the trainer answers)
//   waiting    found in the spool at start-up; offered to the trainer in
//              Hello, nothing is sent until the trainer resumes it
// The session ends (its spool is deleted) when the trainer acks the
// manifest or stops the session.
//
// Threading: the node's control thread only.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/core/clock.h"

namespace booth {

struct SessionControllerConfig {
  double max_capture_seconds = 120;  // longer SessionStart requests are refused
  std::chrono::milliseconds manifest_resend{3000};
  // No message from the trainer for this long: it counts as away; what is
  // in flight is resent once it answers again.
  std::chrono::milliseconds trainer_silence{4000};
};

struct ControllerAction {
  enum class Kind {
    kStartCapture,  // open the session's spool and start every camera (seconds)
    kStopCapture,   // stop the cameras; the capture is complete
    kRefuse,        // tell the trainer this node cannot take the session (reason)
    kSendManifest,  // every record acked: send the closing manifest
    kDeleteSpool,   // the session is over: drop its spool (and stop its stages)
    kResendAll,     // the trainer was away: resend everything in flight
  };
  Kind kind;
  std::string session_id;
  double seconds = 0;
  std::string reason;
};
using ControllerActions = std::vector<ControllerAction>;

enum class SessionPhase { kCapturing, kDraining, kClosing, kWaiting };
const char* sessionPhaseName(SessionPhase phase);

class SessionController {
 public:
  SessionController(SessionControllerConfig config, const Clock& clock);

  // Trainer commands.
  ControllerActions onSessionStart(const std::string& id, double seconds);
  ControllerActions onSessionResume(const std::string& id);
  ControllerActions onSessionStop(const std::string& id, const std::string& reason);
  ControllerActions onManifestAck(const std::string& id, bool ok, const std::string& error);
  // Any message from the trainer (it is there).
  ControllerActions onTrainerHeard();

  // The node's own events.
  // A session found in the spool at start-up.
  void onRecovered(const std::string& id);
  // The session's capture could not start (every camera failed): refuse it.
  ControllerActions onCaptureFailed(const std::string& id, const std::string& reason);
  // Every camera ended before the deadline (unplugged, stalled for good).
  ControllerActions onAllCamerasEnded(const std::string& id);
  // Capture and pose stage are complete and every record is acked.
  ControllerActions onDrained(const std::string& id);
  // Deadlines and resends.
  ControllerActions tick();

  std::optional<SessionPhase> phase(const std::string& id) const;
  // Sessions whose records may be sent now (oldest first).
  std::vector<std::string> streaming() const;
  // Sessions in the spool the trainer has not taken back yet (for Hello).
  std::vector<std::string> waiting() const;
  bool capturing() const;
  bool trainerPresent() const { return trainer_present_; }
  std::uint64_t sessionsEnded() const { return ended_; }

 private:
  struct Session {
    SessionPhase phase = SessionPhase::kCapturing;
    Clock::TimePoint deadline{};
    Clock::TimePoint manifest_sent{};
    std::uint64_t order = 0;  // creation order, for streaming oldest first
  };
  ControllerActions end(const std::string& id);

  SessionControllerConfig config_;
  const Clock& clock_;
  std::map<std::string, Session> sessions_;
  std::uint64_t next_order_ = 0;
  std::uint64_t ended_ = 0;
  bool trainer_present_ = false;
  Clock::TimePoint last_heard_{};
};

}  // namespace booth
