#include "capture_node/session/session_controller.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace booth {

const char* sessionPhaseName(SessionPhase phase) {
  switch (phase) {
    case SessionPhase::kCapturing:
      return "capturing";
    case SessionPhase::kDraining:
      return "draining";
    case SessionPhase::kClosing:
      return "closing";
    case SessionPhase::kWaiting:
      return "waiting";
  }
  return "unknown";
}

SessionController::SessionController(SessionControllerConfig config, const Clock& clock)
    : config_(config), clock_(clock) {}

ControllerActions SessionController::onSessionStart(const std::string& id, double seconds) {
  if (sessions_.count(id)) return {};  // a repeated command: already ours
  if (!(seconds > 0) || !std::isfinite(seconds) || seconds > config_.max_capture_seconds) {
    std::ostringstream why;
    why << "capture of " << seconds << " s refused: this node captures at most "
        << config_.max_capture_seconds << " s per session";
    return {{ControllerAction::Kind::kRefuse, id, 0, why.str()}};
  }
  if (capturing()) {
    return {{ControllerAction::Kind::kRefuse, id, 0,
             "the node is still capturing another session"}};
  }
  Session s;
  s.phase = SessionPhase::kCapturing;
  s.deadline = clock_.steady() + std::chrono::duration_cast<Clock::Duration>(
                                     std::chrono::duration<double>(seconds));
  s.order = next_order_++;
  sessions_[id] = s;
  return {{ControllerAction::Kind::kStartCapture, id, seconds, {}}};
}

ControllerActions SessionController::onSessionResume(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.phase != SessionPhase::kWaiting) return {};
  it->second.phase = SessionPhase::kDraining;
  return {};
}

ControllerActions SessionController::onSessionStop(const std::string& id,
                                                   const std::string& /*reason*/) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return {};
  ControllerActions out;
  if (it->second.phase == SessionPhase::kCapturing) {
    out.push_back({ControllerAction::Kind::kStopCapture, id, 0, {}});
  }
  auto rest = end(id);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

ControllerActions SessionController::onManifestAck(const std::string& id, bool /*ok*/,
                                                   const std::string& /*error*/) {
  // Accepted or rejected, the trainer has decided about this session and
  // will never ask for its data again.
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.phase != SessionPhase::kClosing) return {};
  return end(id);
}

ControllerActions SessionController::onTrainerHeard() {
  const bool was_present = trainer_present_;
  trainer_present_ = true;
  last_heard_ = clock_.steady();
  if (was_present) return {};
  // Back after an absence: whatever was in flight may be lost.
  ControllerActions out;
  for (const auto& id : streaming()) out.push_back({ControllerAction::Kind::kResendAll, id, 0, {}});
  return out;
}

void SessionController::onRecovered(const std::string& id) {
  if (sessions_.count(id)) return;
  Session s;
  s.phase = SessionPhase::kWaiting;
  s.order = next_order_++;
  sessions_[id] = s;
}

ControllerActions SessionController::onCaptureFailed(const std::string& id,
                                                     const std::string& reason) {
  if (!sessions_.count(id)) return {};
  ControllerActions out{{ControllerAction::Kind::kRefuse, id, 0, reason}};
  auto rest = end(id);
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

ControllerActions SessionController::onAllCamerasEnded(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.phase != SessionPhase::kCapturing) return {};
  it->second.phase = SessionPhase::kDraining;
  return {{ControllerAction::Kind::kStopCapture, id, 0, {}}};
}

ControllerActions SessionController::onDrained(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.phase != SessionPhase::kDraining) return {};
  it->second.phase = SessionPhase::kClosing;
  it->second.manifest_sent = clock_.steady();
  return {{ControllerAction::Kind::kSendManifest, id, 0, {}}};
}

ControllerActions SessionController::tick() {
  const auto now = clock_.steady();
  ControllerActions out;
  if (trainer_present_ && now - last_heard_ >= config_.trainer_silence) trainer_present_ = false;
  for (auto& [id, s] : sessions_) {
    if (s.phase == SessionPhase::kCapturing && now >= s.deadline) {
      s.phase = SessionPhase::kDraining;
      out.push_back({ControllerAction::Kind::kStopCapture, id, 0, {}});
    } else if (s.phase == SessionPhase::kClosing && trainer_present_ &&
               now - s.manifest_sent >= config_.manifest_resend) {
      s.manifest_sent = now;
      out.push_back({ControllerAction::Kind::kSendManifest, id, 0, {}});
    }
  }
  return out;
}

ControllerActions SessionController::end(const std::string& id) {
  sessions_.erase(id);
  ++ended_;
  return {{ControllerAction::Kind::kDeleteSpool, id, 0, {}}};
}

std::optional<SessionPhase> SessionController::phase(const std::string& id) const {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  return it->second.phase;
}

std::vector<std::string> SessionController::streaming() const {
  std::vector<std::pair<std::uint64_t, std::string>> ordered;
  for (const auto& [id, s] : sessions_) {
    if (s.phase != SessionPhase::kWaiting) ordered.emplace_back(s.order, id);
  }
  std::sort(ordered.begin(), ordered.end());
  std::vector<std::string> out;
  for (auto& [order, id] : ordered) out.push_back(id);
  return out;
}

std::vector<std::string> SessionController::waiting() const {
  std::vector<std::string> out;
  for (const auto& [id, s] : sessions_) {
    if (s.phase == SessionPhase::kWaiting) out.push_back(id);
  }
  return out;
}

bool SessionController::capturing() const {
  return std::any_of(sessions_.begin(), sessions_.end(),
                     [](const auto& kv) { return kv.second.phase == SessionPhase::kCapturing; });
}

}  // namespace booth
