#include "trainer_node/ingest/session_intake.h"

#include <algorithm>
#include <random>
#include <set>

#include <spdlog/spdlog.h>

#include "common/image/frame_image.h"
#include "common/transport/wire.h"
#include "trainer_node/store/disk_space.h"
#include "trainer_node/store/job_store.h"  // nowMillis
#include "trainer_node/store/store_errors.h"

namespace booth {
namespace {

// Refused frames remembered per session (so that their poses are refused).
constexpr std::size_t kMaxRefusedFrames = 65536;

std::string newSessionId(const Clock& clock) {
  static std::mt19937_64 rng{std::random_device{}()};
  const auto t = std::chrono::system_clock::to_time_t(clock.wall());
  std::tm tm{};
  localtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rng() & 0xffff));
  return std::string("s") + stamp + "-" + suffix;
}

RecordAnswer refused(std::string error) { return RecordAnswer{false, std::move(error)}; }

}  // namespace

std::string jobIdForSession(const std::string& session_id) { return "job-" + session_id; }

struct SessionIntake::OpenSession {
  JobRecord job;
  Clock::TimePoint started;
  std::set<std::string> members;                           // node ids asked to capture
  std::map<std::string, std::set<std::string>> cameras;    // node id -> announced cameras
  std::set<std::string> waiting;                           // members whose manifest is due
  std::map<std::string, Clock::TimePoint> last_progress;   // per member
  std::map<std::pair<std::string, std::string>, std::int64_t> frames;  // (node, camera) -> count
  std::uint64_t total_frames = 0;
  double capture_seconds = 0, pose_seconds = 0;
  std::string incomplete;  // why the capture is not whole, from the manifests
  Clock::TimePoint last_publish{};
  // The last record of each member that was refused, and why: a member that
  // stalls because its records keep being refused fails with that reason.
  std::map<std::string, std::string> last_refusal;
  // Frames refused (node, camera -> sequences): their poses are refused
  // too. Bounded by kMaxRefusedFrames per session.
  std::map<std::pair<std::string, std::string>, std::set<std::uint64_t>> refused_frames;
  std::size_t refused_frame_count = 0;
  // Set when the session cannot go on (its frames cannot be stored: the
  // disk is full); checkStalls() fails it.
  std::string fatal;
};

SessionIntake::SessionIntake(const IngestConfig& config, JobQueue& jobs, SessionSink& sessions,
                             const Clock& clock)
    : config_(config), jobs_(jobs), sessions_(sessions), clock_(clock) {}

SessionIntake::~SessionIntake() = default;

void SessionIntake::reopenReceiving() {
  for (const JobRecord& job : jobs_.list(1000)) {
    if (job.state != JobState::kReceiving) continue;
    if (!config_.gateway_id.empty() && !job.gateway_id.empty() &&
        job.gateway_id != config_.gateway_id) {
      // Another gateway's session, which it may still be receiving.
      spdlog::info("session {}: receiving on gateway '{}', not this one ('{}'): left to it",
                   job.session_id, job.gateway_id, config_.gateway_id);
      continue;
    }
    auto session = std::make_unique<OpenSession>();
    session->job = job;
    session->started = clock_.steady();
    for (const std::string& id : job.nodes) {
      session->members.insert(id);
      session->waiting.insert(id);
      session->last_progress[id] = clock_.steady();
    }
    for (const CameraFrames& c : job.cameras) {
      if (c.node.empty() || c.camera.empty()) continue;
      session->cameras[c.node].insert(c.camera);
      auto totals = sessions_.totals(job.session_id, c.node, c.camera);
      std::int64_t frames = c.frames;  // what the job last showed
      if (totals.ok()) {
        frames = static_cast<std::int64_t>(totals->frames);
      } else {
        // Not zero: the count is set right when the node's manifest verifies.
        spdlog::warn("session {}: cannot count what node {} camera {} stored ({}); showing the "
                     "job's last count, {}, until its manifest is verified",
                     job.session_id, c.node, c.camera, totals.error(), frames);
      }
      session->frames[{c.node, c.camera}] = frames;
      session->total_frames += static_cast<std::uint64_t>(std::max<std::int64_t>(0, frames));
    }
    if (session->members.empty()) {
      if (auto st = jobs_.failIntake(
              job, "interrupted: the trainer restarted and the session names no capture node");
          !st.ok()) {
        spdlog::error("session {}: {}", job.session_id, st.message());
      }
      continue;
    }
    spdlog::info("session {}: still receiving after a trainer restart; waiting for {} node(s)",
                 job.session_id, session->members.size());
    open_[job.session_id] = std::move(session);
  }
}

