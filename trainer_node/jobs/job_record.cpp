#include "trainer_node/jobs/job_record.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

namespace booth {

const CameraFrames* primaryCamera(const JobRecord& job) {
  const CameraFrames* best = nullptr;
  for (const CameraFrames& c : job.cameras) {
    if (c.frames <= 0) continue;  // unplugged at the start: passed over
    if (!best || std::tie(c.node, c.camera) < std::tie(best->node, best->camera)) best = &c;
  }
  return best;
}

bool consentHolds(const JobRecord& job) {
  return job.may_improve_booth && job.consent_withdrawn_ms == 0;
}

std::string nodesToJson(const std::vector<std::string>& nodes) {
  return nlohmann::json(nodes).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> nodesFromJson(const std::string& text) {
  std::vector<std::string> out;
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) return out;
  for (const auto& n : parsed) {
    if (n.is_string()) out.push_back(n.get<std::string>());
  }
  return out;
}

std::string camerasToJson(const std::vector<CameraFrames>& cameras) {
  nlohmann::json out = nlohmann::json::array();
  for (const CameraFrames& c : cameras) {
    out.push_back({{"node", c.node}, {"camera", c.camera}, {"frames", c.frames}});
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<CameraFrames> camerasFromJson(const std::string& text) {
  std::vector<CameraFrames> out;
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (!parsed.is_array()) return out;
  for (const auto& c : parsed) {
    if (!c.is_object()) continue;
    const auto node = c.find("node"), camera = c.find("camera"), frames = c.find("frames");
    if (node == c.end() || !node->is_string() || camera == c.end() || !camera->is_string())
      continue;
    CameraFrames cam{node->get<std::string>(), camera->get<std::string>(), 0};
    if (frames != c.end() && frames->is_number()) cam.frames = frames->get<std::int64_t>();
    out.push_back(std::move(cam));
  }
  return out;
}

}  // namespace booth
