#pragma once
// Event routes: GET /api/events (operator), the page's Server-Sent Events.
// Every event carries an id ("<epoch>-<sequence>", EventHub). A new
// stream, or one whose Last-Event-ID the hub cannot resume, starts with a
// `snapshot` ({"jobs", "nodes", "database"}); a stream that resumes gets
// the events it missed instead, then `job` (the job as it now is), `nodes`
// (the node list when it changed) and `database` ({"available",
// "error"}: the job queue's store became unavailable or came back). A
// comment every event_keepalive when idle. At most max_event_streams open
// (503 beyond). A stream whose subscriber lagged ends; the browser
// reconnects with its Last-Event-ID.
//
// Threading: each stream's body is written by the HTTP worker that serves
// it, waiting on its EventHub subscription.
#include "trainer_node/http/http_context.h"
#include "trainer_node/http/operator_gate.h"

namespace booth {

void installEventRoutes(HttpServer& server, HttpContext& context, OperatorGate& gate);

}  // namespace booth
