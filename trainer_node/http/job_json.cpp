#include "trainer_node/http/job_json.h"
#include "trainer_node/http/performer_json.h"

#include "trainer_node/store/clip_names.h"

namespace booth {
namespace {

using nlohmann::json;

json camerasJson(const std::vector<CameraFrames>& cameras) {
  json out = json::array();
  for (const CameraFrames& c : cameras) {
    out.push_back({{"node", c.node}, {"camera", c.camera}, {"frames", c.frames}});
  }
  return out;
}

}  // namespace

json jobJson(const JobRecord& j, const std::string& public_url,
             const std::optional<QueueStanding>& standing) {
  json out = {
      {"id", j.id},
      {"session_id", j.session_id},
      {"state", jobStateName(j.state)},
      {"detail", j.detail},
      {"progress", j.progress},
      {"generator_steps", j.generator_steps},
      {"face_steps", j.face_steps},
      {"generator_steps_per_second", j.generator_steps_per_second},
      {"face_steps_per_second", j.face_steps_per_second},
      {"loss_g", j.loss_g},
      {"loss_d", j.loss_d},
      {"loss_l1", j.loss_l1},
      {"eta_seconds", j.eta_seconds},
      {"capture_seconds_requested", j.capture_seconds_requested},
      {"train_budget_seconds", j.train_budget_seconds},
      {"choreography", j.choreography},
      {"frames_received", j.frames_received},
      {"cameras", camerasJson(j.cameras)},
      {"nodes", j.nodes},
      {"timings",
       {{"capture_seconds", j.capture_seconds},
        {"pose_seconds", j.pose_seconds},
        {"transfer_seconds", j.transfer_seconds},
        {"train_seconds", j.train_seconds},
        {"render_seconds", j.render_seconds}}},
      {"created_ms", j.created_ms},
      {"updated_ms", j.updated_ms},
      {"expired", j.purged_ms != 0},
      {"may_improve_booth", consentHolds(j)},
      {"consent_withdrawn", j.consent_withdrawn_ms != 0},
      {"frames_kept", j.state == JobState::kExpired && j.frames_purged_ms == 0},
  };
  if (j.state == JobState::kFailed || j.state == JobState::kCancelled) out["error"] = j.detail;
  if (j.state == JobState::kQueued && standing) {
    out["queue_position"] = standing->position;
    out["live_workers"] = standing->live_workers;
    if (standing->wait_seconds) out["queue_wait_seconds"] = *standing->wait_seconds;
  }
  if (j.state == JobState::kDone && !j.clip_token.empty() && j.purged_ms == 0) {
    out["clip_url"] = clipUrl(public_url, j.clip_token);
    out["page_url"] = visitorPageUrl(public_url, j.clip_token);
    out["poster_url"] = public_url + posterUrlPath(j.clip_token);
    out["clip"] = {{"frames", j.clip_frames},
                   {"width", j.clip_width},
                   {"height", j.clip_height},
                   {"bytes", j.clip_bytes}};
  }
  return out;
}

json nodesJson(const std::vector<NodeInfo>& nodes) {
  json out = json::array();
  for (const NodeInfo& n : nodes) {
    json cams = json::array();
    for (const auto& c : n.cameras) {
      cams.push_back({{"camera_id", c.camera_id},
                      {"kind", c.kind},
                      {"pixel_format", c.pixel_format},
                      {"state", c.state},
                      {"width", c.width},
                      {"height", c.height},
                      {"fps", c.fps},
                      {"measured_fps", c.measured_fps},
                      {"frames", c.frames},
                      {"dropped", c.dropped},
                      {"error_frames", c.error_frames}});
      if (c.performer) cams.back()["performer"] = performerJson(*c.performer);
    }
    out.push_back({{"node_id", n.node_id},
                   {"pose_source", n.pose_source},
                   {"cameras", cams},
                   {"seconds_since_seen", n.seconds_since_seen}});
  }
  return out;
}

}  // namespace booth