Result<JobRecord> SessionIntake::open(const SessionRequest& request,
                                      const std::vector<NodeInfo>& members, NodeMessenger& out) {
  if (!open_.empty()) {
    return fail("session " + open_.begin()->first +
                " is still being captured or received; start the next one when its job is "
                "queued (or cancel it)");
  }
  if (config_.free_space) {
    // A session that cannot be stored would only fail later, with the
    // visitor waiting: refuse it now, saying why.
    auto free = config_.free_space();
    if (!free.ok()) return fail(free.error());
    if (auto why = lowSpaceReason(sessions_.location(), free.value(),
                                  config_.min_free_bytes);
        !why.empty()) {
      return fail(why);
    }
  }
  auto session = std::make_unique<OpenSession>();
  JobRecord& job = session->job;
  job.session_id = newSessionId(clock_);
  job.id = jobIdForSession(job.session_id);
  job.state = JobState::kReceiving;
  job.gateway_id = config_.gateway_id;
  job.created_ms = nowMillis();
  job.capture_seconds_requested = request.capture_seconds;
  job.train_budget_seconds = request.train_budget_seconds;
  job.choreography = request.choreography;
  job.may_improve_booth = request.may_improve_booth;
  int cameras = 0;
  for (const NodeInfo& node : members) {
    if (session->members.count(node.node_id)) continue;
    job.nodes.push_back(node.node_id);
    session->members.insert(node.node_id);
    session->waiting.insert(node.node_id);
    session->last_progress[node.node_id] = clock_.steady();
    for (const auto& c : node.cameras) {
      session->cameras[node.node_id].insert(c.camera_id);
      session->frames[{node.node_id, c.camera_id}] = 0;
      ++cameras;
    }
  }
  std::sort(job.nodes.begin(), job.nodes.end());
  for (const auto& [key, count] : session->frames) job.cameras.push_back({key.first, key.second, 0});
  job.detail = "capturing " + std::to_string(static_cast<int>(request.capture_seconds)) +
               " s on " + std::to_string(cameras) + " camera(s) of " +
               std::to_string(session->members.size()) + " node(s)";
  if (auto st = jobs_.add(job); !st.ok()) return fail("cannot record the job: " + st.message());
  v2::Envelope env;
  env.mutable_session_start()->set_session_id(job.session_id);
  env.mutable_session_start()->set_seconds(request.capture_seconds);
  for (const std::string& node : session->members) out.toNode(node, env);
  session->started = clock_.steady();
  spdlog::info("session {} started: {}", job.session_id, job.detail);
  JobRecord answer = job;
  open_[job.session_id] = std::move(session);
  return answer;
}

bool SessionIntake::completed(const std::string& session_id) {
  auto job = jobs_.get(jobIdForSession(session_id));
  return job && job->state != JobState::kFailed && job->state != JobState::kCancelled &&
         job->state != JobState::kReceiving;
}

Result<SessionIntake::OpenSession*> SessionIntake::memberSession(const std::string& node_id,
                                                                 const std::string& session_id,
                                                                 const std::string& camera_id) {
  auto it = open_.find(session_id);
  if (it == open_.end()) {
    return fail("session " + quotedForLog(session_id) + " is not open on the trainer");
  }
  OpenSession& s = *it->second;
  if (!s.members.count(node_id)) {
    return fail("node " + node_id + " is not a member of session " + session_id);
  }
  const auto cams = s.cameras.find(node_id);
  if (cams == s.cameras.end() || !cams->second.count(camera_id)) {
    return fail("camera " + quotedForLog(camera_id) + " was not announced by node " + node_id +
                " when session " + session_id + " started");
  }
  return &s;
}

