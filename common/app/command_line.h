#pragma once
// The command-line edge shared by both binaries: Boost.Program_options over
// argv plus an optional --config file with the same option names, and the
// synchronous handling of SIGINT/SIGTERM in main().
#include <csignal>
#include <string>

#include <boost/program_options.hpp>

#include "common/core/result.h"

namespace booth {

// Adds --help and --config to `desc`; call before parseCommandLine.
void addStandardOptions(boost::program_options::options_description& desc);

struct ParsedCommandLine {
  bool help = false;
  std::string help_text;  // `desc` printed, for --help
};

// Parses argv, then the --config file when given (command line wins), then
// notifies (stores into the bound variables). One Error line on a bad
// option, value or unreadable config file, naming `program` for --help.
Result<ParsedCommandLine> parseCommandLine(int argc, const char* const* argv,
                                           const boost::program_options::options_description& desc,
                                           const std::string& program);

// Blocks SIGINT and SIGTERM in the calling thread and every thread it
// starts afterwards, so that wait() takes them synchronously. Construct it in
// main() before any thread exists.
class ShutdownSignals {
 public:
  ShutdownSignals();
  // Blocks until SIGINT or SIGTERM; returns the signal number.
  int wait();
  // Wakes wait() from another thread (e.g. a component that ended itself).
  static void raise();

 private:
  sigset_t set_{};
};

}  // namespace booth
