#pragma once
// Test support: a program started as a real child process, its stdout and
// stderr captured to a file. The destructor kills it if it still runs.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace booth::testing {

class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  // Everything the process printed so far.
  std::string output() const;
  // The rest of the first output line starting with `prefix`, once printed.
  std::optional<std::string> waitForLine(const std::string& prefix, std::chrono::seconds timeout);
  void signal(int sig);
  // Exit code, or nullopt on timeout (-signal when killed by a signal).
  std::optional<int> wait(std::chrono::seconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> status_;
};

}  // namespace booth::testing
