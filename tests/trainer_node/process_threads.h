#pragma once
// How many threads this process has now (/proc/self/task): the OpenMP
// tests check that libtorch work leaves no worker threads behind.
#include <filesystem>

namespace booth::test {

inline int processThreads() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    ++n;
  return n;
}

}  // namespace booth::test
