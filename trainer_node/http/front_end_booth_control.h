#pragma once
// FrontEndBoothControl: the BoothControl of an HTTP front-end that runs no
// ingest in its process (--roles http, or worker,http, with --database).
// It has no capture nodes to start a session on: startSession is refused
// with a message that says where sessions start (the jobs routes answer
// 409 with it), no nodes are listed, nothing can be cancelled at the
// capture side (a receiving job is cancelled through the job queue alone)
// and the ingest counters stay at zero (no frames arrive here).
#include "trainer_node/http/booth_control.h"

namespace booth {

inline constexpr const char* kNoIngestHere =
    "this front-end runs no ingest; start sessions on the operator page of a gateway "
    "(--roles ingest,http)";

class FrontEndBoothControl : public BoothControl {
 public:
  Result<JobRecord> startSession(const SessionRequest&) override { return fail(kNoIngestHere); }
  std::vector<NodeInfo> nodes() override { return {}; }
  bool cancelSession(const std::string&, const std::string&) override { return false; }
  IngestStats stats() override { return {}; }
};

}  // namespace booth
