#include "capture_node/capture_node.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "capture_node/pose/pose_worker_pool.h"
#include "capture_node/spool/spool.h"
#include "common/core/safe_id.h"
#include "common/transport/performer_status_wire.h"
#include "common/transport/wire.h"

namespace booth {
namespace {

constexpr std::size_t kEventQueue = 8192;

}  // namespace

CaptureNode::CaptureNode(CaptureNodeConfig config,
                         std::vector<std::unique_ptr<FrameSource>> sources,
                         std::vector<std::unique_ptr<PoseEstimator>> estimators,
                         const Clock& clock,
                         std::vector<std::unique_ptr<MoveNetEstimator>> crop)
    : config_(std::move(config)),
      clock_(clock),
      controller_(config_.controller, clock),
      link_(config_.link),
      events_(kEventQueue) {
  for (auto& s : sources) {
    cameras_.push_back(std::make_unique<CameraWorker>(std::move(s), clock_, config_.camera));
  }
  PoseFinalizerConfig pose = config_.pose;
  pose.board = &performer_board_;
  if (!config_.preview_dir.empty()) {
    pose.live = &live_;
    preview_ = std::make_unique<LivePreview>(
        LivePreviewConfig{config_.preview_dir, config_.preview_fps, {}}, live_);
  }
  pose_ = std::make_unique<PoseWorkerPool>(std::move(estimators), pose, clock_, std::move(crop),
                                           config_.top_down);
  spool_ = std::make_unique<Spool>(config_.spool_dir, config_.spool_budget_bytes);
  credit_.max_records = config_.default_credit_records;
  credit_.max_bytes = config_.default_credit_bytes;
}

CaptureNode::~CaptureNode() {
  for (auto& c : cameras_) c->stop();
  for (auto& [id, a] : active_) {
    for (auto& w : a.writers) w->close();
    if (a.in_pose_pool) pose_->removeSession(id);
  }
  link_.stop();
}

void CaptureNode::post(Event event) {
  // Camera and pose threads must not wait on the control thread: an event
  // that does not fit is logged (the queue holds thousands; only a stuck
  // control thread fills it).
  if (!events_.tryPush(event)) spdlog::error("capture node: event queue full, an event was lost");
}

CaptureNode::Active* CaptureNode::find(const std::string& id) {
  auto it = active_.find(id);
  return it == active_.end() ? nullptr : &it->second;
}

Status CaptureNode::run(std::stop_token stop) {
  if (auto st = spool_->open(); !st.ok()) return st;
  std::vector<std::string> problems;
  for (auto& session : spool_->recoverAll(problems)) {
    const std::string id = session->id();
    const SessionNotes notes = session->notes();
    if (!notes.capture_complete) {
      // The node stopped while the cameras ran: what was spooled is kept;
      // the capture is over and incomplete.
      std::int64_t first = 0, last = 0;
      for (std::size_t c = 0; c < session->cameraCount(); ++c) {
        const auto& cam = session->camera(c);
        if (cam.frameCount() == 0) continue;
        const auto a = cam.frameEntry(0), b = cam.frameEntry(cam.frameCount() - 1);
        if (a && b) {
          first = first == 0 ? a->capture_time_us : std::min(first, a->capture_time_us);
          last = std::max(last, b->capture_time_us);
        }
      }
      (void)session->noteIncomplete("the capture node stopped during capture");
      (void)session->noteCaptureComplete(static_cast<double>(last - first) / 1e6);
    }
    spdlog::info("spool: session {} left by a previous run; offering it to the trainer", id);
    controller_.onRecovered(id);
    Active a;
    a.streamer = std::make_unique<Streamer>(*session, clock_, config_.streamer);
    a.capture_done = true;
    a.pose_done = session->notes().pose_complete;
    a.spool = std::move(session);
    active_.emplace(id, std::move(a));
  }
  for (const auto& p : problems) spdlog::error("spool: {}", p);

  if (auto st = link_.start(
          [this](v2::Envelope&& env) {
            Event e = std::move(env);
            // The link thread may wait: ZeroMQ buffers meanwhile.
            events_.push(std::move(e));
          },
          [this](const std::string& endpoint) { post(LinkSwitched{endpoint}); });
      !st.ok()) {
    return st;
  }
  link_.send(hello());
  const auto started = clock_.steady();
  auto last_hello = started;
  auto last_performer_status = started;
  bool ever_heard = false;

  while (!stop.stop_requested()) {
    const bool busy = !controller_.streaming().empty();
    auto event = events_.pop(std::chrono::milliseconds(busy ? 5 : 50));
    while (event) {
      if (auto* env = std::get_if<v2::Envelope>(&*event)) {
        ever_heard = true;
        carryOut(controller_.onTrainerHeard());
        handleMessage(*env);
      } else if (auto* ce = std::get_if<CameraEvent>(&*event)) {
        handleCameraEvent(*ce);
      } else if (auto* pd = std::get_if<PoseDone>(&*event)) {
        if (Active* a = find(pd->session_id)) {
          a->pose_done = true;
          if (!pd->result.ok()) {
            spdlog::error("session {}: {}", pd->session_id, pd->result.error());
            (void)a->spool->noteIncomplete("pose stage: " + pd->result.error());
          } else {
            spdlog::info("session {}: every frame posed ({:.1f} s after capture)",
                         pd->session_id, a->spool->notes().pose_seconds);
          }
        }
      } else if (auto* ls = std::get_if<LinkSwitched>(&*event)) {
        // Another trainer: introduce the node at once (its unfinished
        // sessions with it); what the old one had not acked goes again.
        spdlog::warn("now streaming to the trainer at {}", ls->endpoint);
        for (auto& [id, a] : active_) {
          if (a.streamer) a.streamer->resendAll();
        }
        link_.send(hello());
        last_hello = clock_.steady();
      } else if (auto* sf = std::get_if<SpoolFailure>(&*event)) {
        if (Active* a = find(sf->session_id)) {
          (void)a->spool->noteIncomplete(sf->reason);
          carryOut(controller_.onAllCamerasEnded(sf->session_id));
        }
      }
      event = events_.tryPop();
    }

    const auto now = clock_.steady();
    if (!ever_heard && now - started > config_.connect_timeout) {
      return fail("trainer at " + link_.endpoint() + " did not answer within " +
                  std::to_string(config_.connect_timeout.count() / 1000.0).substr(0, 4) +
                  " s; start trainer_node first or fix --trainer");
    }
    carryOut(controller_.tick());
    if (now - last_hello >= config_.heartbeat) {
      link_.send(hello());
      last_hello = now;
    }
    if (config_.performer_status_interval.count() > 0 &&
        now - last_performer_status >= config_.performer_status_interval &&
        performer_board_.version() != performer_status_sent_) {
      sendPerformerStatus();
      last_performer_status = now;
    }
    if (controller_.trainerPresent()) stream();
    checkDrained();
    if (config_.max_sessions > 0 &&
        controller_.sessionsEnded() >= static_cast<std::uint64_t>(config_.max_sessions)) {
      break;
    }
  }
  if (!capturing_.empty()) stopCapture(capturing_);
  return okStatus();
}

void CaptureNode::handleMessage(v2::Envelope& env) {
  switch (env.body_case()) {
    case v2::Envelope::kHelloAck: {
      const auto& ack = env.hello_ack();
      if (ack.credit_frames() > 0) credit_.max_records = ack.credit_frames();
      if (ack.credit_bytes() > 0) credit_.max_bytes = ack.credit_bytes();
      break;
    }
    case v2::Envelope::kSessionStart:
      carryOut(controller_.onSessionStart(env.session_start().session_id(),
                                          env.session_start().seconds()));
      break;
    case v2::Envelope::kSessionResume: {
      const std::string& id = env.session_resume().session_id();
      const bool was_waiting = controller_.phase(id) == SessionPhase::kWaiting;
      carryOut(controller_.onSessionResume(id));
      Active* a = find(id);
      if (was_waiting && a) {
        spdlog::info("session {}: the trainer resumed it; sending what is left", id);
        if (!a->pose_done && !a->in_pose_pool) {
          a->in_pose_pool = true;
          pose_->addSession(*a->spool, [this](const std::string& sid, Status result) {
            post(PoseDone{sid, std::move(result)});
          });
          pose_->captureComplete(id);
        }
      }
      break;
    }
    case v2::Envelope::kSessionStop: {
      const auto& s = env.session_stop();
      if (find(s.session_id())) {
        spdlog::warn("session {}: the trainer ended it: {}", s.session_id(), s.reason());
      }
      carryOut(controller_.onSessionStop(s.session_id(), s.reason()));
      break;
    }
    case v2::Envelope::kAck: {
      Active* a = find(env.ack().session_id());
      if (!a || !a->streamer) break;
      if (auto st = a->streamer->onAck(env.ack(), credit_); !st.ok()) {
        spdlog::warn("session {}: ignoring an ack: {}", env.ack().session_id(), st.error());
      }
      break;
    }
    case v2::Envelope::kManifestAck: {
      const auto& m = env.manifest_ack();
      if (m.ok()) {
        spdlog::info("session {}: the trainer verified the manifest; spool deleted", m.session_id());
      } else if (find(m.session_id())) {
        spdlog::error("session {}: the trainer rejected the manifest: {}", m.session_id(),
                      m.error());
      }
      carryOut(controller_.onManifestAck(m.session_id(), m.ok(), m.error()));
      break;
    }
    case v2::Envelope::kProtocolError:
      spdlog::error("the trainer refused a message: {}", env.protocol_error().error());
      break;
    default:
      spdlog::warn("ignoring unexpected message (case {}) from the trainer",
                   static_cast<int>(env.body_case()));
  }
}

void CaptureNode::handleCameraEvent(const CameraEvent& event) {
  if (event.kind != CameraEvent::Kind::kEnded || capturing_.empty()) return;
  Active* a = find(capturing_);
  if (!a) return;
  (void)a->spool->noteCameraEnded(event.camera_id, event.reason);
  (void)a->spool->noteIncomplete("camera " + event.camera_id + " ended: " + event.reason);
  const bool any_running = std::any_of(cameras_.begin(), cameras_.end(),
                                       [](const auto& c) { return c->stats().state != CameraState::kGone; });
  if (!any_running) carryOut(controller_.onAllCamerasEnded(capturing_));
}

void CaptureNode::carryOut(const ControllerActions& actions) {
  for (const ControllerAction& a : actions) {
    switch (a.kind) {
      case ControllerAction::Kind::kStartCapture:
        startCapture(a.session_id, a.seconds);
        break;
      case ControllerAction::Kind::kStopCapture:
        stopCapture(a.session_id);
        break;
      case ControllerAction::Kind::kRefuse:
        refuse(a.session_id, a.reason);
        break;
      case ControllerAction::Kind::kSendManifest:
        sendManifest(a.session_id);
        break;
      case ControllerAction::Kind::kDeleteSpool:
        dropSession(a.session_id);
        break;
      case ControllerAction::Kind::kResendAll:
        if (Active* s = find(a.session_id); s && s->streamer) s->streamer->resendAll();
        break;
    }
  }
}

void CaptureNode::startCapture(const std::string& id, double seconds) {
  SessionMeta meta;
  meta.session_id = id;
  meta.seconds = seconds;
  meta.created_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             clock_.wall().time_since_epoch())
                             .count();
  meta.pose_source = pose_->describe();
  for (const auto& c : cameras_) meta.cameras.push_back(c->description());
  auto spool = isSafeId(id) ? spool_->create(meta)
                                   : Result<std::unique_ptr<SessionSpool>>(
                                         fail("session id '" + id + "' is not a safe name"));
  if (!spool.ok()) {
    spdlog::error("session {}: cannot spool it: {}", id, spool.error());
    carryOut(controller_.onCaptureFailed(id, "capture node " + config_.node_id +
                                                 " cannot spool the session: " + spool.error()));
    return;
  }
  performer_board_.clear();  // the last session's boxes are not this one's
  Active a;
  a.spool = std::move(spool.value());
  a.streamer = std::make_unique<Streamer>(*a.spool, clock_, config_.streamer);
  a.capture_started = clock_.steady();
  SessionSpool& s = *a.spool;
  for (std::size_t c = 0; c < s.cameraCount(); ++c) {
    a.writers.push_back(std::make_unique<SpoolWriter>(
        s.camera(c), config_.writer, [this] { pose_->notify(); },
        [this, id](const std::string& reason) { post(SpoolFailure{id, reason}); }));
  }
  a.in_pose_pool = true;
  pose_->addSession(s, [this](const std::string& sid, Status result) {
    post(PoseDone{sid, std::move(result)});
  });
  int started = 0;
  std::string errors;
  for (std::size_t c = 0; c < cameras_.size(); ++c) {
    SpoolWriter* writer = a.writers[c].get();
    auto st = cameras_[c]->start([writer](CapturedFrame& f) { return writer->offer(f); },
                                 [this](const CameraEvent& e) { post(e); });
    if (st.ok()) {
      ++started;
    } else {
      spdlog::error("session {}: {}", id, st.error());
      errors += (errors.empty() ? "" : "; ") + st.error();
      (void)s.noteCameraEnded(cameras_[c]->cameraId(), st.error());
      (void)s.noteIncomplete(st.error());
    }
  }
  capturing_ = id;
  active_.emplace(id, std::move(a));
  if (started == 0) {
    stopCapture(id);
    carryOut(controller_.onCaptureFailed(id, "capture node " + config_.node_id +
                                                 ": no camera could start: " + errors));
    return;
  }
  spdlog::info("session {}: capturing {:.1f} s from {} camera(s)", id, seconds, started);
}

