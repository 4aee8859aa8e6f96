#pragma once
// How many threads this process has now (/proc/self/task): the OpenMP
// tests check that libtorch work leaves no worker threads behind.
#include <chrono>
#include <filesystem>
#include <thread>

namespace booth::test {

inline int processThreads() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task"))
    ++n;
  return n;
}

// The thread count once it has come down to `expected`, or what it is after
// `timeout`: an OpenMP pool's workers are told to end when their thread
// ends, and leave /proc/self/task a moment later.
inline int processThreadsSettledTo(int expected,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  int n = processThreads();
  while (n > expected && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = processThreads();
  }
  return n;
}

}  // namespace booth::test
