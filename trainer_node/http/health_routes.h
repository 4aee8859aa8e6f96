#pragma once
// Health routes, open to anyone (no visitor data in them):
//   GET /metrics          Prometheus text (jobs by state, ingest counters, nodes,
//                         streams, downloads, refused connections)
//   GET /api/health       {"ok": true, "database": "ok"}; 503 with
//                         {"ok": false, "database": "unavailable", "error"} while the
//                         job queue's store cannot be reached (JobQueue::unavailable)
//   GET /static/{file}    the page's CSS, script and images
//   GET /favicon.ico      204
//
// Threading: HTTP worker threads.
#include "trainer_node/http/http_context.h"

namespace booth {

void installHealthRoutes(HttpServer& server, HttpContext& context);

}  // namespace booth
