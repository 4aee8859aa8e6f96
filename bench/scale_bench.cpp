// Several trainer workers as real processes on one PostgreSQL database
// (bench/run.sh scale starts a private server): how many short jobs an hour
// 1, 2 and 4 workers finish (wall-clock budgets, so jobs run side by side
// even on few cores), and how long after a worker is killed with SIGKILL
// another one trains its job again, with the training time lost.
//   scale_bench --database URL --trainer BIN --dir DIR [--quick]
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/worker_fleet.h"

namespace booth {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::WorkerFleet;
using testing::waitFor;

void figure(const std::string& name, double value, const char* unit, const std::string& target) {
  std::printf("%s = %.1f %s  (target %s)\n", name.c_str(), value, unit, target.c_str());
  std::fflush(stdout);
}

[[noreturn]] void die(const std::string& why, const WorkerFleet* fleet = nullptr) {
  std::fprintf(stderr, "scale_bench: error: %s\n", why.c_str());
  if (fleet) std::fprintf(stderr, "%s\n", fleet->logs().c_str());
  std::exit(1);
}

double seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

struct Setup {
  std::string url, trainer;
  std::filesystem::path dir;
};

// `workers` workers, `jobs` jobs of `budget` s queued at once: finished
// jobs per hour from the first enqueue to the last done.
double jobsPerHour(const Setup& s, int workers, int jobs, double budget) {
  WorkerFleet fleet(s.trainer, s.dir / ("workers" + std::to_string(workers)), s.url);
  if (auto st = fleet.open(); !st.ok()) die(st.error());
  std::vector<ChildProcess*> started;
  for (int w = 0; w < workers; ++w) {
    // (Not "w" + std::to_string(…): GCC 12 warns falsely on that.)
    std::string name = "w";
    name += std::to_string(workers);
    name += "-";
    name += std::to_string(w);
    started.push_back(&fleet.startWorker(name, {}));
  }
  for (auto* w : started)
    if (!w->waitForLine("WORKER_ID=", 120s)) die("a worker did not start", &fleet);
  const std::string prefix = "jph" + std::to_string(workers) + "-";
  const auto t0 = Clock::now();
  for (int j = 0; j < jobs; ++j) {
    if (auto st = fleet.queueJob(prefix + std::to_string(j), budget); !st.ok()) die(st.error());
  }
  const bool finished = waitFor([&] {
    for (int j = 0; j < jobs; ++j) {
      auto job = fleet.job(prefix + std::to_string(j));
      if (!job || !isFinished(job->state)) return false;
    }
    return true;
  }, std::chrono::seconds(static_cast<int>(budget * jobs * 3 + 120)));
  const double wall = seconds(t0, Clock::now());
  if (!finished) die("the jobs did not finish", &fleet);
  int done = 0;
  for (int j = 0; j < jobs; ++j) done += fleet.job(prefix + std::to_string(j))->state == JobState::kDone;
  if (done != jobs) die(std::to_string(jobs - done) + " job(s) did not end done", &fleet);
  return done / wall * 3600;
}

// Two workers, one job; the worker training it is killed a few seconds
// after a checkpoint. Takeover: from the kill until the other worker trains
// the job again (its lease had to run out first). Lost: training since the
// last published checkpoint.
void takeover(const Setup& s, double checkpoint_every) {
  WorkerFleet fleet(s.trainer, s.dir / "takeover", s.url);
  if (auto st = fleet.open(); !st.ok()) die(st.error());
  const std::vector<std::string> options = {"--checkpoint-every", std::to_string(checkpoint_every)};
  ChildProcess& a = fleet.startWorker("takeover-a", options);
  ChildProcess& b = fleet.startWorker("takeover-b", options);
  if (!a.waitForLine("WORKER_ID=", 120s) || !b.waitForLine("WORKER_ID=", 120s))
    die("a worker did not start", &fleet);
  auto clips_before = fleet.clips();  // the other figures' clips share the database
  if (!clips_before.ok()) die(clips_before.error());
  if (auto st = fleet.queueJob("takeover", 60); !st.ok()) die(st.error());
  // Watch the checkpoints land (the job's train_seconds moves with each).
  double last_train_seconds = 0;
  int checkpoints = 0;
  Clock::time_point last_checkpoint;
  std::optional<JobRecord> job;
  if (!waitFor([&] {
        job = fleet.job("takeover");
        if (!job || job->state != JobState::kTraining) return false;
        if (job->train_seconds != last_train_seconds && !job->checkpoint_path.empty()) {
          last_train_seconds = job->train_seconds;
          last_checkpoint = Clock::now();
          ++checkpoints;
        }
        return checkpoints >= 2 && seconds(last_checkpoint, Clock::now()) >= checkpoint_every / 2;
      }, 300s)) {
    die("the job never trained with checkpoints", &fleet);
  }
  const std::uint64_t fence = job->fence;
  const bool a_has_it = a.output().find("job takeover: worker takeover-a starting") != std::string::npos;
  ChildProcess& victim = a_has_it ? a : b;
  const auto killed = Clock::now();
  victim.signal(SIGKILL);
  const double lost = seconds(last_checkpoint, killed);
  if (!waitFor([&] {
        auto now = fleet.job("takeover");
        return now && now->fence > fence;
      }, 300s)) {
    die("no worker took the job over", &fleet);
  }
  figure("scale.takeover_seconds[lease=30]", seconds(killed, Clock::now()), "s",
         "<= 35; until another worker claimed it to resume it");
  if (!waitFor([&] {
        auto now = fleet.job("takeover");
        return now && now->state != JobState::kClaimed;
      }, 300s)) {
    die("the job taken over did not train again", &fleet);
  }
  figure("scale.takeover_to_training_seconds[lease=30]", seconds(killed, Clock::now()), "s",
         "report; until it trains again: frames loaded, checkpoint fetched and loaded");
  figure("scale.training_seconds_lost[checkpoint_every=" + std::to_string(static_cast<int>(checkpoint_every)) + "]",
         lost, "s", "<= " + std::to_string(static_cast<int>(checkpoint_every)));
  if (!waitFor([&] { auto now = fleet.job("takeover"); return now && isFinished(now->state); }, 400s))
    die("the job taken over did not finish", &fleet);
  auto clips = fleet.clips();
  if (!clips.ok()) die(clips.error());
  const auto end = fleet.job("takeover");
  if (end->state != JobState::kDone) die("the job taken over ended " + std::string(jobStateName(end->state)) + ": " + end->detail, &fleet);
  figure("scale.duplicate_clips[takeover]",
         static_cast<double>(clips->size()) - static_cast<double>(clips_before->size()) - 1, "clips",
         "0");
}

}  // namespace
}  // namespace booth

