#pragma once
// Command line and config file of trainer_node, parsed once into the typed
// configs of its components (Boost.Program_options). Every bad value comes
// back as one Error line naming the option and the fix.
#include <filesystem>
#include <string>

#include "common/core/result.h"
#include "trainer_node/http/http_api.h"
#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/jobs/job_runner.h"
#include "trainer_node/retention/retention_sweeper.h"

namespace booth {

struct TrainerOptions {
  bool help = false;
  std::string help_text;
  std::string log_level = "info";
  std::filesystem::path data_dir = "data";
  bool fsync = true;
  IngestConfig ingest;
  HttpConfig http;
  JobRunnerConfig runner;
  RetentionConfig retention;
};

Result<TrainerOptions> parseTrainerOptions(int argc, const char* const* argv);

}  // namespace booth
