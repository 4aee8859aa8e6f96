#pragma once
// HttpContext: what the HTTP handlers share, owned by HttpApi: the
// configuration, the services the routes use (the job queue, the capture
// side, the event hub, the blob store the clips and posters are read from,
// retention), the state every area counts in
// (metrics, downloads and event streams in flight, the clip bandwidth
// budget) and the bound port. Each area's routes (operator_gate.h,
// jobs_routes.h, event_routes.h, visitor_routes.h, health_routes.h) get it
// by reference and install their handlers on the server.
//
// Threading: HttpServer's worker threads run the handlers concurrently.
// Everything here is safe from any thread: the services are, the counters
// are atomics, and `port` is written once before the server starts.
#include <atomic>
#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "trainer_node/events/event_hub.h"
#include "trainer_node/http/bandwidth_limiter.h"
#include "trainer_node/http/booth_control.h"
#include "trainer_node/http/clip_poster.h"
#include "trainer_node/http/http_config.h"
#include "trainer_node/http/http_server.h"
#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/metrics/booth_metrics.h"
#include "trainer_node/retention/retention_sweeper.h"
#include "trainer_node/store/blob_store.h"

namespace booth {

struct HttpContext {
  HttpContext(const HttpConfig& config_in, JobQueue& jobs_in, BoothControl& booth_in,
              EventHub& events_in, BlobStore& blobs_in, RetentionSweeper& retention_in,
              HttpServer& server_in);

  // The base of clip and visitor page links: --public-url, else the bound
  // host and port.
  std::string publicUrl() const;
  // A job as the API and the events show it (http/job_json.h), with where
  // a queued one stands: its position and about how long until one of the
  // live workers takes it (queueWaitSeconds, jobs/job_queue.h, with the
  // job's own budget as a job's length: loading, training and rendering
  // fit in it). Reads the queue for a queued job only.
  nlohmann::json jobView(const JobRecord& job, const std::string& base);

  const HttpConfig& config;
  JobQueue& jobs;
  BoothControl& booth;
  EventHub& events;
  BlobStore& blobs;
  RetentionSweeper& retention;
  HttpServer& server;

  BoothMetrics metrics;
  ClipPosters posters;
  BandwidthLimiter clip_budget;
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> downloads{0};
  std::atomic<std::size_t> streams{0};
  int port = 0;
};

}  // namespace booth
