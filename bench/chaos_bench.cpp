// The chaos run (bench/run.sh chaos): many short jobs on a private
// PostgreSQL, trainer workers as processes (tests/support/worker_fleet.h)
// killed with SIGKILL at random and started again a moment later, or
// paused (SIGSTOP) past their lease and then continued, and the database
// crashed once (pg_ctl -m immediate) and restarted mid-run. At the
// end every job must be done with exactly one clip: nothing lost, nothing
// published twice. Worker writes refused because the worker no longer held
// its job (the fence) are counted from the workers' logs.
//   chaos_bench --database URL --trainer BIN --dir DIR --pg-server SCRIPT
//               --pg-state DIR [--quick] [--seed N]
// SCRIPT is tests/support/pg_server.sh, DIR the state folder of the server
// it started (the one URL points at).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/worker_fleet.h"
#include "trainer_node/store/store_errors.h"

namespace booth {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::WorkerFleet;

struct Setup {
  std::string url, trainer, pg_server, pg_state;
  std::filesystem::path dir;
  bool quick = false;
  unsigned seed = 0;
};

// The run's shape. A lease (10 s) longer than the database's outage, as
// in production (30 s), so workers must ride the restart out with their
// jobs, yet short enough that a killed worker's job is taken over within
// seconds; checkpoints every second; max_attempts above what the kills can
// use up, so that every job that does not end done is one the system lost
// (the poison-job limit itself is tested in the state machine's tests).
struct Plan {
  int jobs = 100;
  int workers = 5;
  double budget_seconds = 16;
  double kill_every_min = 6, kill_every_max = 16;  // seconds between two blows
  int pause_one_in = 3;                            // a blow is a pause, not a kill, 1 time in N
  std::chrono::seconds pause = 14s;                // past the lease and the next sweep
  double db_restart_at = 0.4;                      // share of jobs finished
  std::chrono::seconds db_down = 3s;
  std::chrono::seconds stall_limit = 240s;  // no job finishing for this long: stop
  std::vector<std::string> worker_options = {"--lease",        "10", "--checkpoint-every", "1",
                                             "--max-attempts", "20"};
};

void figure(const std::string& name, double value, const char* unit, const std::string& target) {
  std::printf("%s = %.1f %s  (target %s)\n", name.c_str(), value, unit, target.c_str());
  std::fflush(stdout);
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "chaos_bench: error: %s\n", why.c_str());
  std::exit(1);
}

double seconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string jobId(int j) { return "chaos-" + std::to_string(j); }

// One worker slot: the process now running in it; a killed one is replaced
// by the next generation (its own name, so its own log).
struct Slot {
  int index = 0;
  int generation = 0;
  ChildProcess* process = nullptr;
  bool killed = false;
  Clock::time_point restart_at{};
  bool paused = false;
  Clock::time_point continue_at{};
};

// What the workers' logs say, over every process that ran.
struct LogCounts {
  int lost = 0;                  // "lost it (…); stopped without publishing anything"
  int fenced = 0;                // … of them: claimed again since (the fence moved)
  int not_running = 0;           // … of them: recovered, failed or cancelled meanwhile
  int retried_writes = 0;        // writes the database could not take, tried again
  int resumed = 0;               // jobs resumed from a checkpoint another worker left
  int released_unreachable = 0;  // jobs given back because the database was away
};

int countOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

LogCounts readLogs(const std::vector<ChildProcess*>& processes) {
  LogCounts c;
  const std::string lost = " lost it (";
  for (ChildProcess* p : processes) {
    const std::string out = p->output();
    for (auto at = out.find(lost); at != std::string::npos; at = out.find(lost, at + 1)) {
      ++c.lost;
      const std::string line = out.substr(at, out.find('\n', at) - at);
      if (line.find("fenced") != std::string::npos ||
          line.find("claimed again") != std::string::npos) {
        ++c.fenced;
      } else if (line.find("not running") != std::string::npos) {
        ++c.not_running;
      }
    }
    c.retried_writes += countOf(out, "; trying again in ");
    c.resumed += countOf(out, "resuming training");
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
      if (line.find(" released by worker ") != std::string::npos && isStoreUnreachable(line))
        ++c.released_unreachable;
  }
  return c;
}

