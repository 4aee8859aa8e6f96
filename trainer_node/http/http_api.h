#pragma once
// HttpApi: the operator's view of the trainer (cpp-httplib).
//   GET  /                     operator page (start a session, watch jobs, links and QR codes)
//   POST /api/sessions         start a session on the connected capture nodes
//                              body (optional JSON): {"seconds", "budget_seconds", "choreography"}
//   GET  /api/nodes            connected capture nodes and their cameras
//   GET  /api/jobs             jobs, newest first
//   GET  /api/jobs/{id}        one job: state, progress, iterations, losses, ETA, clip URL
//   GET  /api/jobs/{id}/qr.svg QR code of the clip URL (done jobs)
//   GET  /clips/{token}.mp4    the clip (unguessable token), with Range support
// Errors are JSON {"error": "..."} with a 4xx/5xx status.
//
// Threading: cpp-httplib's worker threads call the handlers; they only
// touch JobStore and IngestServer, both safe from any thread.
#include <memory>
#include <string>
#include <thread>

#include "common/core/result.h"
#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/store/job_store.h"

namespace httplib {
class Server;
}

namespace booth {

struct HttpConfig {
  std::string host = "127.0.0.1";
  int port = 8080;         // 0 = any free port (see port())
  std::string public_url;  // base of clip URLs; empty = http://host:port
  double default_capture_seconds = 15;
  std::vector<std::string> choreographies;  // allowed names, for validation and the page
};

class HttpApi {
 public:
  HttpApi(HttpConfig config, JobStore& jobs, IngestServer& ingest);
  ~HttpApi();
  // Binds (fails naming host:port when in use) and serves on a thread.
  Status start();
  void stop();
  int port() const { return port_; }
  std::string publicUrl() const;

 private:
  void routes();
  HttpConfig config_;
  JobStore& jobs_;
  IngestServer& ingest_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::jthread thread_;
};

}  // namespace booth
