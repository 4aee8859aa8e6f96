#include "trainer_node/http/http_api.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "common/os/unique_fd.h"
#include "trainer_node/http/byte_ranges.h"
#include "trainer_node/http/http_replies.h"
#include "trainer_node/http/operator_auth.h"
#include "trainer_node/http/qr_svg.h"
#include "trainer_node/http/web_assets.h"
#include "trainer_node/store/clip_names.h"

namespace booth {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kCancelReason = "cancelled by the operator";
constexpr std::size_t kChunk = 64 * 1024;

std::string htmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void replaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

json camerasJson(const std::vector<CameraFrames>& cameras) {
  json out = json::array();
  for (const CameraFrames& c : cameras) {
    out.push_back({{"node", c.node}, {"camera", c.camera}, {"frames", c.frames}});
  }
  return out;
}

json jobJson(const JobRecord& j, const std::string& public_url,
             std::optional<int> queue_position = std::nullopt) {
  json out = {
      {"id", j.id},
      {"session_id", j.session_id},
      {"state", jobStateName(j.state)},
      {"detail", j.detail},
      {"progress", j.progress},
      {"generator_steps", j.generator_steps},
      {"face_steps", j.face_steps},
      {"generator_steps_per_second", j.generator_steps_per_second},
      {"face_steps_per_second", j.face_steps_per_second},
      {"loss_g", j.loss_g},
      {"loss_d", j.loss_d},
      {"loss_l1", j.loss_l1},
      {"eta_seconds", j.eta_seconds},
      {"capture_seconds_requested", j.capture_seconds_requested},
      {"train_budget_seconds", j.train_budget_seconds},
      {"choreography", j.choreography},
      {"frames_received", j.frames_received},
      {"cameras", camerasJson(j.cameras)},
      {"nodes", j.nodes},
      {"timings",
       {{"capture_seconds", j.capture_seconds},
        {"pose_seconds", j.pose_seconds},
        {"transfer_seconds", j.transfer_seconds},
        {"train_seconds", j.train_seconds},
        {"render_seconds", j.render_seconds}}},
      {"created_ms", j.created_ms},
      {"updated_ms", j.updated_ms},
      {"expired", j.purged_ms != 0},
      {"may_improve_booth", consentHolds(j)},
      {"consent_withdrawn", j.consent_withdrawn_ms != 0},
      {"frames_kept", j.state == JobState::kExpired && j.frames_purged_ms == 0},
  };
  if (j.state == JobState::kFailed || j.state == JobState::kCancelled) out["error"] = j.detail;
  if (j.state == JobState::kQueued) {
    if (auto position = queue_position) out["queue_position"] = *position;
  }
  if (j.state == JobState::kDone && !j.clip_token.empty() && j.purged_ms == 0) {
    out["clip_url"] = clipUrl(public_url, j.clip_token);
    out["page_url"] = visitorPageUrl(public_url, j.clip_token);
    out["poster_url"] = public_url + posterUrlPath(j.clip_token);
    out["clip"] = {{"frames", j.clip_frames},
                   {"width", j.clip_width},
                   {"height", j.clip_height},
                   {"bytes", j.clip_bytes}};
  }
  return out;
}

json nodesJson(const std::vector<NodeInfo>& nodes) {
  json out = json::array();
  for (const NodeInfo& n : nodes) {
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
  return out;
}

// A number field of a JSON body, or `fallback` when absent. Anything but a
// finite number is an error naming the field.
Result<double> numberField(const json& body, const char* name, double fallback) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number()) return fail(std::string(name) + " must be a number");
  const double v = it->get<double>();
  if (!std::isfinite(v)) return fail(std::string(name) + " must be a finite number");
  return v;
}

std::string formatSeconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", s);
  return text;
}

// One open /api/events stream: its subscription, the snapshot still to
// send, and its place in the count of open streams.
struct EventStream {
  EventStream(std::unique_ptr<EventHub::Subscription> sub, std::string snapshot,
              std::atomic<std::size_t>& open_streams)
      : subscription(std::move(sub)), first(std::move(snapshot)), open(open_streams) {
    open.fetch_add(1);
  }
  ~EventStream() { open.fetch_sub(1); }
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;
  std::unique_ptr<EventHub::Subscription> subscription;
  std::string first;
  std::atomic<std::size_t>& open;
};

}  // namespace