RecordAnswer SessionIntake::frame(const std::string& node_id, const v2::Frame& f) {
  auto refuse = [&](const std::string& error) {
    ++frames_rejected_;
    return refused(error);
  };
  auto session = memberSession(node_id, f.session_id(), f.camera_id());
  if (!session.ok()) {
    // A late resend of a session that is already complete is fine to ack.
    if (completed(f.session_id())) return {};
    return refuse(session.error());
  }
  OpenSession& s = *session.value();
  auto refuse_member = [&](const std::string& error) {
    s.last_refusal[node_id] =
        "camera " + f.camera_id() + " frame " + std::to_string(f.sequence()) + ": " + error;
    if (s.refused_frame_count < kMaxRefusedFrames &&
        s.refused_frames[{node_id, f.camera_id()}].insert(f.sequence()).second) {
      ++s.refused_frame_count;
    }
    return refuse(error);
  };
  if (f.data().size() > config_.max_frame_bytes) {
    return refuse_member("frame of " + std::to_string(f.data().size()) +
                         " bytes is larger than the " + std::to_string(config_.max_frame_bytes) +
                         " allowed");
  }
  FrameToAppend frame;
  frame.sequence = f.sequence();
  frame.capture_time_us = f.capture_time_us();
  frame.data = f.data();
  if (f.encoding() == v2::ENCODING_JPEG) {
    const auto size = jpegSize(f.data());
    if (!size) return refuse_member("frame " + std::to_string(f.sequence()) + " is not a JPEG");
    frame.encoding = FrameEncoding::kJpeg;
    frame.width = size->width;
    frame.height = size->height;
  } else if (f.encoding() == v2::ENCODING_RAW_BGR) {
    frame.encoding = FrameEncoding::kRawBgr;
    frame.width = static_cast<int>(f.width());
    frame.height = static_cast<int>(f.height());
    if (static_cast<std::uint64_t>(frame.width) * static_cast<std::uint64_t>(frame.height) * 3 !=
        f.data().size()) {
      return refuse_member("raw frame size does not match " + std::to_string(f.width()) + "x" +
                           std::to_string(f.height()));
    }
  } else {
    return refuse_member("frame encoding " + std::to_string(f.encoding()) + " is not supported");
  }
  // The frame index stores sizes as 16-bit numbers; an empty frame has no
  // picture to train on.
  if (frame.width <= 0 || frame.height <= 0 || frame.width > 65535 || frame.height > 65535) {
    return refuse_member("frame of " + std::to_string(frame.width) + "x" +
                         std::to_string(frame.height) +
                         " pixels: width and height must be 1 to 65535");
  }
  if (static_cast<std::uint64_t>(frame.width) * static_cast<std::uint64_t>(frame.height) >
      config_.max_frame_pixels) {
    return refuse_member("frame of " + std::to_string(frame.width) + "x" +
                         std::to_string(frame.height) + " pixels is larger than the " +
                         std::to_string(config_.max_frame_pixels) + " pixels allowed");
  }
  if (s.total_frames >= config_.max_frames_per_session) {
    return refuse_member("session " + f.session_id() + " already has the " +
                         std::to_string(config_.max_frames_per_session) +
                         " frames a session may have");
  }
  auto written = sessions_.writeFrame(f.session_id(), node_id, f.camera_id(), frame);
  if (!written.ok()) {
    spdlog::error("session {}: {}", f.session_id(), written.error());
    if (looksLikeDiskFull(written.error()) && s.fatal.empty()) {
      s.fatal = "disk full: the trainer could not store the session's frames (" +
                written.error() + ")";
    }
    // The trainer's fault, not the frame's: the node resends it, and its pose
    // must then be taken, so the frame is not remembered as refused.
    s.last_refusal[node_id] = "camera " + f.camera_id() + " frame " +
                              std::to_string(f.sequence()) + ": " + written.error();
    return refuse(written.error());
  }
  if (written.value()) {
    ++s.frames[{node_id, f.camera_id()}];
    ++s.total_frames;
    ++frames_received_;
    bytes_received_ += f.data().size();
    s.last_progress[node_id] = clock_.steady();
  }
  return {};
}

