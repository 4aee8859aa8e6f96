#pragma once
// Command line and config file of trainer_node, parsed once into the typed
// configs of its components (Boost.Program_options). Every bad value comes
// back as one Error line naming the option and the fix.
//
// Two commands: the server (default) and `trainer_node pretrain`, which
// trains the booth's base checkpoint. Model and training options are the
// same for both.
#include <filesystem>
#include <string>
#include <vector>

#include "common/core/result.h"
#include "trainer_node/http/http_api.h"
#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/jobs/job_runner.h"
#include "trainer_node/retention/retention_sweeper.h"
#include "trainer_node/pretrain/pretrainer.h"

namespace booth {

// What one trainer process runs (--roles): any non-empty set.
struct TrainerRoles {
  bool ingest = true;  // takes capture nodes' sessions, queues their jobs
  bool worker = true;  // claims and runs jobs
  bool http = true;    // operator page, API, visitor pages, clips
  bool all() const { return ingest && worker && http; }
};
// "ingest,worker,http" (any order, each at most once) -> roles; the error
// names the offending word.
Result<TrainerRoles> parseTrainerRoles(const std::string& text);

struct TrainerOptions {
  bool help = false;
  std::string help_text;
  std::string log_level = "info";
  std::filesystem::path data_dir = "data";
  bool fsync = true;
  // --database: a postgresql:// URL selects the shared stores (job queue and
  // blobs in PostgreSQL, store/shared_stores.h); empty: the embedded ones
  // (SQLite and the data folder).
  std::string database_url;
  TrainerRoles roles;
  int threads = 0;  // libtorch threads; 0 = every CPU
  IngestConfig ingest;
  HttpConfig http;
  JobRunnerConfig runner;
  RetentionConfig retention;
  JobStateMachineConfig jobs;  // --max-attempts
  // Files in --choreography-dir that were passed over, and why (logged).
  std::vector<std::string> choreography_problems;
};

// argv without the "pretrain" word for the subcommand.
Result<TrainerOptions> parseTrainerOptions(int argc, const char* const* argv);

struct PretrainOptions {
  bool help = false;
  std::string help_text;
  int threads = 0;
  std::string progress = "auto";  // bar | lines | auto (a bar when stderr is a terminal)
  PretrainConfig pretrain;
};

// argv[0] is the program, argv[1] "pretrain".
Result<PretrainOptions> parsePretrainOptions(int argc, const char* const* argv);

}  // namespace booth
