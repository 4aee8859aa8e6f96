// trainer_node: wires the trainer's components and runs until SIGINT/SIGTERM.
#include <sys/stat.h>

// `trainer_node pretrain ...` trains the booth's base checkpoint instead.
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <spdlog/spdlog.h>

#include "common/app/command_line.h"
#include "common/app/log.h"
#include "common/os/open_file_limit.h"
#include "common/transport/curve_keys.h"
#include "trainer_node/events/event_hub.h"
#include "trainer_node/http/ingest_booth_control.h"
#include "trainer_node/http/http_api.h"
#include "trainer_node/http/operator_auth.h"
#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/jobs/job_runner.h"
#include "trainer_node/retention/retention_sweeper.h"
#include "trainer_node/store/data_dir.h"
#include "trainer_node/pretrain/pretrainer.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/shared_stores.h"
#include "trainer_node/store/session_store.h"
#include "trainer_node/train/cpu_runtime.h"
#include "trainer_node/trainer_options.h"

namespace {

int pretrainMain(int argc, char** argv) {
  using namespace booth;
  auto parsed = parsePretrainOptions(argc, argv);
  if (!parsed.ok()) {
    std::cerr << "trainer_node pretrain: error: " << parsed.error() << "\n";
    return 2;
  }
  PretrainOptions& opt = parsed.value();
  if (opt.help) {
    std::cout << opt.help_text;
    return 0;
  }
  if (opt.progress == "auto") opt.pretrain.progress_bar = isatty(STDERR_FILENO) != 0;
  ShutdownSignals signals;  // before any thread starts
  const CpuRuntime rt = configureCpuRuntime(opt.threads);
  opt.pretrain.train.adapt_threads = opt.threads == 0;
  std::cerr << "trainer_node pretrain: " << rt.describe() << "\n";
  Pretrainer pretrainer(opt.pretrain, std::cerr);
  pretrainer.start([] { ShutdownSignals::raise(); });
  signals.wait();  // the run ended, or SIGINT/SIGTERM: then it checkpoints and stops
  pretrainer.stop();
  auto summary = pretrainer.wait();
  if (!summary.ok()) {
    std::cerr << "trainer_node pretrain: error: " << summary.error() << "\n";
    return 1;
  }
  return summary->finished ? 0 : 130;
}

// A worker on the shared stores (--database, --roles worker): claims jobs
// from the PostgreSQL queue and publishes checkpoints and clips to its blob
// store; the sessions' frames come from --data-dir (shared by the workers
// of one machine).
int sharedWorkerMain(booth::TrainerOptions& opt, booth::ShutdownSignals& signals,
                     const booth::CpuRuntime& rt) {
  using namespace booth;
  PgJobQueueOptions queue_options;
  queue_options.machine = opt.jobs;
  auto stores = openSharedStores(opt.database_url, queue_options);
  if (!stores.ok()) {
    std::cerr << "trainer_node: error: " << stores.error() << "\n";
    return 2;
  }
  SessionStore sessions(opt.data_dir, opt.fsync);
  opt.runner.public_url = opt.http.public_url;
  JobRunner runner(opt.runner, *stores->queue, *stores->blobs, sessions);
  if (int n = runner.recoverInterrupted(); n > 0) {
    spdlog::info("{} job(s) whose worker was lost went back to the queue", n);
  }
  runner.start();
  spdlog::info("worker {} ready: database {}, frames from {}, lease {} s; {}{}", runner.workerId(),
               redactDatabaseUrl(opt.database_url), opt.data_dir.string(),
               opt.runner.lease.count() / 1000.0, rt.describe(),
               opt.runner.base_checkpoint.empty() ? ", no base checkpoint (jobs train from scratch)"
                                                  : ", base " + opt.runner.base_checkpoint);
  std::cout << "WORKER_ID=" << runner.workerId() << std::endl;
  const int sig = signals.wait();
  spdlog::info("stopping on signal {}", sig);
  runner.stop();
  spdlog::info("stopped ({} job(s) lost to another worker)", runner.lostJobs());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace booth;
  if (argc > 1 && std::string(argv[1]) == "keygen") {
    return runKeygenCommand("trainer_node", std::vector<std::string>(argv + 2, argv + argc));
  }
  if (argc >= 2 && std::strcmp(argv[1], "pretrain") == 0) return pretrainMain(argc, argv);
  auto parsed = parseTrainerOptions(argc, argv);
  if (!parsed.ok()) {
    std::cerr << "trainer_node: error: " << parsed.error() << "\n";
    return 2;
  }
  TrainerOptions& opt = parsed.value();
  if (opt.help) {
    std::cout << opt.help_text;
    return 0;
  }
  if (!opt.database_url.empty() && (opt.roles.ingest || opt.roles.http)) {
    // The ingest, the HTTP front-end and retention still keep their jobs in
    // SQLite (store/job_store.h); only the worker runs on the shared stores.
    std::cerr << "trainer_node: error: --database " << redactDatabaseUrl(opt.database_url)
              << " runs --roles worker only in this build (the ingest and HTTP roles use SQLite "
                 "and --data-dir yet); run workers with --roles worker --database ..., or every "
                 "role without --database\n";
    return 2;
  }
  if (!setupLogging(opt.log_level)) {
    std::cerr << "trainer_node: error: --log-level '" << opt.log_level
              << "' is not one of trace, debug, info, warn, error\n";
    return 2;
  }
  for (const auto& problem : opt.choreography_problems) {
    spdlog::warn("choreography passed over: {}", problem);
  }
  ShutdownSignals signals;  // before any thread starts
  const CpuRuntime rt = configureCpuRuntime(opt.threads);
  opt.runner.train.adapt_threads = opt.threads == 0;
  // Bad device, model size or base checkpoint: one line now, not per job.
  if (auto st = preflight(opt.runner); !st.ok()) {
    std::cerr << "trainer_node: error: " << st.error() << "\n";
    return 2;
  }

  // Visitors' frames, models and clips are private: everything this
  // process writes is readable by its user only, and the data directory is
  // made 0700 (files already there 0600).
  ::umask(077);
  if (auto st = secureDataDir(opt.data_dir); !st.ok()) {
    std::cerr << "trainer_node: error: " << st.error() << "\n";
    return 2;
  }
  if (!opt.database_url.empty()) return sharedWorkerMain(opt, signals, rt);
  // Each HTTP connection is a descriptor; the rest (store, ingest, models)
  // needs a few hundred.
  constexpr std::size_t kOtherDescriptors = 512;
  const std::size_t open_files =
      raiseOpenFileLimit(opt.http.limits.max_connections + kOtherDescriptors);
  if (open_files < opt.http.limits.max_connections + kOtherDescriptors) {
    const std::size_t fit = open_files > kOtherDescriptors + 16 ? open_files - kOtherDescriptors : 16;
    spdlog::warn("the open-file limit is {} (ulimit -n): --http-max-connections lowered from {} to {}",
                 open_files, opt.http.limits.max_connections, fit);
    opt.http.limits.max_connections = fit;
    opt.http.limits.max_connections_per_address =
        std::min(opt.http.limits.max_connections_per_address, fit);
  }
  auto token = loadOperatorToken(opt.http.operator_token_file, opt.http.create_operator_token);
  if (!token.ok()) {
    std::cerr << "trainer_node: error: " << token.error() << " (--operator-token-file)\n";
    return 2;
  }
  opt.http.operator_token = token.value();
  auto jobs = JobStore::open((opt.data_dir / "jobs.sqlite").string(), opt.jobs);
  if (!jobs.ok()) {
    std::cerr << "trainer_node: error: " << jobs.error() << "\n";
    return 2;
  }
  SessionStore sessions(opt.data_dir, opt.fsync);
  opt.ingest.free_space = [dir = opt.data_dir] { return freeBytes(dir); };
  // One process, every role: the embedded queue over the job store.
  EmbeddedJobQueue queue(*jobs.value());
  IngestServer ingest(opt.ingest, queue, sessions);
  if (auto st = ingest.start(); !st.ok()) {
    std::cerr << "trainer_node: error: " << st.error() << "\n";
    return 2;
  }
  IngestBoothControl booth(ingest);
  EventHubConfig hub_config;
  hub_config.max_subscribers = opt.http.max_event_streams;
  EventHub hub(hub_config, queue, [&booth] { return booth.nodes(); });
  hub.start();
  RetentionSweeper retention(opt.retention, *jobs.value(), sessions, opt.data_dir / "clips");
  retention.start();
  HttpApi http(opt.http, queue, booth, hub, retention);
  if (auto st = http.start(); !st.ok()) {
    std::cerr << "trainer_node: error: " << st.error() << "\n";
    return 2;
  }
  opt.runner.public_url = http.publicUrl();
  // Blobs in the data folder (clips where the HTTP side serves them).
  LocalBlobStore blobs(opt.data_dir, opt.fsync);
  JobRunner runner(opt.runner, queue, blobs, sessions);
  // Jobs a previous run left claimed, training or rendering resume
  // (re-queued with what is left of their budget), or fail once they have
  // used --max-attempts; sessions still being received are reopened by the
  // ingest.
  if (int n = runner.recoverInterrupted(); n > 0) {
    spdlog::info("{} job(s) interrupted by the previous run will resume", n);
  }
  runner.start();
  spdlog::info("trainer ready: operator page {}/ , ingest {}, data {}; {}{}", http.publicUrl(),
               ingest.endpoint(), opt.data_dir.string(), rt.describe(),
               opt.runner.base_checkpoint.empty() ? ", no base checkpoint (jobs train from scratch)"
                                                  : ", base " + opt.runner.base_checkpoint);
  // Machine-readable lines for scripts that let the trainer pick free ports
  // (--http-port 0, --ingest tcp://127.0.0.1:*).
  std::cout << "HTTP_URL=" << http.publicUrl() << "\nINGEST_ENDPOINT=" << ingest.endpoint()
            << "\nOPERATOR_TOKEN_FILE=" << opt.http.operator_token_file.string() << std::endl;

  const int sig = signals.wait();
  spdlog::info("stopping on signal {}", sig);
  http.stop();
  hub.stop();
  retention.stop();
  runner.stop();
  ingest.stop();
  spdlog::info("stopped");
  return 0;
}
