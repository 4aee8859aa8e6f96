#include "trainer_node/http/http_api.h"

#include <qrencode.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "trainer_node/http/operator_page.h"
#include "trainer_node/jobs/job_runner.h"

namespace booth {
namespace {

using nlohmann::json;

json jobJson(const JobRecord& j, const std::string& public_url) {
  json out = {
      {"id", j.id},
      {"session_id", j.session_id},
      {"state", jobStateName(j.state)},
      {"detail", j.detail},
      {"progress", j.progress},
      {"iterations", j.iterations},
      {"iterations_per_second", j.iterations_per_second},
      {"loss_g", j.loss_g},
      {"loss_d", j.loss_d},
      {"loss_l1", j.loss_l1},
      {"eta_seconds", j.eta_seconds},
      {"capture_seconds_requested", j.capture_seconds_requested},
      {"train_budget_seconds", j.train_budget_seconds},
      {"choreography", j.choreography},
      {"frames_received", j.frames_received},
      {"cameras", json::parse(j.cameras_json, nullptr, false)},
      {"nodes", json::parse(j.nodes_json, nullptr, false)},
      {"timings",
       {{"capture_seconds", j.capture_seconds},
        {"pose_seconds", j.pose_seconds},
        {"transfer_seconds", j.transfer_seconds},
        {"train_seconds", j.train_seconds},
        {"render_seconds", j.render_seconds}}},
      {"created_ms", j.created_ms},
      {"updated_ms", j.updated_ms},
  };
  if (j.state == JobState::kFailed) out["error"] = j.detail;
  if (j.state == JobState::kDone && !j.clip_token.empty()) {
    out["clip_url"] = clipUrl(public_url, j.clip_token);
    out["clip"] = {{"frames", j.clip_frames},
                   {"width", j.clip_width},
                   {"height", j.clip_height},
                   {"bytes", j.clip_bytes}};
  }
  return out;
}

void sendError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"error", message}}.dump(), "application/json");
}

std::string qrSvg(const std::string& text) {
  QRcode* qr = QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (!qr) return {};
  const int margin = 4, n = qr->width, size = n + 2 * margin;
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << size << " " << size
      << "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
      << "<path fill=\"#000\" d=\"";
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      if (qr->data[y * n + x] & 1) svg << "M" << x + margin << " " << y + margin << "h1v1h-1z";
    }
  }
  svg << "\"/></svg>";
  QRcode_free(qr);
  return svg.str();
}

}  // namespace

HttpApi::HttpApi(HttpConfig config, JobStore& jobs, IngestServer& ingest)
    : config_(std::move(config)),
      jobs_(jobs),
      ingest_(ingest),
      server_(std::make_unique<httplib::Server>()) {}

HttpApi::~HttpApi() { stop(); }

std::string HttpApi::publicUrl() const {
  if (!config_.public_url.empty()) return config_.public_url;
  return "http://" + config_.host + ":" + std::to_string(port_);
}

Status HttpApi::start() {
  routes();
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second
  // trainer silently share the port; a port in use must be an error.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  if (config_.port == 0) {
    port_ = server_->bind_to_any_port(config_.host);
    if (port_ <= 0) return fail("cannot bind HTTP on " + config_.host + " (any port)");
  } else {
    if (!server_->bind_to_port(config_.host, config_.port)) {
      return fail("cannot bind HTTP on " + config_.host + ":" + std::to_string(config_.port) +
                  " (port in use or address not local; choose another with --http-port)");
    }
    port_ = config_.port;
  }
  thread_ = std::jthread([this] { server_->listen_after_bind(); });
  return okStatus();
}

