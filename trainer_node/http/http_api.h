#pragma once
// HttpApi: the trainer's web side (cpp-httplib behind HttpServer's limits).
// It owns the server and the state the handlers share (HttpContext) and
// installs the routes, one area per file:
//   - operator_gate.h    sign-in (POST /api/login, /api/logout) and the token check
//   - jobs_routes.h      the operator page and its JSON API (sessions, nodes, jobs,
//                        cancel, delete data)
//   - event_routes.h     GET /api/events: Server-Sent Events with Last-Event-ID resume
//   - visitor_routes.h   visitor pages, posters, QR codes and clip downloads
//   - consent_routes.h   GET, POST /c/{token}/consent: the visitor's consent to improve
//                        the booth, and its withdrawal; the kept-frames page
//   - health_routes.h    /metrics, /api/health, /static, /favicon.ico
// Jobs are read and written through the JobQueue (the embedded one or the
// shared PostgreSQL one).
//
// Everything else is refused here, before a handler sees it: methods other
// than GET, HEAD, POST, DELETE, OPTIONS (405); POST and DELETE to unknown
// paths (404, body unread); no CORS. A handler that throws answers 500 and
// the server goes on. POST bodies must be JSON (Content-Type
// application/json), so no other site can submit a form here. Errors are
// JSON {"error": "..."}.
//
// Threading: HttpServer's worker threads call the handlers. They use the
// JobQueue, BoothControl, EventHub, BlobStore and RetentionSweeper, all
// safe from any thread, and HttpContext's atomics.
//
// Clips and posters are read from the BlobStore (clips/<token>.mp4 and
// clips/<token>.jpg, store/clip_names.h), so a front-end serves the clips
// of every worker that shares its database. Deleting a job's data and
// withdrawing consent go through `retention` (the same rules over the
// embedded and the shared stores).
#include <memory>
#include <string>
#include <thread>

#include "common/core/result.h"
#include "trainer_node/events/event_hub.h"
#include "trainer_node/http/booth_control.h"
#include "trainer_node/http/http_config.h"
#include "trainer_node/http/http_server.h"
#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/retention/retention_sweeper.h"
#include "trainer_node/store/blob_store.h"

namespace booth {

struct HttpContext;
class OperatorGate;

class HttpApi {
 public:
  HttpApi(HttpConfig config, JobQueue& jobs, BoothControl& booth, EventHub& events,
          BlobStore& blobs, RetentionSweeper& retention);
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Binds (fails naming host:port when in use) and serves on a thread.
  Status start();
  // Ends event streams and downloads, closes every connection, joins.
  void stop();
  int port() const;
  std::string publicUrl() const;
  // The server with every route installed (for the fuzzer, which feeds it
  // requests without sockets).
  HttpServer& server() { return *server_; }

 private:
  void serverWideHandlers();

  HttpConfig config_;
  EventHub& events_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpContext> context_;
  std::unique_ptr<OperatorGate> gate_;
  std::jthread thread_;
};

}  // namespace booth