class ChaosRun {
 public:
  ChaosRun(const Setup& s, Plan plan)
      : s_(s), plan_(std::move(plan)), fleet_(s.trainer, s.dir / "chaos", s.url), rng_(s.seed) {}

  void run() {
    if (auto st = fleet_.open(); !st.ok()) die(st.error());
    slots_.resize(plan_.workers);
    for (int w = 0; w < plan_.workers; ++w) {
      slots_[w].index = w;
      start(slots_[w]);
    }
    for (auto& slot : slots_)
      if (!slot.process->waitForLine("WORKER_ID=", 120s)) fail("a worker did not start");
    t0_ = Clock::now();
    for (int j = 0; j < plan_.jobs; ++j)
      if (auto st = fleet_.queueJob(jobId(j), plan_.budget_seconds); !st.ok()) fail(st.error());
    std::printf("# %d jobs queued in %.1f s\n", plan_.jobs, seconds(t0_, Clock::now()));
    loop();
    wall_ = seconds(t0_, Clock::now());
    stopWorkers();
    report();
  }

 private:
  // Ends the run: the workers are continued (a paused one would stay
  // stopped for ever) and stopped before the exit; the private database is
  // stopped by bench/run.sh's exit trap, whatever the exit.
  [[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "%s\n", fleet_.logs().c_str());
    stopWorkers();
    die(why);
  }

  void start(Slot& slot) {
    std::string name = "chaos";
    name += std::to_string(slot.index);
    name += "-g";
    name += std::to_string(slot.generation++);
    slot.process = &fleet_.startWorker(name, plan_.worker_options);
    slot.killed = false;
    all_.push_back(slot.process);
  }