RecordAnswer SessionIntake::pose(const std::string& node_id, const v2::PoseRecord& p) {
  auto session = memberSession(node_id, p.session_id(), p.camera_id());
  if (!session.ok()) {
    if (completed(p.session_id())) return {};
    return refused(session.error());
  }
  if (const auto refused_frames = session.value()->refused_frames.find({node_id, p.camera_id()});
      refused_frames != session.value()->refused_frames.end() &&
      refused_frames->second.count(p.sequence())) {
    return refused("frame " + std::to_string(p.sequence()) +
                   " of this camera was refused, so its pose is not taken");
  }
  auto record = poseRecordFromProto(p);
  if (!record.ok()) return refused(record.error());
  auto written = sessions_.writePose(p.session_id(), node_id, record.value());
  if (!written.ok()) {
    spdlog::error("session {}: {}", p.session_id(), written.error());
    return refused(written.error());
  }
  if (written.value()) {
    ++poses_received_;
    session.value()->last_progress[node_id] = clock_.steady();
  }
  return {};
}

Status SessionIntake::sync() {
  auto st = sessions_.sync();
  if (st.ok()) return st;
  for (auto& [id, session] : open_) {
    if (looksLikeDiskFull(st.error()) && session->fatal.empty()) {
      session->fatal = "disk full: " + st.error();
    }
    // The batch's records are refused (acked as such): a member that stalls
    // meanwhile fails naming the store, not its camera.
    for (const std::string& node : session->waiting) {
      session->last_refusal[node] = "storing its records in " + sessions_.location() + ": " +
                                    st.error();
    }
  }
  return st;
}

void SessionIntake::publish(OpenSession& session, bool force) {
  if (!force && secondsBetween(session.last_publish, clock_.steady()) < 0.5) return;
  std::vector<CameraFrames> cams;
  std::int64_t total = 0;
  for (const auto& [key, count] : session.frames) {
    cams.push_back({key.first, key.second, count});
    total += count;
  }
  if (!force && total == session.job.frames_received) return;
  session.job.cameras = std::move(cams);
  session.job.frames_received = total;
  if (total > 0 && session.job.state == JobState::kReceiving) {
    session.job.detail = "received " + std::to_string(total) + " frames";
  }
  if (auto st = jobs_.updateIntake(session.job); !st.ok()) {
    spdlog::error("job update: {}", st.message());
  }
  session.last_publish = clock_.steady();
}

void SessionIntake::publishProgress() {
  for (auto& [id, session] : open_) publish(*session, false);
}

