#pragma once
// HttpApi: the trainer's web side (cpp-httplib behind HttpServer's limits).
//
// Visitors (no token; a clip's 128-bit random token is its only key):
//   GET  /c/{token}                 the visitor page: video, download, poster, QR of itself
//   GET  /c/{token}/poster.jpg      a frame of the clip
//   GET  /c/{token}/qr.svg          QR code of the visitor page
//   GET, POST /c/{token}/consent    the visitor's consent to improve the booth; withdraw it
//                                   (consent_routes.h)
//   GET  /clips/{token}.mp4         the clip; Range (bounded, merged); ?download=1 attachment
//   unknown or expired tokens get a friendly 404 page
// Operator (token: `Authorization: Bearer T`, or the cookie POST /api/login sets):
//   GET  /                          operator page (asks for the token once)
//   POST /api/login  {"token"}      starts a session: its random id is the HttpOnly cookie
//                                   (429 + Retry-After after repeated failures from an address);
//                                   POST /api/logout ends it
//   GET  /api/config                choreographies, default and maximum budget and capture seconds
//   POST /api/sessions              start a session: {"seconds", "budget_seconds", "choreography",
//                                   "may_improve_booth"}
//   GET  /api/nodes                 capture nodes and their cameras
//   GET  /api/jobs, /api/jobs/{id}  jobs (newest first) with progress, links
//   GET  /api/jobs/{id}/qr.svg      QR code of the job's visitor page
//   DELETE /api/jobs/{id}           cancel an unfinished job
//   DELETE /api/jobs/{id}/data      delete a finished job's frames, model, clip and poster now
//   GET  /api/events                Server-Sent Events: snapshot, then job and nodes events
// Anyone: GET /metrics (Prometheus text), GET /api/health, GET /static/{file}.
// POST bodies must be JSON (Content-Type application/json), so no other
// site can submit a form here. Errors are JSON {"error": "..."}.
//
// Threading: HttpServer's worker threads call the handlers. They use
// JobStore, BoothControl, EventHub and RetentionSweeper, all safe from any
// thread, and the atomics below.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/core/result.h"
#include "trainer_node/events/event_hub.h"
#include "trainer_node/http/bandwidth_limiter.h"
#include "trainer_node/http/booth_control.h"
#include "trainer_node/http/clip_poster.h"
#include "trainer_node/http/consent_routes.h"
#include "trainer_node/http/http_server.h"
#include "trainer_node/http/login_throttle.h"
#include "trainer_node/http/operator_sessions.h"
#include "trainer_node/metrics/booth_metrics.h"
#include "trainer_node/retention/retention_sweeper.h"
#include "trainer_node/store/job_store.h"

namespace booth {

struct HttpConfig {
  std::string host = "127.0.0.1";
  int port = 8080;         // 0 = any free port (see port())
  std::string public_url;  // base of clip and visitor page URLs; empty = http://host:port
  double default_capture_seconds = 15;
  double default_train_budget_seconds = 120;  // what a session gets when it asks for none
  double max_train_budget_seconds = 900;      // the most a session may ask for
  std::vector<std::string> choreographies;    // allowed names, for validation and the page
  // The operator token file: --operator-token-file, or DATA/operator_token
  // (created when missing). The token itself is read at start.
  std::filesystem::path operator_token_file;
  bool create_operator_token = false;
  std::string operator_token;
  // How long a signed-in page stays signed in (--operator-session-hours).
  std::chrono::seconds operator_session_lifetime{std::chrono::hours(12)};
  LoginThrottleConfig login_throttle;
  HttpLimits limits;
  std::size_t max_downloads = 64;       // clip downloads served at once; more get 503
  std::size_t max_event_streams = 16;   // open /api/events streams; more get 503
  std::size_t max_ranges = 16;          // ranges in one Range header; more get 416
  double clip_bytes_per_second = 16e6;  // all clip downloads together; 0 = unlimited
  // An idle event stream sends a comment this often (keeps proxies and the
  // browser from timing it out; notices a gone client).
  std::chrono::milliseconds event_keepalive{15000};
};

class HttpApi {
 public:
  HttpApi(HttpConfig config, JobStore& jobs, BoothControl& booth, EventHub& events,
          RetentionSweeper& retention);
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Binds (fails naming host:port when in use) and serves on a thread.
  Status start();
  // Ends event streams and downloads, closes every connection, joins.
  void stop();
  int port() const { return port_; }
  std::string publicUrl() const;
  // The server with every route installed (for the fuzzer, which feeds it
  // requests without sockets).
  HttpServer& server() { return *server_; }

 private:
  void routes();
  void visitorRoutes();
  void operatorRoutes();
  struct ClipDownload;

  HttpConfig config_;
  JobStore& jobs_;
  BoothControl& booth_;
  EventHub& events_;
  RetentionSweeper& retention_;
  BoothMetrics metrics_;
  ClipPosters posters_;
  BandwidthLimiter clip_budget_;
  OperatorSessions operator_sessions_;
  LoginThrottle login_throttle_;
  std::unique_ptr<HttpServer> server_;
  ConsentRoutes consent_;  // the visitor's consent (consent_routes.h)
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> downloads_{0};
  std::atomic<std::size_t> streams_{0};
  int port_ = 0;
  std::jthread thread_;
};

}  // namespace booth
