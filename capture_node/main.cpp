// capture_node: wires sources, pose stage and the trainer link; runs until
// SIGINT/SIGTERM (or --max-sessions).
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "capture_node/capture_node.h"
#include "capture_node/capture_options.h"
#include "capture_node/node_setup.h"
#include "common/app/command_line.h"
#include "common/app/log.h"
#include "common/transport/curve_keys.h"

int main(int argc, char** argv) {
  using namespace booth;
  if (argc > 1 && std::string(argv[1]) == "keygen") {
    return runKeygenCommand("capture_node", std::vector<std::string>(argv + 2, argv + argc));
  }
  auto parsed = parseCaptureOptions(argc, argv);
  if (!parsed.ok()) {
    std::cerr << "capture_node: error: " << parsed.error() << "\n";
    return 2;
  }
  const CaptureOptions& opt = parsed.value();
  if (opt.help) {
    std::cout << opt.help_text;
    return 0;
  }
  if (!setupLogging(opt.log_level)) {
    std::cerr << "capture_node: error: --log-level '" << opt.log_level
              << "' is not one of trace, debug, info, warn, error\n";
    return 2;
  }
  ShutdownSignals signals;  // before any thread starts

  auto parts = buildNodeParts(opt);
  if (!parts.ok()) {
    std::cerr << "capture_node: error: " << parts.error() << "\n";
    return 2;
  }
  CaptureNode node(opt.node, std::move(parts.value().sources),
                   std::move(parts.value().estimators));

  Status result = okStatus();
  std::jthread runner([&](std::stop_token stop) {
    result = node.run(stop);
    // Wake the signal wait below when run() ended on its own (error or
    // --max-sessions), not when a signal already did.
    if (!stop.stop_requested()) ShutdownSignals::raise();
  });
  signals.wait();
  runner.request_stop();
  runner.join();
  if (!result.ok()) {
    std::cerr << "capture_node: error: " << result.error() << "\n";
    return 2;
  }
  spdlog::info("stopped");
  return 0;
}