void SessionIntake::manifest(const std::string& node_id, const v2::SessionManifest& manifest,
                             const std::function<void(const v2::Envelope&)>& reply_to,
                             NodeMessenger& out) {
  v2::Envelope reply;
  v2::ManifestAck* ack = reply.mutable_manifest_ack();
  ack->set_session_id(manifest.session_id().substr(0, 128));
  auto it = open_.find(manifest.session_id());
  if (it == open_.end() || !it->second->members.count(node_id)) {
    // A repeated manifest after the session closed: answer as before.
    auto job = jobs_.get(jobIdForSession(manifest.session_id()));
    const bool member =
        job && std::find(job->nodes.begin(), job->nodes.end(), node_id) != job->nodes.end();
    ack->set_ok(member && job->state != JobState::kFailed && job->state != JobState::kCancelled &&
                job->state != JobState::kReceiving);
    if (!ack->ok()) {
      ack->set_error("session " + quotedForLog(manifest.session_id()) + " is not open for node " +
                     node_id);
    }
    return reply_to(reply);
  }
  OpenSession& session = *it->second;
  if (!session.waiting.count(node_id)) {
    ack->set_ok(true);  // already verified; the first answer was lost
    return reply_to(reply);
  }
  if (!manifest.error().empty()) {
    ack->set_ok(true);
    reply_to(reply);
    end(out, manifest.session_id(),
        "capture node " + node_id + ": " + manifest.error().substr(0, 500), JobEvent::kFail);
    return;
  }
  // The manifest is judged, and the job queued, only on durable records
  // (a resend taken in this batch may not be yet). A store that cannot
  // make them durable leaves the manifest unanswered: the node sends it
  // again (every few seconds) until the trainer answers. sync() notes the
  // reason for the stall check.
  if (auto st = sync(); !st.ok()) {
    spdlog::warn("session {}: node {}'s manifest waits: {}", manifest.session_id(), node_id,
                 st.error());
    return;
  }
  // Every announced camera must be accounted for, and nothing else.
  std::string problem;
  std::map<std::string, CameraTotals> stored;  // by camera
  const auto& announced = session.cameras[node_id];
  std::set<std::string> listed;
  for (const auto& cam : manifest.cameras()) listed.insert(cam.camera_id());
  for (const std::string& c : announced) {
    if (!listed.count(c)) problem = "the manifest does not cover camera " + c;
  }
  for (const auto& cam : manifest.cameras()) {
    if (!problem.empty()) break;
    if (!announced.count(cam.camera_id())) {
      problem = "the manifest lists camera " + quotedForLog(cam.camera_id()) +
                " that was not announced";
      break;
    }
    auto read = sessions_.totals(manifest.session_id(), node_id, cam.camera_id());
    if (!read.ok() && isStoreUnreachable(read.error())) {
      // A passing outage is no verdict on the node's data: it resends.
      session.last_refusal[node_id] = "its manifest (camera " + cam.camera_id() +
                                      "): " + read.error();
      spdlog::warn("session {}: node {}'s manifest waits: {}", manifest.session_id(), node_id,
                   read.error());
      return;
    }
    if (!read.ok()) {
      problem = "camera " + cam.camera_id() + ": the trainer cannot read what it stored: " +
                read.error();
      break;
    }
    const CameraTotals& totals = read.value();
    stored[cam.camera_id()] = totals;
    if (totals.frames != cam.frame_count()) {
      problem = "camera " + cam.camera_id() + ": the manifest says " +
                std::to_string(cam.frame_count()) + " frames, the trainer stored " +
                std::to_string(totals.frames);
    } else if (totals.checksum != cam.checksum()) {
      problem = "camera " + cam.camera_id() + ": frame checksums do not match";
    } else if (totals.poses != cam.pose_count()) {
      problem = "camera " + cam.camera_id() + ": the manifest says " +
                std::to_string(cam.pose_count()) + " poses, the trainer stored " +
                std::to_string(totals.poses);
    }
  }
  if (!problem.empty()) {
    ack->set_ok(false);
    ack->set_error(problem);
    reply_to(reply);
    end(out, manifest.session_id(),
        "the data of node " + node_id + " does not match its manifest: " + problem,
        JobEvent::kFail);
    return;
  }
  ack->set_ok(true);
  reply_to(reply);
  session.waiting.erase(node_id);
  // What is stored is the count (after a restart the intake's own may have
  // started from less).
  for (const auto& [camera, totals] : stored) {
    std::int64_t& count = session.frames[{node_id, camera}];
    session.total_frames = session.total_frames - static_cast<std::uint64_t>(std::max<std::int64_t>(0, count)) +
                           totals.frames;
    count = static_cast<std::int64_t>(totals.frames);
  }
  session.capture_seconds = std::max(session.capture_seconds, manifest.capture_seconds());
  session.pose_seconds = std::max(session.pose_seconds, manifest.pose_seconds());
  if (!manifest.incomplete_reason().empty() && session.incomplete.empty()) {
    session.incomplete = "node " + node_id + ": " + manifest.incomplete_reason().substr(0, 300);
  }
  spdlog::info("session {}: node {} closed its stream ({} camera(s)){}", manifest.session_id(),
               node_id, manifest.cameras_size(),
               manifest.incomplete_reason().empty()
                   ? std::string()
                   : " incomplete: " + quotedForLog(manifest.incomplete_reason()));
  if (!session.waiting.empty()) return;

  JobRecord& job = session.job;
  job.capture_seconds = session.capture_seconds;
  job.pose_seconds = session.pose_seconds;
  job.transfer_seconds = std::max(0.0, secondsBetween(session.started, clock_.steady()) -
                                           session.capture_seconds - session.pose_seconds);
  publish(session, true);
  job.detail = session.incomplete.empty()
                   ? "queued for training"
                   : "queued for training (capture incomplete: " + session.incomplete + ")";
  if (auto st = jobs_.enqueue(job); !st.ok()) {
    // Cancelled or failed meanwhile: the session is over either way.
    spdlog::warn("session {}: {}", job.session_id, st.message());
  } else {
    spdlog::info("session {}: {} frames verified; job {} queued", job.session_id,
                 job.frames_received, job.id);
  }
  sessions_.close(job.session_id);
  open_.erase(it);
}

