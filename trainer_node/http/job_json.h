#pragma once
// The JSON the operator API and the event stream show for jobs and capture
// nodes (one shape for both, so the page renders either the same way).
// Pure functions; any thread.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainer_node/ingest/node_registry.h"
#include "trainer_node/jobs/job_record.h"

namespace booth {

// Where a queued job stands: its place (1 = next), the live workers, and
// about how long until one of them takes it (nullopt without a live worker).
struct QueueStanding {
  int position = 0;
  int live_workers = 0;
  std::optional<double> wait_seconds;
};

// A job as the page shows it; links (clip, visitor page, poster) under
// `public_url` when it is done and not expired; `queue_position`,
// `live_workers` and `queue_wait_seconds` when queued and known.
nlohmann::json jobJson(const JobRecord& job, const std::string& public_url,
                       const std::optional<QueueStanding>& standing = std::nullopt);
nlohmann::json nodesJson(const std::vector<NodeInfo>& nodes);

}  // namespace booth
