#pragma once
// ConsentRoutes: the visitor's "may improve the booth" choice on the web
// side. The operator ticks it when starting the session (POST
// /api/sessions {"may_improve_booth": true}, off by default); the visitor
// sees it on their page and may withdraw it there. The clip's token in the
// link is the visitor's only key, as for the clip itself.
//
//   GET  /c/{token}/consent   {"may_improve_booth", "withdrawn", "kept_until_ms",
//                             "frames_kept"}: what the visitor page shows
//   POST /c/{token}/consent   {"may_improve_booth": false} (JSON only):
//                             withdraws it; frames consent kept past the
//                             clip are deleted at once (RetentionSweeper)
//
// A visitor whose clip has expired but whose frames consent still keeps
// gets a page saying so, with the same way to withdraw (kept.html), at the
// clip's own link: HttpApi asks serveKeptFramesPage() first.
//
// Threading: HttpServer's workers call the handlers; the job queue and
// RetentionSweeper are safe from any thread.
#include "trainer_node/http/http_context.h"
#include "trainer_node/http/http_server.h"

namespace booth {

// Installs the routes; call before any catch-all route of /c/ or POST.
void installConsentRoutes(HttpServer& server, HttpContext& ctx);
// The page for a visitor whose clip is gone but whose frames and poses
// consent keeps; false (nothing answered) for any other job.
bool serveKeptFramesPage(const JobRecord& job, httplib::Response& res);

}  // namespace booth