// One clip download in flight: the open file, the answer's segments, and
// the admission slot it holds until the response is destroyed.
struct HttpApi::ClipDownload {
  ClipDownload(HttpApi& owner, UniqueFd fd_in) : api(owner), fd(std::move(fd_in)) {}
  ~ClipDownload() { api.downloads_.fetch_sub(1); }
  ClipDownload(const ClipDownload&) = delete;
  ClipDownload& operator=(const ClipDownload&) = delete;

  // Writes the next piece of the body at `offset` (at most one chunk).
  bool writeAt(std::size_t offset, httplib::DataSink& sink) {
    std::uint64_t start = 0;
    for (const BodySegment& seg : segments) {
      const std::uint64_t len = seg.length();
      if (offset < start + len) {
        const std::uint64_t within = offset - start;
        if (seg.file_length == 0) {
          return sink.write(seg.text.data() + within, seg.text.size() - within);
        }
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, len - within));
        buffer.resize(n);
        const ssize_t got =
            ::pread(fd.get(), buffer.data(), n, static_cast<off_t>(seg.file_offset + within));
        if (got <= 0) return false;  // the file shrank or vanished (retention)
        if (!throttle(static_cast<std::size_t>(got))) return false;
        if (!sink.write(buffer.data(), static_cast<std::size_t>(got))) return false;
        api.metrics_.addClipBytes(static_cast<std::uint64_t>(got));
        return true;
      }
      start += len;
    }
    return false;
  }
  // Waits for the shared clip budget, in slices so that stop() is quick.
  bool throttle(std::size_t bytes) {
    auto wait = api.clip_budget_.reserve(bytes);
    const auto until = SteadyClock::now() + wait;
    while (SteadyClock::now() < until) {
      if (api.stopping_) return false;
      std::this_thread::sleep_for(std::min<SteadyClock::duration>(until - SteadyClock::now(),
                                                                  std::chrono::milliseconds(50)));
    }
    return !api.stopping_;
  }

  HttpApi& api;
  UniqueFd fd;
  std::vector<BodySegment> segments;
  std::vector<char> buffer;
};

HttpApi::HttpApi(HttpConfig config, JobStore& jobs, BoothControl& booth, EventHub& events,
                 RetentionSweeper& retention)
    : config_(std::move(config)),
      jobs_(jobs),
      booth_(booth),
      events_(events),
      retention_(retention),
      clip_budget_(config_.clip_bytes_per_second, 2.0 * kChunk),
      operator_sessions_(config_.operator_session_lifetime),
      login_throttle_(config_.login_throttle),
      server_(std::make_unique<HttpServer>(config_.limits)),
      consent_(jobs, retention, config_.limits.max_body_bytes) {
  routes();
}

HttpApi::~HttpApi() { stop(); }

std::string HttpApi::publicUrl() const {
  if (!config_.public_url.empty()) return config_.public_url;
  return "http://" + config_.host + ":" + std::to_string(port_);
}

Status HttpApi::start() {
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
  if (config_.public_url.empty() && (config_.host == "0.0.0.0" || config_.host == "::")) {
    spdlog::warn("visitor links and QR codes will point at {}: set --public-url to the address "
                 "visitors' phones reach",
                 publicUrl());
  }
  thread_ = std::jthread([this] { server_->listen_after_bind(); });
  return okStatus();
}

void HttpApi::stop() {
  stopping_ = true;
  events_.closeSubscriptions();  // event streams end now, not at their next keep-alive
  if (thread_.joinable()) {
    server_->stop();
    server_->closeConnections();
    thread_.join();
  }
}

