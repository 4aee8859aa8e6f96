#include "common/app/command_line.h"

#include <pthread.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace booth {
namespace po = boost::program_options;

void addStandardOptions(po::options_description& desc) {
  desc.add_options()("help,h", "print this help and exit")(
      "config", po::value<std::string>(),
      "config file (INI-style key=value lines, same names as the options)");
}

Result<ParsedCommandLine> parseCommandLine(int argc, const char* const* argv,
                                           const po::options_description& desc,
                                           const std::string& program) {
  ParsedCommandLine out;
  std::ostringstream help;
  help << desc;
  out.help_text = help.str();
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      out.help = true;
      return out;
    }
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) return fail("cannot read config file '" + path + "'; check the --config path");
      po::store(po::parse_config_file(in, desc), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return fail(std::string(e.what()) + " (see " + program + " --help)");
  }
  return out;
}

ShutdownSignals::ShutdownSignals() {
  // A shell starts background jobs with SIGINT ignored, and an ignored signal
  // never reaches sigwait: restore the default before blocking it.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

int ShutdownSignals::wait() {
  int sig = 0;
  sigwait(&set_, &sig);
  return sig;
}

void ShutdownSignals::raise() { kill(getpid(), SIGTERM); }

}  // namespace booth
