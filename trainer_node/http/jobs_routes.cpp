#include "trainer_node/http/jobs_routes.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "trainer_node/http/http_replies.h"
#include "trainer_node/http/job_json.h"
#include "trainer_node/http/qr_svg.h"
#include "trainer_node/http/web_assets.h"
#include "trainer_node/store/clip_names.h"

namespace booth {
namespace {

using nlohmann::json;

constexpr const char* kCancelReason = "cancelled by the operator";
const std::string kJobId = R"(([A-Za-z0-9_.-]{1,128}))";

// The HTTP status for a queue failure.
int statusOf(const QueueStatus& st) {
  switch (st.error()) {
    case JobQueueError::kNotFound:
      return 404;
    case JobQueueError::kUnavailable:
      return 503;
    default:
      return 409;
  }
}

// POST /api/sessions: the body checked field by field, then the capture side.
void startSession(HttpContext& ctx, const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& reader) {
  const HttpConfig& config = ctx.config;
  auto body = readJsonBody(req, res, reader, config.limits.max_body_bytes);
  if (!body) return;
  SessionRequest request;
  auto seconds = numberField(*body, "seconds", config.default_capture_seconds);
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
    return sendError(res, 400,
                     "seconds must be in (0, 120], got " + formatSeconds(request.capture_seconds));
  }
  if (request.train_budget_seconds < 0 ||
      request.train_budget_seconds > config.max_train_budget_seconds) {
    return sendError(res, 400,
                     "budget_seconds must be in [0, " +
                         formatSeconds(config.max_train_budget_seconds) + "] (0 = default " +
                         formatSeconds(config.default_train_budget_seconds) + "), got " +
                         formatSeconds(request.train_budget_seconds));
  }
  if (!request.choreography.empty() &&
      std::find(config.choreographies.begin(), config.choreographies.end(),
                request.choreography) == config.choreographies.end()) {
    return sendError(res, 400, "unknown choreography '" + request.choreography.substr(0, 64) + "'");
  }
  auto job = ctx.booth.startSession(request);
  if (!job.ok()) return sendError(res, 409, job.error());
  sendJson(res, jobJson(job.value(), ctx.publicUrl()), 201);
}

// DELETE /api/jobs/{id}: 200 when the job stopped now (receiving or
// queued), 202 when its worker stops it (it sees the cancel at its next
// write, within about a second).
void cancelJob(HttpContext& ctx, const std::string& job_id, httplib::Response& res) {
  auto job = ctx.jobs.get(job_id);
  if (!job) {
    if (auto why = ctx.jobs.unavailable()) return sendError(res, 503, *why);
    return sendError(res, 404, "no job '" + job_id + "'");
  }
  if (isFinished(job->state)) {
    return sendError(res, 409,
                     "job " + job_id + " has already finished (" + jobStateName(job->state) +
                         "); DELETE /api/jobs/" + job_id + "/data deletes its data");
  }
  // A session still being captured: the capture nodes are told to stop
  // (the ingest cancels the job through the queue).
  bool cancelled = job->state == JobState::kReceiving &&
                   ctx.booth.cancelSession(job->session_id, kCancelReason);
  if (!cancelled) {
    if (auto st = ctx.jobs.cancel(job_id, kCancelReason); !st.ok()) {
      return sendError(res, statusOf(st), st.message());
    }
  }
  const bool stopped_now = !isRunning(job->state);
  auto now = ctx.jobs.get(job_id);
  spdlog::info("job {} cancelled by the operator ({})", job_id,
               stopped_now ? "stopped" : "its worker stops it");
  sendJson(res, jobJson(now ? *now : *job, ctx.publicUrl()), stopped_now ? 200 : 202);
}

}  // namespace

