#pragma once
// BoothControl: what the HTTP API asks of the booth's capture side (the
// ingest), as an interface so that the API, its tests and its fuzzer do not
// need capture nodes. IngestBoothControl (ingest_booth_control.h) adapts
// IngestServer.
//
// Threading: called from HTTP worker threads and the event hub's thread;
// implementations must be safe from any thread.
#include <string>
#include <vector>

#include "common/core/result.h"
#include "trainer_node/ingest/ingest_stats.h"
#include "trainer_node/ingest/node_registry.h"
#include "trainer_node/ingest/session_intake.h"
#include "trainer_node/jobs/job_record.h"

namespace booth {

class BoothControl {
 public:
  virtual ~BoothControl() = default;
  // Creates a session and its job and tells the connected nodes to capture.
  virtual Result<JobRecord> startSession(const SessionRequest& request) = 0;
  virtual std::vector<NodeInfo> nodes() = 0;
  // Ends a session still being captured or received; false when it is not
  // open (already queued, finished, unknown).
  virtual bool cancelSession(const std::string& session_id, const std::string& reason) = 0;
  virtual IngestStats stats() = 0;
};

}  // namespace booth