int main(int argc, char** argv) {
  booth::Setup s;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--database" && i + 1 < argc) {
      s.url = argv[++i];
    } else if (a == "--trainer" && i + 1 < argc) {
      s.trainer = argv[++i];
    } else if (a == "--dir" && i + 1 < argc) {
      s.dir = argv[++i];
    } else if (a == "--quick") {
      quick = true;
    } else {
      booth::die("unknown argument '" + a + "' (use --database URL --trainer BIN --dir DIR [--quick])");
    }
  }
  if (s.url.empty() || s.trainer.empty() || s.dir.empty())
    booth::die("--database, --trainer and --dir are required");
  const double budget = quick ? 8 : 12;
  const int jobs_per_worker = quick ? 1 : 2;
  double one = 0;
  for (int workers : {1, 2, 4}) {
    const double jph = booth::jobsPerHour(s, workers, workers * jobs_per_worker, budget);
    if (workers == 1) one = jph;
    char target[96];
    std::snprintf(target, sizeof target, workers == 4 ? ">= %.0f (3 x workers=1)" : "report",
                  3 * one);
    booth::figure("scale.jobs_per_hour[workers=" + std::to_string(workers) + "]", jph, "jobs/h",
                  target);
  }
  booth::takeover(s, 5);
  std::printf("# %d-s budget jobs, tiny model, one libtorch thread per worker; machine: %u CPUs, "
              "shared with other work; PostgreSQL with fsync off (test server). Claim latency "
              "with and without NOTIFY: bench/run.sh store\n",
              static_cast<int>(budget), std::thread::hardware_concurrency());
  return 0;
}
