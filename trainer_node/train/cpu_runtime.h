#pragma once
// CpuRuntime: how libtorch, OpenBLAS and malloc share the CPU. Call
// configureCpuRuntime() once at start-up, before the first model is made
// (trainer_node's main, the benchmarks). libtorch-free header.
//
// What it fixes (measured on the 2-core reference machine, default demo
// model at 128 px): libtorch runs its convolutions through oneDNN on its
// OpenMP pool, while Debian's OpenBLAS starts its own pthread pool for the
// GEMMs of the remaining layers. Idle OpenBLAS threads spin in
// sched_yield() for a while after every call, and glibc returned every
// freed multi-megabyte activation to the kernel (mmap/munmap), so each
// step page-faulted its activations in again: together half of the CPU
// time was system time. Here OpenBLAS gets one thread (its callers are
// already parallel or tiny), libtorch gets `threads` OpenMP threads, and
// malloc keeps freed memory for reuse.
#include <functional>
#include <string>
#include <vector>

namespace booth {

struct CpuRuntime {
  int intra_op_threads = 0;   // libtorch's OpenMP pool
  int blas_threads = 0;       // OpenBLAS pool (0: OpenBLAS not found)
  bool malloc_tuned = false;  // mmap threshold and trim threshold raised
  std::string describe() const;
};

// threads: libtorch intra-op threads; 0 = every CPU this process may run on
// (its affinity mask). Safe to call more than once: later calls only change
// the thread counts.
CpuRuntime configureCpuRuntime(int threads);

// CPUs this process may run on.
int availableCpus();

// libtorch's CPU thread count is per thread: at::set_num_threads() sets the
// calling thread's OpenMP setting (and a process-wide default that any
// thread's later call overwrites, the thread tuner's probes included). A
// thread that trains or renders (the job runner's, the pretrainer's) calls
// useConfiguredThreads() first: it applies the count configureCpuRuntime()
// chose to the calling thread, so that the thread does not run on whatever
// the default was when it first touched libtorch (on x86 libtorch's own
// default is half the CPUs: one thread on a 2-core machine). Returns the
// count now in use on this thread; before configureCpuRuntime() it changes
// nothing.
int useConfiguredThreads();
// The count configureCpuRuntime() chose (0 before it ran).
int configuredThreads();

// libgomp (libtorch's OpenMP) keeps a pool of worker threads for every
// thread that has run a parallel region, until that thread ends, and counts
// the workers of all pools together. Once there are more of them than CPUs
// it takes the process for oversubscribed: every OpenMP thread that waits
// at a barrier then spins only about 100 times (instead of 300000, a few
// milliseconds) before it sleeps in the kernel, so each of the thousands of
// parallel regions of a training step pays a futex wake-up, and two threads
// train no faster than one (the thread tuner then rightly picks one). On a
// 2-core machine one idle pool besides the training thread's is enough:
// trainer_node's start-up check built a model on the main thread, and every
// job then trained at 3.4-3.6 generator steps/s instead of 5.1 with
// libtorch's threads mostly asleep in futex calls.
// So libtorch work outside the thread that trains (the job runner's, the
// pretrainer's) goes through runOnPassingThread(): it runs `fn` on a thread
// of its own with the configured thread count and waits for it; the pool
// ends with that thread. An exception `fn` throws is thrown here.
void runOnPassingThread(const std::function<void()>& fn);

// ThreadTuner: picks libtorch's CPU thread count while training. libtorch's
// OpenMP threads meet at a barrier after every operation; when another
// process holds one of the cores, the waiting thread spins until the
// holder is scheduled again. On the 2-core reference machine a step took
// 0.10 s with 2 threads and an idle CPU, 0.17 s with 1 thread, and about
// 1 s with 2 threads while another process (a compiler) ran. The tuner
// times steps with each candidate count and keeps the fastest, checking
// the others again every recheck_seconds (a short probe, abandoned at the
// first step that is clearly slower). Candidates are in order of
// preference (all threads first): a later one is chosen only when it is
// clearly faster (its median step at most kPreferMargin of the preferred
// one's), so that a few noisy steps do not leave a core idle for the next
// recheck_seconds.
//
// Threading: used by the training thread only. It calls at::set_num_threads
// (process-wide); the destructor restores the count it found.
class ThreadTuner {
 public:
  // candidates: thread counts to choose among, best guess first. With one
  // candidate the tuner only sets it.
  explicit ThreadTuner(std::vector<int> candidates, double recheck_seconds = 20);
  ~ThreadTuner();
  ThreadTuner(const ThreadTuner&) = delete;
  ThreadTuner& operator=(const ThreadTuner&) = delete;

  // Records how long the last step took (at the thread count in use) and
  // sets the count for the next one. `now`: any clock, in seconds.
  void stepDone(double step_seconds, double now);
  // The steps change in kind (another phase): forget the timings.
  void reset(double now);
  int threads() const;
  // How many times the choice changed (for logs and tests).
  int switches() const { return switches_; }

 private:
  void use(std::size_t index);
  void startRound(bool all);
  double median(std::size_t index) const;

  std::vector<int> candidates_;
  double recheck_seconds_;
  std::vector<std::vector<double>> samples_;  // recent step times per candidate
  std::vector<std::size_t> queue_;            // candidates still to time in this round
  std::size_t current_ = 0;
  std::size_t best_ = 0;
  int steps_on_current_ = 0;
  double next_check_ = 0;
  int switches_ = 0;
  int initial_threads_ = 0;
};

}  // namespace booth