void HttpApi::stop() {
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

void HttpApi::routes() {
  auto& s = *server_;
  s.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("http handler failed: {}", what);
        sendError(res, 500, what);
      });

  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(operatorPageHtml(), "text/html; charset=utf-8");
  });

  s.Post("/api/sessions", [this](const httplib::Request& req, httplib::Response& res) {
    SessionRequest request;
    request.capture_seconds = config_.default_capture_seconds;
    if (!req.body.empty()) {
      const json body = json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        return sendError(res, 400, "body must be a JSON object, e.g. {\"seconds\": 15}");
      }
      try {
        request.capture_seconds = body.value("seconds", request.capture_seconds);
        request.train_budget_seconds = body.value("budget_seconds", 0.0);
        request.choreography = body.value("choreography", std::string());
      } catch (const json::exception& e) {
        return sendError(res, 400, std::string("bad field type: ") + e.what());
      }
    }
    if (!(request.capture_seconds > 0 && request.capture_seconds <= 120)) {
      return sendError(
          res, 400, "seconds must be in (0, 120], got " + std::to_string(request.capture_seconds));
    }
    if (request.train_budget_seconds < 0 || request.train_budget_seconds > 24 * 3600) {
      return sendError(res, 400,
                       "budget_seconds must be in [0, 86400], got " +
                           std::to_string(request.train_budget_seconds));
    }
    if (!request.choreography.empty() &&
        std::find(config_.choreographies.begin(), config_.choreographies.end(),
                  request.choreography) == config_.choreographies.end()) {
      return sendError(res, 400, "unknown choreography '" + request.choreography + "'");
    }
    auto job = ingest_.startSession(request);
    if (!job.ok()) return sendError(res, 409, job.error());
    res.status = 201;
    res.set_content(jobJson(job.value(), publicUrl()).dump(), "application/json");
  });

  s.Get("/api/nodes", [this](const httplib::Request&, httplib::Response& res) {
    json out = json::array();
    for (const NodeInfo& n : ingest_.nodes()) {
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
      }
      out.push_back({{"node_id", n.node_id},
                     {"pose_source", n.pose_source},
                     {"cameras", cams},
                     {"seconds_since_seen", n.seconds_since_seen}});
    }
    res.set_content(out.dump(), "application/json");
  });

  s.Get("/api/choreographies", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(json(config_.choreographies).dump(), "application/json");
  });

  s.Get("/api/jobs", [this](const httplib::Request&, httplib::Response& res) {
    json out = json::array();
    for (const JobRecord& j : jobs_.list(100)) out.push_back(jobJson(j, publicUrl()));
    res.set_content(out.dump(), "application/json");
  });

  s.Get(R"(/api/jobs/([A-Za-z0-9_.-]+))",
        [this](const httplib::Request& req, httplib::Response& res) {
          auto job = jobs_.get(req.matches[1]);
          if (!job) return sendError(res, 404, "no job '" + std::string(req.matches[1]) + "'");
          res.set_content(jobJson(*job, publicUrl()).dump(), "application/json");
        });

  s.Get(R"(/api/jobs/([A-Za-z0-9_.-]+)/qr\.svg)",
        [this](const httplib::Request& req, httplib::Response& res) {
          auto job = jobs_.get(req.matches[1]);
          if (!job || job->state != JobState::kDone)
            return sendError(res, 404, "no finished job '" + std::string(req.matches[1]) + "'");
          res.set_content(qrSvg(clipUrl(publicUrl(), job->clip_token)), "image/svg+xml");
        });

  s.Get(R"(/clips/([0-9a-f]{32})\.mp4)", [this](const httplib::Request& req,
                                                httplib::Response& res) {
    auto job = jobs_.byClipToken(req.matches[1]);
    if (!job || job->state != JobState::kDone) return sendError(res, 404, "no such clip");
    std::ifstream in(job->clip_path, std::ios::binary);
    if (!in) return sendError(res, 410, "the clip file is gone from the trainer's data directory");
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    res.set_header("Content-Disposition", "inline; filename=\"dance-" + job->session_id + ".mp4\"");
    res.set_content(std::move(bytes), "video/mp4");
  });
}

}  // namespace booth
