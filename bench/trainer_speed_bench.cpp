// trainer_speed_bench: how fast the trainer trains and renders on this
// machine (bench/README.md, "trainer-speed").
//
// One synthetic session (5 s of "warmup" by ada, as the booth records it)
// -> the training set -> the default model trained for --seconds with a
// job's schedule (held-out evaluation on, face GAN off: the generator phase
// that takes most of a job) -> iterations per second, the share of wall
// time outside training steps, system CPU time (getrusage) and achieved
// GFLOP/s; then a whole clip rendered to MP4 -> milliseconds per frame.
#include <sys/resource.h>
#include <unistd.h>

#include <map>
#include <thread>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <boost/program_options.hpp>

#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "trainer_node/jobs/job_runner.h"
#include "trainer_node/pretrain/synthetic_corpus.h"
#include "trainer_node/render/clip_renderer.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/train/cpu_runtime.h"
#include "trainer_node/train/pose_to_image_model.h"
#include "trainer_node/train/training_set.h"

namespace {

using namespace booth;
namespace po = boost::program_options;

struct CpuTimes {
  double user = 0;
  double sys = 0;
};

CpuTimes cpuTimes() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return {s(r.ru_utime), s(r.ru_stime)};
}

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void figure(const std::string& name, const std::string& params, const std::string& value,
            const std::string& unit, const std::string& target) {
  std::cout << name << "[" << params << "] = " << value << (unit.empty() ? "" : " ") << unit
            << "  (" << target << ")" << std::endl;
}

// Peak single-precision FLOP/s from what /proc/cpuinfo says: CPUs this
// process may use x clock x FLOPs per cycle per core, the last from the
// widest FMA the CPU has (two FMA pipes per core, as on every x86 server
// core of the last decade: 2 x 16 lanes x 2 with AVX-512, 2 x 8 x 2 with
// AVX2). Returns 0 when the clock is not listed.
double peakGflops(std::string& how) {
  std::ifstream in("/proc/cpuinfo");
  double mhz = 0;
  bool avx512 = false, avx2_fma = false;
  std::string model;
  for (std::string line; std::getline(in, line);) {
    if (mhz == 0 && line.rfind("cpu MHz", 0) == 0) mhz = std::stod(line.substr(line.find(':') + 1));
    if (model.empty() && line.rfind("model name", 0) == 0) model = line.substr(line.find(':') + 2);
    if (line.rfind("flags", 0) == 0) {
      avx512 = line.find(" avx512f") != std::string::npos;
      avx2_fma = line.find(" avx2") != std::string::npos && line.find(" fma") != std::string::npos;
    }
  }
  const int flops_per_cycle = avx512 ? 64 : avx2_fma ? 32 : 8;
  const int cpus = availableCpus();
  std::ostringstream out;
  out << cpus << " CPUs x " << mhz << " MHz x " << flops_per_cycle << " FLOP/cycle ("
      << (avx512 ? "AVX-512" : avx2_fma ? "AVX2+FMA" : "SSE") << ", 2 FMA pipes), " << model;
  how = out.str();
  return cpus * mhz * 1e6 * flops_per_cycle / 1e9;
}

// CPU seconds (user + system) of every thread of this process, by thread id.
std::map<int, double> threadCpuSeconds() {
  std::map<int, double> out;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces, in parentheses):
    // state is field 3, utime 14, stime 15.
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    out[std::stoi(entry.path().filename().string())] = (utime + stime) / tick;
  }
  return out;
}