void CaptureNode::stopCapture(const std::string& id) {
  Active* a = find(id);
  if (!a || a->capture_done) return;
  if (capturing_ == id) {
    for (auto& c : cameras_) c->stop();
    capturing_.clear();
  }
  for (auto& w : a->writers) w->close();  // drains and syncs
  std::uint64_t written = 0, refused = 0;
  for (const auto& w : a->writers) {
    written += w->written();
    refused += w->refused();
  }
  a->writers.clear();
  a->capture_done = true;
  const double seconds = secondsBetween(a->capture_started, clock_.steady());
  (void)a->spool->noteCaptureComplete(seconds);
  pose_->captureComplete(id);
  spdlog::info("session {}: capture done: {} frames spooled in {:.1f} s{}", id, written, seconds,
               refused ? " (" + std::to_string(refused) + " refused by the spool)" : "");
}

void CaptureNode::dropSession(const std::string& id) {
  Active* a = find(id);
  if (!a) return;
  if (capturing_ == id) {
    for (auto& c : cameras_) c->stop();
    capturing_.clear();
  }
  for (auto& w : a->writers) w->close();
  if (a->in_pose_pool) pose_->removeSession(id);
  if (a->streamer) a->streamer->abandon(credit_);
  if (auto st = a->spool->remove(); !st.ok()) spdlog::error("{}", st.error());
  active_.erase(id);
}

