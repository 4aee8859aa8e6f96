// ThreadTuner: keeps the thread count whose steps are fastest now.
#include <gtest/gtest.h>

#include <thread>

#include <ATen/Parallel.h>

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

}  // namespace
}  // namespace booth