// A real job, as the service runs it: the session stored as the ingest
// stores it, queued in the embedded job queue, picked up by JobRunner's own thread.
// While the job is in its generator phase (the job's own counts say so),
// the process's CPU time over the wall time is the number of cores the
// training kept busy: trainer.threads[job].
int measureJob(const ModelConfig& model_config, double budget, const std::string& p) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("booth_speed_bench_job_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  auto jobs = JobStore::open((dir / "jobs.sqlite").string());
  if (!jobs.ok()) {
    std::cerr << "trainer_speed_bench: error: " << jobs.error() << "\n";
    return 1;
  }
  SessionStore sessions(dir / "data", false);
  const auto session = syntheticSession(*findPerformer("ada"), *findChoreography("warmup"), 3, 15,
                                        30, cv::Size(640, 480), 90);
  if (auto s = storeSyntheticSession(sessions, "bench", "node", "cam0", session); !s) {
    std::cerr << "trainer_speed_bench: error: cannot store the session: " << s.error() << "\n";
    return 1;
  }
  EmbeddedJobQueue queue(*jobs.value());
  LocalBlobStore blobs(dir / "data", false);
  JobRecord job;
  job.id = "bench-job";
  job.session_id = "bench";
  job.state = JobState::kReceiving;  // then queued, as the ingest does
  job.train_budget_seconds = budget;
  job.cameras = {{"node", "cam0", static_cast<std::int64_t>(session.size())}};
  if (auto s = queue.add(job); !s) {
    std::cerr << "trainer_speed_bench: error: " << s.message() << "\n";
    return 1;
  }
  if (auto s = queue.enqueue(job); !s) {
    std::cerr << "trainer_speed_bench: error: " << s.message() << "\n";
    return 1;
  }
  JobRunnerConfig config;
  config.model = model_config;
  config.train.adapt_threads = true;  // as trainer_node runs without --threads
  config.work_dir = dir / "data" / "work";
  config.public_url = "http://bench";
  // trainer_node's start-up check, on this (the main) thread as there: it
  // must not leave libtorch work behind that slows the job (cpu_runtime.h).
  if (auto s = preflight(config); !s) {
    std::cerr << "trainer_speed_bench: error: " << s.error() << "\n";
    return 1;
  }
  JobRunner runner(config, queue, blobs, sessions);
  runner.start();
  // Samples (wall, CPU) while the job's generator phase runs.
  auto wall = [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };
  double first_wall = 0, first_cpu = 0, last_wall = 0, last_cpu = 0;
  std::map<int, double> first_threads, last_threads;
  bool started = false;
  std::optional<JobRecord> now;
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    now = jobs.value()->get(job.id);
    if (!now || now->state == JobState::kDone || now->state == JobState::kFailed) break;
    const CpuTimes t = cpuTimes();
    const bool generator_phase = now->state == JobState::kTraining && now->generator_steps > 0 &&
                                 now->face_steps == 0;
    if (!generator_phase) {
      if (started) break;
      continue;
    }
    if (!started) {
      started = true;
      first_wall = wall();
      first_cpu = t.user + t.sys;
      first_threads = threadCpuSeconds();
    }
    last_wall = wall();
    last_cpu = t.user + t.sys;
    last_threads = threadCpuSeconds();
  }
  while (now && now->state != JobState::kDone && now->state != JobState::kFailed) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    now = jobs.value()->get(job.id);
  }
  runner.stop();
  if (!now || now->state != JobState::kDone) {
    std::cerr << "trainer_speed_bench: error: the job did not finish: "
              << (now ? now->detail : std::string("gone")) << "\n";
    return 1;
  }
  if (last_wall - first_wall < 1) {
    std::cerr << "trainer_speed_bench: error: the generator phase was too short to measure\n";
    return 1;
  }
  figure("trainer.threads", "job," + p, fmt((last_cpu - first_cpu) / (last_wall - first_wall), 2),
         "", "target >= 1.8 on 2 cores; CPU seconds of the process per wall second of the "
             "job's generator phase, on JobRunner's thread");
  // How many threads shared the work, whatever else the machine ran: the
  // process's CPU time over its busiest thread's.
  double total = 0, busiest = 0;
  std::string per_thread;
  for (const auto& [tid, seconds] : last_threads) {
    const auto before = first_threads.find(tid);
    const double used = seconds - (before == first_threads.end() ? 0 : before->second);
    total += used;
    busiest = std::max(busiest, used);
    if (used >= 0.05) per_thread += " " + std::to_string(tid) + ":" + fmt(used, 1) + "s";
  }
  figure("trainer.parallelism", "job," + p, fmt(busiest > 0 ? total / busiest : 0, 2), "",
         "no target; CPU time of the process over its busiest thread's in the generator phase "
         "(2.0: two threads fully shared the work; does not drop with other load)");
  std::cout << "# threads with CPU time in the generator phase:" << per_thread << std::endl;
  figure("trainer.its", "job," + p, fmt(now->generator_steps_per_second, 2), "generator steps/s",
         "no target; the job's own figure, its generator phase");
  figure("trainer.face_its", "job," + p, fmt(now->face_steps_per_second, 1), "face-GAN steps/s",
         "no target; the job's own figure, its face phase (rendering the face crops included)");
  std::cout << "# job: " << now->generator_steps << " generator steps ("
            << fmt(now->generator_steps_per_second, 2) << "/s), " << now->face_steps
            << " face-GAN steps (" << fmt(now->face_steps_per_second, 1) << "/s), "
            << fmt(now->train_seconds, 1) << " s training of a " << fmt(budget, 0)
            << " s budget; measured over " << fmt(last_wall - first_wall, 1) << " s" << std::endl;
  return 0;
}