void CaptureNode::refuse(const std::string& id, const std::string& reason) {
  spdlog::error("session {}: refused: {}", id, reason);
  v2::Envelope env;
  v2::SessionManifest* m = env.mutable_manifest();
  m->set_session_id(id);
  m->set_node_id(config_.node_id);
  m->set_error(reason);
  link_.send(std::move(env));
}

void CaptureNode::sendManifest(const std::string& id) {
  Active* a = find(id);
  if (!a || !a->streamer) return;
  v2::Envelope env;
  *env.mutable_manifest() = a->streamer->manifest(config_.node_id);
  std::uint64_t frames = 0;
  for (const auto& c : env.manifest().cameras()) frames += c.frame_count();
  spdlog::info("session {}: every record acked ({} frames, {} resends); sending the manifest", id,
               frames, a->streamer->resends());
  link_.send(std::move(env));
}

void CaptureNode::stream() {
  for (const std::string& id : controller_.streaming()) {
    Active* a = find(id);
    if (!a || !a->streamer) continue;
    for (v2::Envelope& env : a->streamer->due(credit_)) {
      if (!link_.send(std::move(env))) return;  // the link's queue is full: later
    }
  }
}

void CaptureNode::checkDrained() {
  for (const std::string& id : controller_.streaming()) {
    Active* a = find(id);
    if (!a || !a->capture_done || !a->pose_done || !a->streamer) continue;
    if (controller_.phase(id) != SessionPhase::kDraining) continue;
    if (a->streamer->allAcked()) carryOut(controller_.onDrained(id));
  }
}