void HttpApi::routes() {
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
    metrics_.countRequest(res.status);
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

  visitorRoutes();
  operatorRoutes();

  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    MetricsSnapshot snap;
    snap.jobs_by_state = jobs_.countByState();
    for (const JobRecord& j : jobs_.list(20)) {
      if (j.state == JobState::kTraining) {
        snap.training_generator_steps_per_second = j.generator_steps_per_second;
        snap.training_face_steps_per_second = j.face_steps_per_second;
        break;
      }
    }
    snap.ingest = booth_.stats();
    snap.nodes = events_.nodes();
    snap.event_streams = streams_.load();
    snap.downloads_active = downloads_.load();
    snap.http_connections_refused = server_->connectionsRefused();
    snap.http_connections_cut_off = server_->connectionsEvicted();
    res.set_header("Cache-Control", "no-store");
    res.set_content(metrics_.render(snap), "text/plain; version=0.0.4; charset=utf-8");
  });
  s.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) {
    res.status = 204;  // no icon; saves browsers a logged 404
  });
  s.Get("/api/health", [](const httplib::Request&, httplib::Response& res) {
    sendJson(res, {{"ok", true}});
  });
  s.Get(R"(/static/([a-z_]+\.(css|js|svg)))",
        [](const httplib::Request& req, httplib::Response& res) {
          auto asset = findWebAsset(req.matches[1].str());
          if (!asset) return sendError(res, 404, "no such file");
          res.set_header("Cache-Control", "no-cache");
          res.set_content(std::string(asset->content), std::string(webContentType(asset->name)));
        });

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

