// capture_node: wires sources, pose stage and the trainer link; runs until
// SIGINT/SIGTERM (or --max-sessions). `capture_node import-choreography ...`
// imports a dance video as a reference choreography instead (import_command.h).
#include <iostream>
#include <string_view>
#include <thread>

#include <spdlog/spdlog.h>

#include "capture_node/capture_node.h"
#include "capture_node/capture_options.h"
#include "capture_node/import_command.h"
#include "capture_node/node_setup.h"
#include "capture_node/v4l2/v4l2_camera_list.h"
#include "common/app/command_line.h"
#include "common/app/log.h"
#include "common/transport/curve_keys.h"

int main(int argc, char** argv) {
  using namespace booth;
  if (argc > 1 && std::string(argv[1]) == "keygen") {
    return runKeygenCommand("capture_node", std::vector<std::string>(argv + 2, argv + argc));
  }
  if (argc > 1 && std::string_view(argv[1]) == "import-choreography") {
    auto parsed = parseImportCommand(argc - 1, argv + 1);
    if (!parsed.ok()) {
      std::cerr << "capture_node import-choreography: error: " << parsed.error() << "\n";
      return 2;
    }
    if (parsed->help) {
      std::cout << parsed->help_text;
      return 0;
    }
    if (!setupLogging(parsed->log_level)) {
      std::cerr << "capture_node: error: --log-level '" << parsed->log_level << "' is unknown\n";
      return 2;
    }
    return runImportCommand(parsed.value());
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
  if (opt.list_cameras) {
    listV4l2Cameras(std::cout);
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
                   std::move(parts.value().estimators), SystemClock::instance(),
                   std::move(parts.value().crop));

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
