#pragma once
// JobsRoutes: the operator's page and JSON API over the job queue and the
// capture side, all behind the OperatorGate:
//   GET  /                          the operator page
//   GET  /api/config                choreographies, default and maximum budget and capture seconds
//   GET  /api/choreographies        the allowed choreographies
//   POST /api/sessions              start a session (BoothControl::startSession)
//   GET  /api/nodes                 capture nodes and their cameras
//   GET  /api/jobs, /api/jobs/{id}  jobs (newest first), one with its queue position
//   GET  /api/jobs/{id}/qr.svg      QR code of the job's visitor page
//   DELETE /api/jobs/{id}           cancel: a receiving session is stopped at the
//                                   capture nodes, then JobQueue::cancel
//   DELETE /api/jobs/{id}/data      retention's purge of a finished job
// Jobs are read and written through the JobQueue only.
//
// Threading: HTTP worker threads; everything used is safe from any thread.
#include "trainer_node/http/http_context.h"
#include "trainer_node/http/operator_gate.h"

namespace booth {

void installJobsRoutes(HttpServer& server, HttpContext& context, OperatorGate& gate);

}  // namespace booth