void HttpApi::visitorRoutes() {
  auto& s = *server_;
  const std::string tok = kClipTokenPattern;
  consent_.install(s);

  s.Get("/c/" + tok, [this](const httplib::Request& req, httplib::Response& res) {
    auto job = jobs_.byClipToken(req.matches[1]);
    auto tmpl = findWebAsset("visitor.html");
    if (job && consent_.serveKeptFramesPage(*job, res)) return;
    if (!job || job->state != JobState::kDone || job->purged_ms != 0 || !tmpl) {
      return sendNotFoundPage(res);
    }
    const std::string page_url = visitorPageUrl(publicUrl(), job->clip_token);
    std::string html(tmpl->content);
    replaceAll(html, "{{PAGE_URL}}", htmlEscape(page_url));
    replaceAll(html, "{{CLIP_URL}}", htmlEscape(clipUrlPath(job->clip_token)));
    replaceAll(html, "{{ABS_CLIP_URL}}", htmlEscape(clipUrl(publicUrl(), job->clip_token)));
    replaceAll(html, "{{POSTER_URL}}", htmlEscape(posterUrlPath(job->clip_token)));
    replaceAll(html, "{{ABS_POSTER_URL}}", htmlEscape(publicUrl() + posterUrlPath(job->clip_token)));
    replaceAll(html, "{{QR_URL}}", htmlEscape(qrUrlPath(job->clip_token)));
    replaceAll(html, "{{WIDTH}}", std::to_string(job->clip_width));
    replaceAll(html, "{{HEIGHT}}", std::to_string(job->clip_height));
    replaceAll(html, "{{CHOREOGRAPHY}}", htmlEscape(job->choreography));
    sendPage(res, 200, std::move(html));
  });

  s.Get("/c/" + tok + "/qr.svg", [this](const httplib::Request& req, httplib::Response& res) {
    auto job = jobs_.byClipToken(req.matches[1]);
    if (!job || job->state != JobState::kDone || job->purged_ms != 0) {
      return sendError(res, 404, "no such clip");
    }
    res.set_header("Cache-Control", "private, max-age=3600");
    res.set_content(qrSvg(visitorPageUrl(publicUrl(), job->clip_token)), "image/svg+xml");
  });

  s.Get("/c/" + tok + "/poster.jpg", [this](const httplib::Request& req, httplib::Response& res) {
    auto job = jobs_.byClipToken(req.matches[1]);
    if (!job || job->state != JobState::kDone || job->purged_ms != 0) {
      return sendError(res, 404, "no such clip");
    }
    auto poster = posters_.ensure(job->clip_path);
    if (!poster.ok()) {
      spdlog::warn("poster of job {}: {}", job->id, poster.error());
      return sendError(res, 404, "no poster for this clip");
    }
    std::ifstream in(poster.value(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.empty()) return sendError(res, 404, "no poster for this clip");
    res.set_header("Cache-Control", "private, max-age=3600");
    res.set_content(std::move(bytes), "image/jpeg");
  });

  s.Get("/c/.*", [](const httplib::Request&, httplib::Response& res) { sendNotFoundPage(res); });

  s.Get("/clips/" + tok + R"(\.mp4)", [this](const httplib::Request& req, httplib::Response& res) {
    auto job = jobs_.byClipToken(req.matches[1]);
    if (!job || job->state != JobState::kDone || job->purged_ms != 0) {
      return sendError(res, 404, "no such clip (the link is wrong or the clip has expired)");
    }
    UniqueFd fd(::open(job->clip_path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
      return sendError(res, 410, "the clip file is gone from the trainer's data directory");
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (downloads_.fetch_add(1) >= config_.max_downloads) {
      downloads_.fetch_sub(1);
      res.set_header("Retry-After", "2");
      return sendError(res, 503,
                       "too many clip downloads at once (" + std::to_string(config_.max_downloads) +
                           "); try again in a moment");
    }
    auto download = std::make_shared<ClipDownload>(*this, std::move(fd));

    RangeAnswer ranges;
    if (req.has_header("Range")) {
      ranges = parseRangeHeader(req.get_header_value("Range"), size, config_.max_ranges);
    }
    res.set_header("Accept-Ranges", "bytes");
    res.set_header("Cache-Control", "private, max-age=3600");
    const bool attachment = req.has_param("download");
    res.set_header("Content-Disposition", std::string(attachment ? "attachment" : "inline") +
                                              "; filename=\"" + clipDownloadName(job->session_id) + "\"");
    if (ranges.kind == RangeAnswer::Kind::kTooMany ||
        ranges.kind == RangeAnswer::Kind::kUnsatisfiable) {
      res.set_header("Content-Range", "bytes */" + std::to_string(size));
      return sendError(res, 416, ranges.error);
    }
    std::string content_type = "video/mp4";
    if (ranges.kind == RangeAnswer::Kind::kPartial) {
      const std::string boundary = randomHexToken();
      download->segments = partialBody(ranges.ranges, size, "video/mp4", boundary);
      if (ranges.ranges.size() == 1) {
        res.set_header("Content-Range", contentRange(ranges.ranges[0], size));
      } else {
        content_type = "multipart/byteranges; boundary=" + boundary;
      }
      res.status = 206;
    } else {
      download->segments = {BodySegment{"", 0, size}};
      res.status = 200;
    }
    const std::uint64_t length = bodyLength(download->segments);
    if (length == 0) {
      res.set_content("", content_type);
      return;
    }
    res.set_content_provider(static_cast<std::size_t>(length), content_type,
                             [download](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                               return download->writeAt(offset, sink);
                             });
  });
}

void HttpApi::operatorRoutes() {
  auto& s = *server_;
  // Answers 401 and returns false unless the request carries the token.
  // Tools send the token; the page sends its session cookie.
  auto authorized = [this](const httplib::Request& req, httplib::Response& res) {
    const auto bearer = bearerToken(req.get_header_value("Authorization"));
    const auto session = cookieValue(req.get_header_value("Cookie"), kOperatorCookie);
    if (bearer ? sameSecret(*bearer, config_.operator_token)
               : session && operator_sessions_.valid(*session)) {
      return true;
    }
    res.set_header("WWW-Authenticate", "Bearer realm=\"booth operator\"");
    sendError(res, 401,
              bearer    ? "wrong operator token"
              : session ? "signed out: the session expired or was ended; sign in again"
                        : "operator token required (Authorization: Bearer TOKEN; the token is in "
                          "the trainer's operator token file)");
    return false;
  };
  const std::size_t max_body = config_.limits.max_body_bytes;

  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    auto page = findWebAsset("operator.html");
    sendPage(res, 200, page ? std::string(page->content) : "operator page missing from the build");
  });

  s.Post("/api/login", [this, max_body](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& reader) {
    // Repeated failures from one address wait (429), before the token is
    // even looked at.
    if (const auto wait = login_throttle_.retryAfter(req.remote_addr)) {
      res.set_header("Retry-After", std::to_string(wait->count()));
      return sendError(res, 429,
                       "too many failed sign-ins from this address; try again in " +
                           std::to_string(wait->count()) + " s");
    }
    auto body = readJsonBody(req, res, reader, max_body);
    if (!body) return;
    auto it = body->find("token");
    if (it == body->end() || !it->is_string()) {
      return sendError(res, 400, "body must be {\"token\": \"...\"}");
    }
    if (!sameSecret(it->get<std::string>(), config_.operator_token)) {
      login_throttle_.failed(req.remote_addr);
      return sendError(res, 401, "wrong operator token");
    }
    login_throttle_.succeeded(req.remote_addr);
    const bool https = publicUrl().rfind("https://", 0) == 0;
    res.set_header("Set-Cookie", std::string(kOperatorCookie) + "=" + operator_sessions_.create() +
                                     "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                     std::to_string(operator_sessions_.lifetime().count()) +
                                     (https ? "; Secure" : ""));
    sendJson(res, {{"ok", true}});
  });

  s.Post("/api/logout", [this](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader&) {
    if (auto session = cookieValue(req.get_header_value("Cookie"), kOperatorCookie)) {
      operator_sessions_.revoke(*session);
    }
    res.set_header("Set-Cookie",
                   std::string(kOperatorCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    sendJson(res, {{"ok", true}});
  });

  s.Get("/api/config", [this, authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    sendJson(res, {{"choreographies", config_.choreographies},
                   {"default_capture_seconds", config_.default_capture_seconds},
                   {"default_budget_seconds", config_.default_train_budget_seconds},
                   {"max_budget_seconds", config_.max_train_budget_seconds},
                   {"public_url", publicUrl()}});
  });

  s.Get("/api/choreographies", [this](const httplib::Request&, httplib::Response& res) {
    sendJson(res, config_.choreographies);
  });

  s.Post("/api/sessions", [this, authorized, max_body](const httplib::Request& req,
                                                       httplib::Response& res,
                                                       const httplib::ContentReader& reader) {
    if (!authorized(req, res)) return;
    auto body = readJsonBody(req, res, reader, max_body);
    if (!body) return;
    SessionRequest request;
    auto seconds = numberField(*body, "seconds", config_.default_capture_seconds);
    auto budget = numberField(*body, "budget_seconds", 0);
    if (!seconds.ok()) return sendError(res, 400, seconds.error());
    if (!budget.ok()) return sendError(res, 400, budget.error());
    request.capture_seconds = seconds.value();
    request.train_budget_seconds = budget.value();
    if (auto it = body->find("choreography"); it != body->end() && !it->is_null()) {
      if (!it->is_string()) return sendError(res, 400, "choreography must be a string");
      request.choreography = it->get<std::string>();
    }
    if (auto it = body->find("may_improve_booth"); it != body->end() && !it->is_null()) {
      if (!it->is_boolean()) return sendError(res, 400, "may_improve_booth must be true or false");
      request.may_improve_booth = it->get<bool>();
    }
    if (!(request.capture_seconds > 0 && request.capture_seconds <= 120)) {
      return sendError(
          res, 400, "seconds must be in (0, 120], got " + formatSeconds(request.capture_seconds));
    }
    if (request.train_budget_seconds < 0 ||
        request.train_budget_seconds > config_.max_train_budget_seconds) {
      return sendError(res, 400,
                       "budget_seconds must be in [0, " +
                           formatSeconds(config_.max_train_budget_seconds) + "] (0 = default " +
                           formatSeconds(config_.default_train_budget_seconds) + "), got " +
                           formatSeconds(request.train_budget_seconds));
    }
    if (!request.choreography.empty() &&
        std::find(config_.choreographies.begin(), config_.choreographies.end(),
                  request.choreography) == config_.choreographies.end()) {
      return sendError(res, 400,
                       "unknown choreography '" + request.choreography.substr(0, 64) + "'");
    }
    auto job = booth_.startSession(request);
    if (!job.ok()) return sendError(res, 409, job.error());
    sendJson(res, jobJson(job.value(), publicUrl()), 201);
  });

  s.Get("/api/nodes", [this, authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    sendJson(res, nodesJson(booth_.nodes()));
  });

  s.Get("/api/jobs", [this, authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    json out = json::array();
    for (const JobRecord& j : jobs_.list(100)) out.push_back(jobJson(j, publicUrl()));
    sendJson(res, out);
  });

  const std::string id = R"(([A-Za-z0-9_.-]{1,128}))";
  s.Get("/api/jobs/" + id, [this, authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    auto job = jobs_.get(req.matches[1]);
    if (!job) return sendError(res, 404, "no job '" + req.matches[1].str() + "'");
    sendJson(res, jobJson(*job, publicUrl(), jobs_.queuePosition(job->id)));
  });

  s.Get("/api/jobs/" + id + R"(/qr\.svg)", [this, authorized](const httplib::Request& req,
                                                              httplib::Response& res) {
    if (!authorized(req, res)) return;
    auto job = jobs_.get(req.matches[1]);
    if (!job || job->state != JobState::kDone || job->purged_ms != 0) {
      return sendError(res, 404, "no finished job '" + req.matches[1].str() + "' with a clip");
    }
    res.set_header("Cache-Control", "private, max-age=3600");
    res.set_content(qrSvg(visitorPageUrl(publicUrl(), job->clip_token)), "image/svg+xml");
  });

  s.Delete(
      "/api/jobs/" + id, [this, authorized](const httplib::Request& req, httplib::Response& res,
                                            const httplib::ContentReader&) {
        if (!authorized(req, res)) return;
        const std::string job_id = req.matches[1];
        auto job = jobs_.get(job_id);
        if (!job) return sendError(res, 404, "no job '" + job_id + "'");
        if (isFinished(job->state)) {
          return sendError(res, 409,
                           "job " + job_id + " has already finished (" + jobStateName(job->state) +
                               "); DELETE /api/jobs/" + job_id + "/data deletes its data");
        }
        // The flag first: a runner that takes the job from now on stops it.
        if (auto st = jobs_.requestCancel(job_id); !st.ok()) return sendError(res, 500, st.error());
        bool finished = false;
        if (job->state == JobState::kReceiving) {
          finished = booth_.cancelSession(job->session_id, kCancelReason);
        }
        if (!finished && job->state == JobState::kQueued) {
          finished = jobs_.transition(job_id, JobEvent::kCancel, kCancelReason).ok();
        }
        auto now = jobs_.get(job_id);
        spdlog::info("job {} cancelled by the operator ({})", job_id,
                     finished ? "stopped" : "the runner stops it");
        // 200: stopped now; 202: the job runner stops it within about a second.
        sendJson(res, jobJson(now ? *now : *job, publicUrl()), finished ? 200 : 202);
      });

  s.Delete("/api/jobs/" + id + "/data",
           [this, authorized](const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader&) {
             if (!authorized(req, res)) return;
             const std::string job_id = req.matches[1];
             auto job = jobs_.get(job_id);
             if (!job) return sendError(res, 404, "no job '" + job_id + "'");
             if (auto st = retention_.purge(*job); !st.ok()) return sendError(res, 409, st.error());
             auto now = jobs_.get(job_id);
             spdlog::info("job {}: the visitor's data was deleted on request", job_id);
             sendJson(res, jobJson(now ? *now : *job, publicUrl()));
           });

  s.Get("/api/events", [this, authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    // Subscribe before reading the snapshot: nothing written in between is
    // lost (a job sent twice is harmless, events carry whole jobs).
    auto subscription = events_.subscribe();
    if (!subscription) {
      res.set_header("Retry-After", "5");
      return sendError(res, 503, "too many open event streams; close another operator page");
    }
    json jobs = json::array();
    for (const JobRecord& j : jobs_.list(100)) jobs.push_back(jobJson(j, publicUrl()));
    auto stream = std::make_shared<EventStream>(
        std::move(subscription),
        "retry: 2000\nevent: snapshot\ndata: " +
            json{{"jobs", jobs}, {"nodes", nodesJson(events_.nodes())}}.dump(
                -1, ' ', false, json::error_handler_t::replace) +
            "\n\n",
        streams_);
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");  // a proxy in front must not buffer the stream
    const std::string base = publicUrl();
    const auto keepalive = config_.event_keepalive;
    res.set_chunked_content_provider(
        "text/event-stream", [this, stream, base, keepalive](std::size_t, httplib::DataSink& sink) {
          if (stopping_) return false;
          if (!stream->first.empty()) {
            const bool ok = sink.write(stream->first.data(), stream->first.size());
            stream->first.clear();
            return ok;
          }
          auto events = stream->subscription->wait(keepalive);
          if (!events) {
            // The hub closed or this page fell behind: end the stream; the
            // browser reconnects and starts again from a snapshot.
            sink.done();
            return true;
          }
          std::string text;
          if (events->empty()) text = ": keep-alive\n\n";
          for (const BoothEvent& e : *events) {
            const json data =
                e.kind == BoothEvent::Kind::kJob ? jobJson(e.job, base) : nodesJson(e.nodes);
            text += "id: " + std::to_string(e.sequence) +
                    "\nevent: " + (e.kind == BoothEvent::Kind::kJob ? "job" : "nodes") +
                    "\ndata: " + data.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
          }
          return sink.write(text.data(), text.size());
        });
  });
}

}  // namespace booth
