#include "trainer_node/http/http_api.h"

#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include "trainer_node/http/consent_routes.h"
#include "trainer_node/http/event_routes.h"
#include "trainer_node/http/health_routes.h"
#include "trainer_node/http/http_context.h"
#include "trainer_node/http/http_replies.h"
#include "trainer_node/http/job_json.h"
#include "trainer_node/http/jobs_routes.h"
#include "trainer_node/http/operator_gate.h"
#include "trainer_node/http/visitor_routes.h"

namespace booth {
namespace {
constexpr std::size_t kChunk = 64 * 1024;  // clip downloads' piece; the budget's burst is two
}  // namespace

HttpContext::HttpContext(const HttpConfig& config_in, JobQueue& jobs_in, BoothControl& booth_in,
                         EventHub& events_in, BlobStore& blobs_in,
                         RetentionSweeper& retention_in, HttpServer& server_in)
    : config(config_in),
      jobs(jobs_in),
      booth(booth_in),
      events(events_in),
      blobs(blobs_in),
      retention(retention_in),
      server(server_in),
      posters(config_in.scratch_dir),
      clip_budget(config_in.clip_bytes_per_second, 2.0 * kChunk) {}

nlohmann::json HttpContext::jobView(const JobRecord& job, const std::string& base) {
  if (job.state != JobState::kQueued) return jobJson(job, base);
  const std::optional<int> position = jobs.queuePosition(job.id);
  if (!position) return jobJson(job, base);
  QueueStanding standing;
  standing.position = *position;
  standing.live_workers = jobs.liveWorkers().value_or(0);
  const double job_seconds = job.train_budget_seconds > 0 ? job.train_budget_seconds
                                                          : config.default_train_budget_seconds;
  standing.wait_seconds = queueWaitSeconds(*position, standing.live_workers, job_seconds);
  return jobJson(job, base, standing);
}

std::string HttpContext::publicUrl() const {
  if (!config.public_url.empty()) return config.public_url;
  return "http://" + config.host + ":" + std::to_string(port);
}

HttpApi::HttpApi(HttpConfig config, JobQueue& jobs, BoothControl& booth, EventHub& events,
                 BlobStore& blobs, RetentionSweeper& retention)
    : config_(std::move(config)),
      events_(events),
      server_(std::make_unique<HttpServer>(config_.limits)),
      context_(std::make_unique<HttpContext>(config_, jobs, booth, events, blobs, retention,
                                                *server_)),
      gate_(std::make_unique<OperatorGate>(*context_)) {
  serverWideHandlers();
  auto& s = *server_;
  installConsentRoutes(s, *context_);  // before the visitor page's /c/ routes
  installVisitorRoutes(s, *context_);
  gate_->install(s);
  installJobsRoutes(s, *context_, *gate_);
  installEventRoutes(s, *context_, *gate_);
  installHealthRoutes(s, *context_);
  // Every POST and DELETE is dispatched to a handler that reads (or
  // ignores) the body itself, within the limit: the library would
  // otherwise read a chunked body of any size into memory before routing.
  s.Post(".*", [](const httplib::Request&, httplib::Response& res, const httplib::ContentReader&) {
    sendError(res, 404, "no such API");
  });
  s.Delete(".*", [](const httplib::Request&, httplib::Response& res,
                    const httplib::ContentReader&) { sendError(res, 404, "no such API"); });
  s.Options(".*", [](const httplib::Request&, httplib::Response& res) {
    // No cross-origin use: no CORS headers, so browsers refuse it.
    res.set_header("Allow", "GET, HEAD, POST, DELETE");
    res.status = 204;
  });
}

HttpApi::~HttpApi() { stop(); }

int HttpApi::port() const { return context_->port; }

std::string HttpApi::publicUrl() const { return context_->publicUrl(); }

Status HttpApi::start() {
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second
  // trainer silently share the port; a port in use must be an error.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (config_.port == 0) {
    context_->port = server_->bind_to_any_port(config_.host);
    if (context_->port <= 0) return fail("cannot bind HTTP on " + config_.host + " (any port)");
  } else {
    if (!server_->bind_to_port(config_.host, config_.port)) {
      return fail("cannot bind HTTP on " + config_.host + ":" + std::to_string(config_.port) +
                  " (port in use or address not local; choose another with --http-port)");
    }
    context_->port = config_.port;
  }
  if (config_.public_url.empty() && (config_.host == "0.0.0.0" || config_.host == "::")) {
    spdlog::warn("visitor links and QR codes will point at {}: set --public-url to the address "
                 "visitors' phones reach",
                 publicUrl());
  }
  thread_ = std::jthread([this] { server_->listen_after_bind(); });
  return okStatus();
}

void HttpApi::stop() {
  context_->stopping = true;
  events_.closeSubscriptions();  // event streams end now, not at their next keep-alive
  if (thread_.joinable()) {
    server_->stop();
    server_->closeConnections();
    thread_.join();
  }
}

void HttpApi::serverWideHandlers() {
  auto& s = *server_;
  s.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                         {"Referrer-Policy", "no-referrer"},
                         {"X-Frame-Options", "DENY"}});
  s.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("http {} {} failed: {}", req.method, req.path, what);
        res.headers.clear();
        sendError(res, 500, "internal error: " + what);
      });
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty() && !res.content_provider_) {
      sendError(res, res.status,
                res.status == 404 ? "no such page or API" : "request refused by the HTTP server");
    }
  });
  s.set_logger([this](const httplib::Request&, const httplib::Response& res) {
    context_->metrics.countRequest(res.status);
  });
  // Only the methods the API uses; others (PUT, PATCH, PRI, TRACE, ...)
  // are refused before any body is read.
  s.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    static const char* kMethods[] = {"GET", "HEAD", "POST", "DELETE", "OPTIONS"};
    for (const char* m : kMethods) {
      if (req.method == m) return httplib::Server::HandlerResponse::Unhandled;
    }
    res.set_header("Allow", "GET, HEAD, POST, DELETE");
    sendError(res, 405, "method " + req.method.substr(0, 16) + " is not allowed");
    return httplib::Server::HandlerResponse::Handled;
  });
}

}  // namespace booth
