#include "trainer_node/train/cpu_runtime.h"

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <sstream>
#include <thread>

#include <ATen/Parallel.h>

namespace booth {
namespace {

// Allocations below this come from malloc's heap and are reused; a 256x256
// activation of 64 channels is 16 MiB, the largest the booth's models make
// per layer. Larger blocks (datasets) are still mapped and unmapped.
constexpr int kMmapThreshold = 64 << 20;
// Freed heap memory is kept up to this much before it is given back.
constexpr int kTrimThreshold = 512 << 20;

// A probe times this many steps per candidate; the first step after a
// switch is not counted (the OpenMP pool wakes up).
constexpr int kProbeSteps = 3;
// A probe step this much slower than the best candidate's median ends the
// probe at once.
constexpr double kAbandonFactor = 1.5;
constexpr std::size_t kKeptSamples = 5;
// A less preferred candidate must be at least this much faster (median
// step time ratio) to be chosen.
constexpr double kPreferMargin = 0.85;

// The count configureCpuRuntime() chose; 0 before.
std::atomic<int> configured_threads{0};

using SetThreads = void (*)(int);
using GetThreads = int (*)();

}  // namespace

std::string CpuRuntime::describe() const {
  std::ostringstream out;
  out << "libtorch threads " << intra_op_threads << ", OpenBLAS threads "
      << (blas_threads > 0 ? std::to_string(blas_threads) : std::string("n/a"))
      << ", malloc " << (malloc_tuned ? "keeps freed memory" : "default");
  return out.str();
}

int availableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  return 1;
}

CpuRuntime configureCpuRuntime(int threads) {
  static std::once_flag once;
  static bool malloc_tuned = false;
  std::call_once(once, [] {
    malloc_tuned = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 &&
                   mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1;
    try {
      // Inter-op parallelism is unused (no TorchScript forks); one thread
      // instead of a pool of idle ones. Throws once parallel work started.
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
    }
  });
  CpuRuntime rt;
  rt.malloc_tuned = malloc_tuned;
  rt.intra_op_threads = threads > 0 ? threads : availableCpus();
  at::set_num_threads(rt.intra_op_threads);
  rt.intra_op_threads = at::get_num_threads();
  configured_threads.store(rt.intra_op_threads);
  // OpenBLAS is found at run time: Debian's libtorch links whichever BLAS
  // the alternatives select, and the reference BLAS has no threads at all.
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(1);
    if (auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")))
      rt.blas_threads = get();
  }
  return rt;
}

int configuredThreads() { return configured_threads.load(); }

int useConfiguredThreads() {
  const int n = configured_threads.load();
  if (n > 0 && at::get_num_threads() != n) at::set_num_threads(n);
  return at::get_num_threads();
}

void runOnPassingThread(const std::function<void()>& fn) {
  std::exception_ptr thrown;
  std::thread([&] {
    try {
      useConfiguredThreads();
      fn();
    } catch (...) {  // handed to the caller, whose unit of work it is
      thrown = std::current_exception();
    }
  }).join();
  if (thrown) std::rethrow_exception(thrown);
}

ThreadTuner::ThreadTuner(std::vector<int> candidates, double recheck_seconds)
    : candidates_(std::move(candidates)),
      recheck_seconds_(recheck_seconds),
      initial_threads_(at::get_num_threads()) {
  if (candidates_.empty()) candidates_.push_back(initial_threads_);
  samples_.resize(candidates_.size());
  for (std::size_t i = 0; i < candidates_.size(); ++i) queue_.push_back(i);
  at::set_num_threads(candidates_[0]);
}

ThreadTuner::~ThreadTuner() { at::set_num_threads(initial_threads_); }

int ThreadTuner::threads() const { return candidates_[current_]; }

void ThreadTuner::use(std::size_t index) {
  if (index != current_) {
    ++switches_;
    at::set_num_threads(candidates_[index]);
  }
  current_ = index;
  steps_on_current_ = 0;
}

double ThreadTuner::median(std::size_t index) const {
  auto v = samples_[index];
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

void ThreadTuner::startRound(bool all) {
  queue_.clear();
  for (std::size_t i = 0; i < candidates_.size(); ++i) {
    if (all || i != best_) queue_.push_back(i);
  }
  for (std::size_t i : queue_) samples_[i].clear();
  use(queue_.front());
}

void ThreadTuner::reset(double now) {
  if (candidates_.size() < 2) return;
  (void)now;
  startRound(/*all=*/true);
}

void ThreadTuner::stepDone(double step_seconds, double now) {
  if (candidates_.size() < 2) return;
  ++steps_on_current_;
  if (steps_on_current_ > 1) {  // the first step after a switch wakes the pool: not counted
    auto& s = samples_[current_];
    s.push_back(step_seconds);
    if (s.size() > kKeptSamples) s.erase(s.begin());
  }
  if (queue_.empty()) {  // exploiting the best
    if (now >= next_check_) startRound(/*all=*/false);
    return;
  }
  const bool timed = steps_on_current_ > kProbeSteps;
  const bool clearly_slower = steps_on_current_ > 1 && current_ != best_ &&
                              !samples_[best_].empty() &&
                              step_seconds > kAbandonFactor * median(best_);
  if (!timed && !clearly_slower) return;
  queue_.erase(queue_.begin());
  if (!queue_.empty()) {
    use(queue_.front());
    return;
  }
  // In order of preference: a later candidate must be clearly faster.
  std::size_t best = candidates_.size();
  for (std::size_t i = 0; i < candidates_.size(); ++i) {
    if (samples_[i].empty()) continue;
    if (best == candidates_.size() || median(i) < kPreferMargin * median(best)) best = i;
  }
  if (best < candidates_.size()) best_ = best;
  next_check_ = now + recheck_seconds_;
  use(best_);
}

}  // namespace booth
