#include "trainer_node/http/health_routes.h"

#include "trainer_node/http/http_replies.h"
#include "trainer_node/http/web_assets.h"

namespace booth {

void installHealthRoutes(HttpServer& s, HttpContext& ctx) {
  s.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    MetricsSnapshot snap;
    snap.jobs_by_state = ctx.jobs.countByState();
    for (const JobRecord& j : ctx.jobs.list(20)) {
      if (j.state == JobState::kTraining) {
        snap.training_generator_steps_per_second = j.generator_steps_per_second;
        snap.training_face_steps_per_second = j.face_steps_per_second;
        break;
      }
    }
    snap.ingest = ctx.booth.stats();
    snap.nodes = ctx.events.nodes();
    snap.event_streams = ctx.streams.load();
    snap.downloads_active = ctx.downloads.load();
    snap.http_connections_refused = ctx.server.connectionsRefused();
    snap.http_connections_cut_off = ctx.server.connectionsEvicted();
    res.set_header("Cache-Control", "no-store");
    res.set_content(ctx.metrics.render(snap), "text/plain; version=0.0.4; charset=utf-8");
  });

  s.Get("/favicon.ico", [](const httplib::Request&, httplib::Response& res) {
    res.status = 204;  // no icon; saves browsers a logged 404
  });

  s.Get("/api/health", [&ctx](const httplib::Request&, httplib::Response& res) {
    if (auto why = ctx.jobs.unavailable()) {
      return sendJson(res, {{"ok", false}, {"database", "unavailable"}, {"error", *why}}, 503);
    }
    sendJson(res, {{"ok", true}, {"database", "ok"}});
  });

  s.Get(R"(/static/([a-z_]+\.(css|js|svg)))",
        [](const httplib::Request& req, httplib::Response& res) {
          auto asset = findWebAsset(req.matches[1].str());
          if (!asset) return sendError(res, 404, "no such file");
          res.set_header("Cache-Control", "no-cache");
          res.set_content(std::string(asset->content), std::string(webContentType(asset->name)));
        });
}

}  // namespace booth
