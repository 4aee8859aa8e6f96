#pragma once
// IngestBoothControl: BoothControl over the trainer's IngestServer (wired in
// main; kept out of the HTTP library so that it, its tests and its fuzzer
// do not link the ingest).
#include "trainer_node/http/booth_control.h"
#include "trainer_node/ingest/ingest_server.h"

namespace booth {

class IngestBoothControl : public BoothControl {
 public:
  explicit IngestBoothControl(IngestServer& ingest) : ingest_(ingest) {}
  Result<JobRecord> startSession(const SessionRequest& request) override {
    return ingest_.startSession(request);
  }
  std::vector<NodeInfo> nodes() override { return ingest_.nodes(); }
  bool cancelSession(const std::string& session_id, const std::string& reason) override {
    return ingest_.cancelSession(session_id, reason);
  }
  IngestStats stats() override { return ingest_.stats(); }

 private:
  IngestServer& ingest_;
};

}  // namespace booth