  double uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  }

  // Jobs in a final state; nullopt while the database cannot answer.
  std::optional<int> finishedJobs() {
    if (fleet_.queue().unavailable()) return std::nullopt;
    const auto counts = fleet_.queue().countByState();
    if (counts.empty() && fleet_.queue().unavailable()) return std::nullopt;
    int n = 0;
    for (const auto& [state, count] : counts)
      if (isFinished(state)) n += count;
    return n;
  }

  void crashDatabase() {
    const std::string q = "'";
    const auto run = [&](const char* action) {
      const std::string cmd =
          q + s_.pg_server + q + " " + action + " " + q + s_.pg_state + q + " >&2";
      if (std::system(cmd.c_str()) != 0) fail(std::string("pg_server.sh ") + action + " failed");
    };
    const auto t = Clock::now();
    run("crash");
    std::printf(
        "# database crashed (pg_ctl -m immediate) %.0f s into the run, %d of %d jobs finished\n",
        seconds(t0_, t), last_finished_, plan_.jobs);
    std::this_thread::sleep_for(plan_.db_down);
    run("restart");
    std::printf("# database back after %.1f s\n", seconds(t, Clock::now()));
    db_restarts_ = 1;
  }

  void loop() {
    auto next_kill =
        Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                           uniform(plan_.kill_every_min, plan_.kill_every_max)));
    auto last_change = Clock::now();
    while (true) {
      std::this_thread::sleep_for(200ms);
      const auto now = Clock::now();
      if (auto finished = finishedJobs()) {
        if (*finished != last_finished_) last_change = now;
        last_finished_ = *finished;
      }
      if (last_finished_ >= plan_.jobs) return;
      if (now - last_change > plan_.stall_limit) {
        std::printf("# stopped: no job finished for %lld s\n",
                    static_cast<long long>(plan_.stall_limit.count()));
        return;
      }
      for (auto& slot : slots_) {
        if (slot.paused && now >= slot.continue_at) {
          slot.process->signal(SIGCONT);
          slot.paused = false;
        }
        if (slot.killed && now >= slot.restart_at) start(slot);
        if (!slot.killed && !slot.process->running()) {
          // Not killed by us. A worker started just before the database
          // went down refuses to start (as documented: a service manager
          // restarts it); any other exit is a finding.
          const std::string out = slot.process->output();
          if (out.find("error: database") != std::string::npos && isStoreUnreachable(out)) {
            ++starts_refused_;
          } else {
            ++unexpected_exits_;
            std::printf("# worker slot %d exited on its own; its log:\n%s\n", slot.index,
                        out.c_str());
          }
          start(slot);
        }
      }
      if (db_restarts_ == 0 && last_finished_ >= plan_.db_restart_at * plan_.jobs) {
        crashDatabase();
        continue;
      }
      if (now >= next_kill) {
        std::vector<Slot*> live;
        for (auto& slot : slots_)
          if (!slot.killed && !slot.paused) live.push_back(&slot);
        if (!live.empty()) {
          Slot& victim =
              *live[std::uniform_int_distribution<std::size_t>(0, live.size() - 1)(rng_)];
          if (std::uniform_int_distribution<int>(1, plan_.pause_one_in)(rng_) == 1) {
            victim.process->signal(SIGSTOP);
            victim.paused = true;
            victim.continue_at = now + plan_.pause;
            ++pauses_;
          } else {
            victim.process->signal(SIGKILL);
            victim.process->wait(10s);
            victim.killed = true;
            victim.restart_at = now + 1s;
            ++kills_;
          }
        }
        next_kill = now + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                              uniform(plan_.kill_every_min, plan_.kill_every_max)));
      }
    }
  }

  void stopWorkers() {
    if (workers_stopped_) return;  // a failure after the run's own stop
    workers_stopped_ = true;
    for (auto& slot : slots_) {
      if (!slot.process) continue;  // not started yet
      if (slot.paused) slot.process->signal(SIGCONT);
      if (!slot.killed) slot.process->signal(SIGTERM);
    }
    for (auto& slot : slots_)
      if (slot.process && !slot.killed && !slot.process->wait(60s)) slot.process->signal(SIGKILL);
  }

  void report() {
    auto listed = fleet_.clips();
    if (!listed.ok()) fail("cannot list the clips: " + listed.error());
    std::set<std::string> clip_blobs;
    for (const auto& b : *listed)
      if (b.key.size() > 4 && b.key.compare(b.key.size() - 4, 4, ".mp4") == 0)
        clip_blobs.insert(b.key);
    int lost = 0, matched = 0, max_attempts = 0, refused = 0;
    std::map<std::string, int> why_lost;
    for (int j = 0; j < plan_.jobs; ++j) {
      const auto job = fleet_.job(jobId(j));
      if (!job) {
        ++lost;
        ++why_lost["not found"];
        continue;
      }
      max_attempts = std::max(max_attempts, job->attempts);
      const std::string key = "clips/" + job->clip_token + ".mp4";
      if (job->state == JobState::kDone && clip_blobs.count(key)) {
        ++matched;
        continue;
      }
      // Refused by the budget check on its only attempt: the job's budget
      // does not fit what this machine measured then (loading and the
      // render estimate), nothing the blows did. Not lost, counted apart.
      if (job->state == JobState::kFailed && job->attempts == 1 &&
          job->detail.find("give at least") != std::string::npos) {
        ++refused;
        std::printf("# refused by the budget check on its first attempt: job %s: %s\n",
                    job->id.c_str(), job->detail.c_str());
        continue;
      }
      ++lost;
      const std::string reason = job->state == JobState::kDone
                                     ? "done, but its clip blob is missing"
                                     : std::string(jobStateName(job->state)) + ": " + job->detail;
      if (why_lost[reason]++ == 0)
        std::printf("# lost: job %s %s\n", job->id.c_str(), reason.c_str());
    }
    const int duplicates = static_cast<int>(clip_blobs.size()) - matched;
    if (duplicates != 0) {
      std::set<std::string> referenced;
      for (int j = 0; j < plan_.jobs; ++j)
        if (auto job = fleet_.job(jobId(j))) referenced.insert("clips/" + job->clip_token + ".mp4");
      for (const auto& key : clip_blobs)
        if (!referenced.count(key)) std::printf("# clip blob no job names: %s\n", key.c_str());
    }
    const LogCounts logs = readLogs(all_);
    const std::string p =
        "[jobs=" + std::to_string(plan_.jobs) + ",workers=" + std::to_string(plan_.workers) + "]";
    figure("scale.lost_jobs" + p, lost, "jobs", "= 0; not done with its clip at the end");
    figure("scale.duplicate_clips" + p, duplicates, "clips", "= 0; clip blobs beyond one per job");
    figure("scale.chaos_budget_refusals" + p, refused, "jobs",
           "report; failed the budget check on their first attempt: the machine too loaded "
           "for a " +
               std::to_string(static_cast<int>(plan_.budget_seconds)) + " s budget");
    figure("scale.fenced_writes" + p, logs.lost, "writes",
           "report; worker writes refused because the job was no longer the worker's");
    figure("scale.chaos_kills" + p, kills_, "kills", "report; SIGKILL of a worker");
    figure("scale.chaos_pauses" + p, pauses_, "pauses",
           "report; SIGSTOP of a worker for " + std::to_string(plan_.pause.count()) +
               " s (past its lease), then SIGCONT");
    figure("scale.chaos_wall_seconds" + p, wall_, "s",
           "report; first job queued to the last finished");
    std::printf(
        "# fenced writes: %d claimed again since (fenced), %d recovered or ended meanwhile "
        "(not running), %d other; %d writes retried while the database was away; %d "
        "resumes from a checkpoint; %d releases because the database was unavailable; "
        "%d worker start(s) refused while the database was down (restarted); %d other "
        "worker exits; %d database restart(s); most attempts of one job: %d\n",
        logs.fenced, logs.not_running, logs.lost - logs.fenced - logs.not_running,
        logs.retried_writes, logs.resumed, logs.released_unreachable, starts_refused_,
        unexpected_exits_, db_restarts_, max_attempts);
    std::printf(
        "# %.0f-s wall-clock budget jobs, tiny model, one libtorch thread per worker, "
        "lease 10 s, checkpoints every 1 s; machine: %u CPUs, shared with other work; "
        "PostgreSQL with fsync off (test server); seed %u; worker logs in %s\n",
        plan_.budget_seconds, std::thread::hardware_concurrency(), s_.seed,
        (s_.dir / "chaos").c_str());
  }

  const Setup& s_;
  Plan plan_;
  WorkerFleet fleet_;
  std::mt19937 rng_;
  std::vector<Slot> slots_;
  std::vector<ChildProcess*> all_;
  Clock::time_point t0_;
  double wall_ = 0;
  int last_finished_ = 0;
  int kills_ = 0;
  int pauses_ = 0;
  bool workers_stopped_ = false;
  int db_restarts_ = 0;
  int unexpected_exits_ = 0;
  int starts_refused_ = 0;
};

}  // namespace
}  // namespace booth

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines as they come
  booth::Setup s;
  s.seed = std::random_device{}();
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--database" && has_value) {
      s.url = argv[++i];
    } else if (a == "--trainer" && has_value) {
      s.trainer = argv[++i];
    } else if (a == "--dir" && has_value) {
      s.dir = argv[++i];
    } else if (a == "--pg-server" && has_value) {
      s.pg_server = argv[++i];
    } else if (a == "--pg-state" && has_value) {
      s.pg_state = argv[++i];
    } else if (a == "--seed" && has_value) {
      s.seed = static_cast<unsigned>(std::stoul(argv[++i]));
    } else if (a == "--quick") {
      s.quick = true;
    } else {
      booth::die("unknown argument '" + a +
                 "' (use --database URL --trainer BIN --dir DIR --pg-server SCRIPT --pg-state DIR "
                 "[--quick] [--seed N])");
    }
  }
  if (s.url.empty() || s.trainer.empty() || s.dir.empty() || s.pg_server.empty() ||
      s.pg_state.empty())
    booth::die("--database, --trainer, --dir, --pg-server and --pg-state are required");
  booth::Plan plan;
  if (s.quick) plan.jobs = 24;
  booth::ChaosRun(s, plan).run();
  return 0;
}
