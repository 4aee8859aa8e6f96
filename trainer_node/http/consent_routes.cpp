#include "trainer_node/http/consent_routes.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "trainer_node/http/http_replies.h"
#include "trainer_node/http/web_assets.h"
#include "trainer_node/store/clip_names.h"

namespace booth {
namespace {

using nlohmann::json;

// A job a visitor's link still leads to: its clip, or its frames kept by
// consent. Anything else is as unknown as a wrong token.
bool visible(const JobRecord& job) {
  return job.state == JobState::kDone ||
         (job.state == JobState::kExpired && job.frames_purged_ms == 0);
}

json consentJson(const JobRecord& job, const RetentionSweeper& retention) {
  json out = {{"may_improve_booth", consentHolds(job)},
              {"withdrawn", job.consent_withdrawn_ms != 0},
              {"frames_kept", job.state == JobState::kExpired && job.frames_purged_ms == 0}};
  if (auto until = retention.framesKeptUntil(job)) out["kept_until_ms"] = *until;
  return out;
}

}  // namespace

bool serveKeptFramesPage(const JobRecord& job, httplib::Response& res) {
  if (job.state != JobState::kExpired || job.frames_purged_ms != 0) return false;
  auto page = findWebAsset("kept.html");
  if (!page) return false;
  sendPage(res, 200, std::string(page->content));
  return true;
}

void installConsentRoutes(HttpServer& server, HttpContext& ctx) {
  const std::string path = std::string("/c/") + kClipTokenPattern + "/consent";

  server.Get(path, [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto job = ctx.jobs.byClipToken(req.matches[1]);
    if (!job || !visible(*job)) return sendError(res, 404, "no such clip");
    sendJson(res, consentJson(*job, ctx.retention));
  });

  server.Post(path, [&ctx](const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& reader) {
    auto body = readJsonBody(req, res, reader, ctx.config.limits.max_body_bytes);
    if (!body) return;
    auto job = ctx.jobs.byClipToken(req.matches[1]);
    if (!job || !visible(*job)) return sendError(res, 404, "no such clip");
    auto choice = body->find("may_improve_booth");
    if (choice == body->end() || !choice->is_boolean()) {
      return sendError(res, 400, "body must be {\"may_improve_booth\": false}");
    }
    if (choice->get<bool>()) {
      // Consent is asked for at the booth, with the operator there to explain it.
      return sendError(res, 400,
                       "this page can only withdraw the consent: send {\"may_improve_booth\": "
                       "false}");
    }
    if (!job->may_improve_booth) {
      // Withdrawing twice, or what was never given, leaves nothing to do.
      return sendJson(res, consentJson(*job, ctx.retention));
    }
    if (auto st = ctx.retention.withdrawConsent(*job); !st.ok()) {
      spdlog::error("job {}: withdrawing the visitor's consent failed: {}", job->id, st.error());
      return sendError(res, 500, "the booth could not withdraw your consent; try again");
    }
    spdlog::info("job {}: the visitor withdrew their consent to improve the booth", job->id);
    auto now = ctx.jobs.get(job->id);
    sendJson(res, consentJson(now ? *now : *job, ctx.retention));
  });
}

}  // namespace booth
