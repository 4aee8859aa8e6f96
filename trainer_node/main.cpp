// trainer_node: wires the trainer's components and runs until SIGINT/SIGTERM.
#include <sys/stat.h>

// `trainer_node pretrain ...` trains the booth's base checkpoint instead.
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <iostream>

#include <spdlog/spdlog.h>

#include "common/app/command_line.h"
#include "common/app/log.h"
#include "common/transport/curve_keys.h"
#include "trainer_node/store/data_dir.h"
#include "trainer_node/pretrain/pretrainer.h"
#include "trainer_node/train/cpu_runtime.h"
#include "trainer_node/trainer_options.h"
#include "trainer_node/trainer_roles.h"

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
  return runTrainerRoles(opt, signals, rt);
}