v2::Envelope SessionIntake::resume(const std::string& node_id,
                                   const v2::UnfinishedSession& unfinished) {
  v2::Envelope reply;
  auto it = open_.find(unfinished.session_id());
  if (it != open_.end() && it->second->members.count(node_id) &&
      it->second->waiting.count(node_id)) {
    reply.mutable_session_resume()->set_session_id(unfinished.session_id());
    it->second->last_progress[node_id] = clock_.steady();
    spdlog::info("session {}: node {} resumes it ({} frames and {} poses pending)",
                 unfinished.session_id(), node_id, unfinished.frames_pending(),
                 unfinished.poses_pending());
  } else {
    reply.mutable_session_stop()->set_session_id(unfinished.session_id());
    reply.mutable_session_stop()->set_reason(
        "the trainer no longer expects this session from this node (finished, failed or "
        "unknown)");
  }
  return reply;
}

bool SessionIntake::cancel(const std::string& session_id, const std::string& reason,
                           NodeMessenger& out) {
  if (!open_.count(session_id)) return false;
  end(out, session_id, reason, JobEvent::kCancel);
  return true;
}

void SessionIntake::end(NodeMessenger& out, const std::string& session_id,
                        const std::string& reason, JobEvent event) {
  auto it = open_.find(session_id);
  if (it == open_.end()) return;
  // Members still capturing or streaming this session can stop (and drop
  // their spool).
  v2::Envelope stop;
  stop.mutable_session_stop()->set_session_id(session_id);
  stop.mutable_session_stop()->set_reason(reason);
  for (const std::string& node : it->second->members) out.toNode(node, stop);
  publish(*it->second, true);
  const JobRecord& job = it->second->job;
  const QueueStatus st =
      event == JobEvent::kCancel ? jobs_.cancel(job.id, reason) : jobs_.failIntake(job, reason);
  if (!st.ok()) spdlog::error("session {}: {}", session_id, st.message());
  spdlog::error("session {} {}: {}", session_id,
                event == JobEvent::kCancel ? "cancelled" : "failed", reason);
  sessions_.close(session_id);
  open_.erase(it);
}

void SessionIntake::checkStalls(NodeMessenger& out,
                                const std::function<bool(const std::string&)>& connected) {
  const auto now = clock_.steady();
  std::vector<std::pair<std::string, std::string>> expired;
  for (const auto& [id, session] : open_) {
    if (!session->fatal.empty()) {
      expired.emplace_back(id, session->fatal);
      continue;
    }
    for (const std::string& node : session->waiting) {
      const auto last = session->last_progress.at(node);
      if (now - last <= config_.session_stall_timeout) continue;
      const auto secs = std::to_string(
          std::chrono::duration_cast<std::chrono::seconds>(config_.session_stall_timeout).count());
      const auto refusal = session->last_refusal.find(node);
      if (refusal != session->last_refusal.end()) {
        expired.emplace_back(id, "capture node " + node + " made no progress for " + secs +
                                     " s: the trainer refused its records (last: " +
                                     refusal->second + ")");
        break;
      }
      expired.emplace_back(
          id, connected(node) ? "capture node " + node + " sent nothing new for " + secs +
                                    " s (is its camera or pose stage stuck? see its log)"
                              : "capture node " + node +
                                    " went away and did not come back within " + secs +
                                    " s (restart it: it resumes from its spool)");
      break;
    }
  }
  for (const auto& [id, reason] : expired) end(out, id, reason, JobEvent::kFail);
}

}  // namespace booth
