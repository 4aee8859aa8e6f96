#include "trainer_node/trainer_roles.h"

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>

#include "common/os/open_file_limit.h"
#include "trainer_node/events/event_hub.h"
#include "trainer_node/http/front_end_booth_control.h"
#include "trainer_node/http/http_api.h"
#include "trainer_node/http/ingest_booth_control.h"
#include "trainer_node/http/operator_auth.h"
#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/jobs/job_runner.h"
#include "trainer_node/retention/retention_sweeper.h"
#include "trainer_node/store/blob_session_frames.h"
#include "trainer_node/store/blob_session_sink.h"
#include "trainer_node/store/disk_space.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/pg/shared_stores.h"
#include "trainer_node/store/session_store.h"

namespace booth {
namespace {

// The queue and the blob store every role uses, embedded or shared.
struct TrainerStores {
  std::unique_ptr<JobStore> job_store;  // embedded only
  std::unique_ptr<EmbeddedJobQueue> embedded_queue;
  std::unique_ptr<LocalBlobStore> local_blobs;
  SharedStores shared;
  JobQueue* queue = nullptr;
  BlobStore* blobs = nullptr;
  // Where the ingest writes a session's records and workers read them:
  // embedded, the session files in the data folder; shared, segment blobs.
  // The data folder's session files exist in both: retention sweeps them
  // (with --database, what an older gateway or a worker left there).
  std::unique_ptr<SessionStore> session_files;
  std::unique_ptr<BlobSessionSink> session_blobs;
  std::unique_ptr<BlobSessionFrames> session_blob_frames;
  SessionSink* sink = nullptr;
  SessionFrameSource* frames = nullptr;
};

Result<TrainerStores> openStores(const TrainerOptions& opt) {
  TrainerStores stores;
  stores.session_files = std::make_unique<SessionStore>(opt.data_dir, opt.fsync);
  if (opt.database_url.empty()) {
    auto jobs = JobStore::open((opt.data_dir / "jobs.sqlite").string(), opt.jobs);
    if (!jobs.ok()) return fail(jobs.error());
    stores.job_store = std::move(jobs.value());
    stores.embedded_queue = std::make_unique<EmbeddedJobQueue>(*stores.job_store);
    // Blobs in the data folder: clips at DATA/clips/<token>.mp4.
    stores.local_blobs = std::make_unique<LocalBlobStore>(opt.data_dir, opt.fsync);
    stores.queue = stores.embedded_queue.get();
    stores.blobs = stores.local_blobs.get();
    stores.sink = stores.session_files.get();
    stores.frames = stores.session_files.get();
    return stores;
  }
  PgJobQueueOptions queue_options;
  queue_options.machine = opt.jobs;
  auto shared = openSharedStores(opt.database_url, queue_options);
  if (!shared.ok()) return fail(shared.error());
  stores.shared = std::move(shared.value());
  stores.queue = stores.shared.queue.get();
  stores.blobs = stores.shared.blobs.get();
  stores.session_blobs = std::make_unique<BlobSessionSink>(*stores.blobs);
  stores.session_blob_frames = std::make_unique<BlobSessionFrames>(*stores.blobs);
  stores.sink = stores.session_blobs.get();
  stores.frames = stores.session_blob_frames.get();
  return stores;
}

// Each HTTP connection is a descriptor; the rest (store, ingest, models)
// needs a few hundred.
void fitConnectionsToOpenFileLimit(HttpConfig& http) {
  constexpr std::size_t kOtherDescriptors = 512;
  const std::size_t open_files = raiseOpenFileLimit(http.limits.max_connections + kOtherDescriptors);
  if (open_files >= http.limits.max_connections + kOtherDescriptors) return;
  const std::size_t fit = open_files > kOtherDescriptors + 16 ? open_files - kOtherDescriptors : 16;
  spdlog::warn("the open-file limit is {} (ulimit -n): --http-max-connections lowered from {} to {}",
               open_files, http.limits.max_connections, fit);
  http.limits.max_connections = fit;
  http.limits.max_connections_per_address = std::min(http.limits.max_connections_per_address, fit);
}

std::string rolesText(const TrainerRoles& roles) {
  std::string out;
  for (auto [on, name] : {std::pair{roles.ingest, "ingest"}, std::pair{roles.worker, "worker"},
                          std::pair{roles.http, "http"}}) {
    if (!on) continue;
    if (!out.empty()) out += ",";
    out += name;
  }
  return out;
}

}  // namespace

int runTrainerRoles(TrainerOptions& opt, ShutdownSignals& signals, const CpuRuntime& rt) {
  auto error = [](const std::string& what) {
    std::cerr << "trainer_node: error: " << what << "\n";
    return 2;
  };
  const TrainerRoles roles = opt.roles;
  if (roles.http) {
    fitConnectionsToOpenFileLimit(opt.http);
    auto token = loadOperatorToken(opt.http.operator_token_file, opt.http.create_operator_token);
    if (!token.ok()) return error(token.error() + " (--operator-token-file)");
    opt.http.operator_token = token.value();
  }
  auto opened = openStores(opt);
  if (!opened.ok()) return error(opened.error());
  TrainerStores& stores = opened.value();
  JobQueue& queue = *stores.queue;

  std::unique_ptr<IngestServer> ingest;
  if (roles.ingest) {
    // The data folder's disk holds the sessions only without --database
    // (with it they go to the database, whose disk full fails the writes).
    if (opt.database_url.empty()) {
      opt.ingest.free_space = [dir = opt.data_dir] { return freeBytes(dir); };
    }
    ingest = std::make_unique<IngestServer>(opt.ingest, queue, *stores.sink);
    if (auto st = ingest->start(); !st.ok()) return error(st.error());
  }

  // Retention in every process that holds visitors' data or serves their
  // requests: the queue's lock lets one sweep the jobs and the blob store
  // at a time, and each sweeps its own data folder.
  std::unique_ptr<RetentionSweeper> retention;
  if (roles.http || roles.ingest) {
    retention = std::make_unique<RetentionSweeper>(opt.retention, queue, *stores.blobs,
                                                   *stores.session_files);
    retention->start();
  }

  std::unique_ptr<BoothControl> booth;
  std::unique_ptr<EventHub> hub;
  std::unique_ptr<HttpApi> http;
  if (roles.http) {
    if (ingest) {
      booth = std::make_unique<IngestBoothControl>(*ingest);
    } else {
      booth = std::make_unique<FrontEndBoothControl>();
    }
    EventHubConfig hub_config;
    hub_config.max_subscribers = opt.http.max_event_streams;
    hub = std::make_unique<EventHub>(hub_config, queue, [b = booth.get()] { return b->nodes(); });
    hub->start();
    http = std::make_unique<HttpApi>(opt.http, queue, *booth, *hub, *stores.blobs, *retention);
    if (auto st = http->start(); !st.ok()) return error(st.error());
    opt.runner.public_url = http->publicUrl();
  } else {
    opt.runner.public_url = opt.http.public_url;
  }

  std::unique_ptr<JobRunner> runner;
  if (roles.worker) {
    runner = std::make_unique<JobRunner>(opt.runner, queue, *stores.blobs, *stores.frames);
    // Jobs a lost worker (or this process's previous run) left claimed,
    // training or rendering resume with what is left of their budget, or
    // fail once they have used --max-attempts.
    if (int n = runner->recoverInterrupted(); n > 0) {
      spdlog::info("{} interrupted job(s) went back to the queue", n);
    }
    runner->start();
  }

  spdlog::info(
      "trainer ready: roles {}, {}{}{}{}, data {}; {}{}", rolesText(roles),
      opt.database_url.empty() ? "embedded stores"
                               : "database " + redactDatabaseUrl(opt.database_url),
      http ? ", operator page " + http->publicUrl() + "/" : "",
      ingest ? ", ingest " + ingest->endpoint() : "",
      runner ? ", worker " + runner->workerId() : "", opt.data_dir.string(), rt.describe(),
      !runner                             ? ""
      : opt.runner.base_checkpoint.empty() ? ", no base checkpoint (jobs train from scratch)"
                                           : ", base " + opt.runner.base_checkpoint);
  // Machine-readable lines for scripts that let the trainer pick free ports
  // (--http-port 0, --ingest tcp://127.0.0.1:*).
  if (http) {
    std::cout << "HTTP_URL=" << http->publicUrl()
              << "\nOPERATOR_TOKEN_FILE=" << opt.http.operator_token_file.string() << "\n";
  }
  if (ingest) std::cout << "INGEST_ENDPOINT=" << ingest->endpoint() << "\n";
  if (runner) std::cout << "WORKER_ID=" << runner->workerId() << "\n";
  std::cout << std::flush;

  const int sig = signals.wait();
  spdlog::info("stopping on signal {}", sig);
  if (http) http->stop();
  if (hub) hub->stop();
  if (retention) retention->stop();
  if (runner) runner->stop();
  if (ingest) ingest->stop();
  // A worker says how many jobs it lost to another (paused past its lease,
  // fenced): operators and the failover tests read this line.
  if (runner) {
    spdlog::info("stopped ({} job(s) lost to another worker)", runner->lostJobs());
  } else {
    spdlog::info("stopped");
  }
  return 0;
}

}  // namespace booth