void CaptureNode::sendPerformerStatus() {
  const std::uint64_t version = performer_board_.version();
  v2::Envelope env;
  performerStatusToProto(performer_board_.snapshot(), env.mutable_performer_status());
  // Not sent (the link's queue is full): tried again next interval.
  if (link_.send(std::move(env))) performer_status_sent_ = version;
}

v2::Envelope CaptureNode::hello() const {
  v2::Envelope env;
  v2::Hello* h = env.mutable_hello();
  h->set_node_id(config_.node_id);
  h->set_pose_source(pose_->describe());
  for (const auto& c : cameras_) {
    const CameraDescription& d = c->description();
    const CameraWorkerStats s = c->stats();
    v2::CameraInfo* info = h->add_cameras();
    info->set_camera_id(d.camera_id);
    info->set_kind(d.kind);
    info->set_width(static_cast<std::uint32_t>(d.width));
    info->set_height(static_cast<std::uint32_t>(d.height));
    info->set_fps(d.fps);
    info->set_measured_fps(s.measured_fps);
    info->set_frames(s.delivered);
    info->set_dropped(s.source_gaps + s.sink_dropped);
    info->set_error_frames(s.error_frames);
    info->set_pixel_format(d.pixel_format);
    info->set_state(cameraStateName(s.state));
  }
  for (const std::string& id : controller_.waiting()) {
    auto it = active_.find(id);
    if (it == active_.end()) continue;
    v2::UnfinishedSession* u = h->add_unfinished();
    u->set_session_id(id);
    std::uint64_t frames = 0, poses = 0;
    for (std::size_t c = 0; c < it->second.spool->cameraCount(); ++c) {
      const auto s = it->second.spool->camera(c).summary();
      frames += s.frames - s.frames_acked;
      poses += s.poses - s.poses_acked;
    }
    u->set_frames_pending(frames);
    u->set_poses_pending(poses);
    u->set_capture_complete(it->second.spool->notes().incomplete_reason !=
                            "the capture node stopped during capture");
  }
  return env;
}

}  // namespace booth
