// ThreadTuner: keeps the thread count whose steps are fastest now.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "process_threads.h"
#include "trainer_node/train/cpu_runtime.h"

namespace booth {
namespace {

// Feeds the tuner steps whose duration depends on the thread count, like a
// CPU that another process shares (2 threads slow) or not (2 threads fast).
struct Machine {
  double two_threads;
  double one_thread;
  double now = 0;
  void step(ThreadTuner& tuner) {
    const double d = tuner.threads() == 2 ? two_threads : one_thread;
    now += d;
    tuner.stepDone(d, now);
  }
};

TEST(ThreadTuner, KeepsTwoThreadsOnAnIdleMachine) {
  ThreadTuner tuner({2, 1}, 20);
  Machine m{0.1, 0.17};
  for (int i = 0; i < 50; ++i) m.step(tuner);
  EXPECT_EQ(tuner.threads(), 2);
  EXPECT_EQ(at::get_num_threads(), 2);
}

TEST(ThreadTuner, FallsBackToOneThreadWhenTheCpuIsShared) {
  ThreadTuner tuner({2, 1}, 20);
  Machine m{1.0, 0.17};
  for (int i = 0; i < 50; ++i) m.step(tuner);
  EXPECT_EQ(tuner.threads(), 1);
  EXPECT_EQ(at::get_num_threads(), 1);
}

TEST(ThreadTuner, KeepsAllThreadsWhenFewerAreOnlySlightlyFaster) {
  // Noise of a few percent must not leave a core idle.
  ThreadTuner tuner({2, 1}, 20);
  Machine m{0.1, 0.095};
  for (int i = 0; i < 50; ++i) m.step(tuner);
  EXPECT_EQ(tuner.threads(), 2);
}

TEST(ThreadTuner, ChecksAgainAndFollowsTheMachine) {
  ThreadTuner tuner({2, 1}, 5);
  Machine m{1.0, 0.17};
  for (int i = 0; i < 60; ++i) m.step(tuner);
  ASSERT_EQ(tuner.threads(), 1);
  m.two_threads = 0.1;  // the other process ended
  for (int i = 0; i < 200; ++i) m.step(tuner);
  EXPECT_EQ(tuner.threads(), 2);
}

TEST(ThreadTuner, OneCandidateIsFixed) {
  ThreadTuner tuner({1}, 5);
  Machine m{0.1, 5.0};
  for (int i = 0; i < 20; ++i) m.step(tuner);
  EXPECT_EQ(tuner.threads(), 1);
  EXPECT_EQ(tuner.switches(), 0);
}

TEST(ThreadTuner, RestoresTheThreadCountItFound) {
  at::set_num_threads(2);
  {
    ThreadTuner tuner({2, 1}, 20);
    Machine m{1.0, 0.17};
    for (int i = 0; i < 20; ++i) m.step(tuner);
    ASSERT_EQ(at::get_num_threads(), 1);
  }
  EXPECT_EQ(at::get_num_threads(), 2);
}

TEST(CpuRuntime, AThreadThatTrainsGetsTheConfiguredCountWhateverTheDefault) {
  configureCpuRuntime(2);
  ASSERT_EQ(configuredThreads(), 2);
  // Another thread lowers libtorch's process-wide default (as a tuner's
  // probe does); a thread started after that would inherit it.
  std::thread([] { at::set_num_threads(1); }).join();
  int inherited = 0, used = 0, after = 0;
  std::thread([&] {
    inherited = at::get_num_threads();
    used = useConfiguredThreads();
    after = at::get_num_threads();
  }).join();
  EXPECT_EQ(inherited, 1);  // the trap
  EXPECT_EQ(used, 2);
  EXPECT_EQ(after, 2);
  at::set_num_threads(2);
}

using test::processThreads;
using test::processThreadsSettledTo;

// Work that libtorch splits across the calling thread's threads (in its
// own library: at::parallel_for inlined here would not be OpenMP-parallel,
// this file is not compiled with OpenMP).
void parallelRegion() {
  auto t = at::ones({1 << 20});
  t.mul_(2);
  ASSERT_EQ(t[7].item<float>(), 2.f);
}

TEST(CpuRuntime, AThreadThatRanParallelWorkKeepsItsOpenMpWorkersUntilItEnds) {
  // The trap runOnPassingThread() avoids: libgomp counts these workers,
  // and more of them than CPUs makes every OpenMP thread sleep at barriers.
  configureCpuRuntime(2);
  const int before = processThreads();
  std::mutex m;
  std::condition_variable cv;
  bool worked = false, may_end = false;
  std::thread holder([&] {
    useConfiguredThreads();
    parallelRegion();
    std::unique_lock lock(m);
    worked = true;
    cv.notify_all();
    cv.wait(lock, [&] { return may_end; });
  });
  int while_alive = 0;
  {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return worked; });
    while_alive = processThreads();
    may_end = true;
    cv.notify_all();
  }
  holder.join();
  EXPECT_GE(while_alive, before + 2);  // the thread itself and its idle OpenMP worker
  EXPECT_EQ(processThreadsSettledTo(before), before);
}

TEST(CpuRuntime, WorkOnAPassingThreadLeavesNoOpenMpWorkersBehind) {
  configureCpuRuntime(2);
  const int before = processThreads();
  int threads_there = 0;
  runOnPassingThread([&] {
    parallelRegion();
    threads_there = at::get_num_threads();
  });
  EXPECT_EQ(threads_there, 2);  // the configured count, whatever the default
  EXPECT_EQ(processThreadsSettledTo(before), before);
}

TEST(CpuRuntime, APassingThreadsExceptionReachesTheCaller) {
  EXPECT_THROW(runOnPassingThread([] { throw std::runtime_error("bad base checkpoint"); }),
               std::runtime_error);
}

}  // namespace
}  // namespace booth