// Training and rendering speed of the model on the calling thread:
// trainer.its, overhead, system CPU, threads, GFLOP/s, ms per rendered frame.
int measureTraining(const ModelConfig& model_config, TrainConfig train, double seconds, bool render,
                    const CpuRuntime& rt, const std::string& p) {
  const int res = model_config.resolution;
  const auto session = syntheticSession(*findPerformer("ada"), *findChoreography("warmup"), 3, 5,
                                        30, cv::Size(640, 480), 90);
  TrainingSetOptions set_options;
  set_options.resolution = res;
  auto set = buildTrainingSet(session, set_options);
  if (!set.ok()) {
    std::cerr << "trainer_speed_bench: error: " << set.error() << "\n";
    return 1;
  }
  auto created = PoseToImageModel::create(model_config, "cpu");
  if (!created.ok()) {
    std::cerr << "trainer_speed_bench: error: " << created.error() << "\n";
    return 1;
  }
  PoseToImageModel& model = *created.value();
  const TrainClip clip = set->trainClip();
  const TrainClip held = set->heldOutClip();
  // Warm-up: the first steps allocate and let oneDNN pick its kernels.
  train.face_gan = false;
  train.max_iterations = 5;
  train.budget_seconds = 1e6;
  if (auto r = model.train(std::span<const TrainClip>(&clip, 1), &held, train, {}); !r.ok()) {
    std::cerr << "trainer_speed_bench: error: " << r.error() << "\n";
    return 1;
  }
  train.max_iterations = 0;
  train.budget_seconds = seconds;
  const CpuTimes before = cpuTimes();
  auto result = model.train(std::span<const TrainClip>(&clip, 1), &held, train, {});
  const CpuTimes after = cpuTimes();
  if (!result.ok()) {
    std::cerr << "trainer_speed_bench: error: " << result.error() << "\n";
    return 1;
  }
  const double user = after.user - before.user;
  const double sys = after.sys - before.sys;
  const double its = result->last.generator_steps_per_second;  // face GAN off: generator only
  const double overhead = 100.0 * (1.0 - result->step_seconds / result->seconds);
  // FLOPs of one generator-phase step: the generator runs forward twice
  // (the two unrolled frames) and backward (about twice the forward) ->
  // 6 F_G; the discriminator runs forward three times (real, fake, fake for
  // the generator's loss), backward for its own update on two of them
  // (weights and activations, about 2x each) and once through to the fake
  // frames for the generator (activations only, about 1x) -> 8 F_D.
  const double step_flops = 6 * model.generatorForwardFlops() + 8 * model.discriminatorForwardFlops();
  std::string how;
  const double peak = peakGflops(how);
  const double gflops = its * step_flops / 1e9;

  figure("trainer.its", p, fmt(its, 2), "it/s", res == 128 ? "target >= 7" : "no target");
  figure("trainer.overhead_pct", p, fmt(overhead, 1), "%", "target <= 10");
  figure("trainer.sys_cpu_pct", p, fmt(100.0 * sys / std::max(1e-9, user + sys), 1), "%",
         "target <= 10");
  figure("trainer.threads", p, fmt(result->mean_threads, 2), "",
         "libtorch threads while training, time-weighted; up to " +
             std::to_string(rt.intra_op_threads) + (train.adapt_threads ? ", adaptive" : ", fixed"));
  figure("trainer.gflops", p, fmt(gflops, 1), "GFLOP/s",
         "no target; " + fmt(100.0 * gflops / peak, 1) + "% of the peak " + fmt(peak, 1));
  std::cout << "# " << result->iterations << " iterations in " << fmt(result->seconds, 1)
            << " s, steps " << fmt(result->step_seconds, 1) << " s; CPU user " << fmt(user, 1)
            << " s sys " << fmt(sys, 1) << " s; one step = " << fmt(step_flops / 1e9, 2)
            << " GFLOP (generator " << fmt(model.generatorForwardFlops() / 1e9, 3)
            << ", discriminator " << fmt(model.discriminatorForwardFlops() / 1e9, 3)
            << " GFLOP per forward; " << model.generatorParameters() << " + "
            << model.discriminatorParameters() << " parameters); peak: " << how << std::endl;

  if (render) {
    RenderConfig rc;
    VisitorFrame visitor{set->floor, set->face_side};
    const auto path = std::filesystem::temp_directory_path() /
                      ("booth_speed_bench_" + std::to_string(getpid()) + ".mp4");
    const auto t0 = std::chrono::steady_clock::now();
    auto clip_info = renderClip(model, visitor, rc, path.string());
    const double render_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (!clip_info.ok()) {
      std::cerr << "trainer_speed_bench: error: " << clip_info.error() << "\n";
      return 1;
    }
    figure("trainer.ms_per_rendered_frame", p, fmt(1000 * render_seconds / clip_info->frames, 1),
           "ms", "no target; three panels, face GAN, H.264");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ModelConfig model_config;
  TrainConfig train;
  int threads = 0;
  double seconds = 30;
  bool render = true;
  double job_seconds = 0;
  po::options_description desc("trainer_speed_bench (see bench/README.md)");
  // clang-format off
  desc.add_options()
    ("help", "this help")
    ("resolution", po::value(&model_config.resolution)->default_value(model_config.resolution), "")
    ("seconds", po::value(&seconds)->default_value(seconds), "training seconds measured (0: only the job)")
    ("threads", po::value(&threads)->default_value(threads), "libtorch threads (0 = every CPU)")
    ("render", po::value(&render)->default_value(render), "also measure rendering a clip")
    ("job-seconds", po::value(&job_seconds)->default_value(job_seconds),
     "then run a real job of this budget on JobRunner's thread (0: none)");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "trainer_speed_bench: error: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  const CpuRuntime rt = configureCpuRuntime(threads);
  train.adapt_threads = threads == 0;
  std::cout << "# " << rt.describe() << std::endl;
  const int res = model_config.resolution;
  const std::string p = "res=" + std::to_string(res);
  // --seconds 0: only the job.
  if (seconds <= 0) return job_seconds > 0 ? measureJob(model_config, job_seconds, p) : 0;

  // On a thread of its own: its OpenMP pool ends with it and does not slow
  // the job measured after it (cpu_runtime.h, runOnPassingThread).
  int rc = 0;
  runOnPassingThread([&] { rc = measureTraining(model_config, train, seconds, render, rt, p); });
  if (rc != 0) return rc;
  if (job_seconds > 0) return measureJob(model_config, job_seconds, p);
  return 0;
}