void installJobsRoutes(HttpServer& s, HttpContext& ctx, OperatorGate& gate) {
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    auto page = findWebAsset("operator.html");
    sendPage(res, 200, page ? std::string(page->content) : "operator page missing from the build");
  });

  s.Get("/api/config", [&ctx, &gate](const httplib::Request& req, httplib::Response& res) {
    if (!gate.authorized(req, res)) return;
    sendJson(res, {{"choreographies", ctx.config.choreographies},
                   {"default_capture_seconds", ctx.config.default_capture_seconds},
                   {"default_budget_seconds", ctx.config.default_train_budget_seconds},
                   {"max_budget_seconds", ctx.config.max_train_budget_seconds},
                   {"public_url", ctx.publicUrl()}});
  });

  s.Get("/api/choreographies", [&ctx](const httplib::Request&, httplib::Response& res) {
    sendJson(res, ctx.config.choreographies);
  });

  s.Post("/api/sessions", [&ctx, &gate](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& reader) {
    if (!gate.authorized(req, res)) return;
    startSession(ctx, req, res, reader);
  });

  s.Get("/api/nodes", [&ctx, &gate](const httplib::Request& req, httplib::Response& res) {
    if (!gate.authorized(req, res)) return;
    sendJson(res, nodesJson(ctx.booth.nodes()));
  });

  s.Get("/api/jobs", [&ctx, &gate](const httplib::Request& req, httplib::Response& res) {
    if (!gate.authorized(req, res)) return;
    const std::vector<JobRecord> jobs = ctx.jobs.list(100);
    // An empty list from a database that cannot be reached is not "no jobs".
    if (jobs.empty()) {
      if (auto why = ctx.jobs.unavailable()) return sendError(res, 503, *why);
    }
    json out = json::array();
    for (const JobRecord& j : jobs) out.push_back(ctx.jobView(j, ctx.publicUrl()));
    sendJson(res, out);
  });

  s.Get("/api/jobs/" + kJobId, [&ctx, &gate](const httplib::Request& req,
                                            httplib::Response& res) {
    if (!gate.authorized(req, res)) return;
    auto job = ctx.jobs.get(req.matches[1]);
    if (!job) {
      if (auto why = ctx.jobs.unavailable()) return sendError(res, 503, *why);
      return sendError(res, 404, "no job '" + req.matches[1].str() + "'");
    }
    sendJson(res, ctx.jobView(*job, ctx.publicUrl()));
  });

  s.Get("/api/jobs/" + kJobId + R"(/qr\.svg)", [&ctx, &gate](const httplib::Request& req,
                                                            httplib::Response& res) {
    if (!gate.authorized(req, res)) return;
    auto job = ctx.jobs.get(req.matches[1]);
    if (!job || job->state != JobState::kDone || job->purged_ms != 0) {
      return sendError(res, 404, "no finished job '" + req.matches[1].str() + "' with a clip");
    }
    res.set_header("Cache-Control", "private, max-age=3600");
    res.set_content(qrSvg(visitorPageUrl(ctx.publicUrl(), job->clip_token)), "image/svg+xml");
  });

  s.Delete("/api/jobs/" + kJobId, [&ctx, &gate](const httplib::Request& req,
                                               httplib::Response& res,
                                               const httplib::ContentReader&) {
    if (!gate.authorized(req, res)) return;
    cancelJob(ctx, req.matches[1], res);
  });

  s.Delete("/api/jobs/" + kJobId + "/data",
           [&ctx, &gate](const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader&) {
             if (!gate.authorized(req, res)) return;
             const std::string job_id = req.matches[1];
             auto job = ctx.jobs.get(job_id);
             if (!job) return sendError(res, 404, "no job '" + job_id + "'");
             if (auto st = ctx.retention.purge(*job); !st.ok()) {
               return sendError(res, 409, st.error());
             }
             auto now = ctx.jobs.get(job_id);
             spdlog::info("job {}: the visitor's data was deleted on request", job_id);
             sendJson(res, jobJson(now ? *now : *job, ctx.publicUrl()));
           });
}

}  // namespace booth
