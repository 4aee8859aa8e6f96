#include "trainer_node/jobs/job_runner.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include <spdlog/spdlog.h>

#include "common/core/random_token.h"
#include "common/os/list_directory.h"
#include "trainer_node/jobs/job_lease.h"
#include "trainer_node/store/blob_files.h"
#include "trainer_node/store/clip_names.h"
#include "trainer_node/store/disk_space.h"
#include "trainer_node/store/store_errors.h"
#include "trainer_node/train/cpu_runtime.h"
#include "trainer_node/train/training_set.h"

namespace booth {
namespace {

// Saving the trained model and the bookkeeping around the stages.
constexpr double kBudgetMarginSeconds = 1.0;
// Below this the schedule cannot do anything useful: fail instead.
constexpr double kMinTrainSeconds = 1.0;
// The loops renew the lease (and so notice a cancel) this often.
constexpr double kRenewPollSeconds = 1.0;
constexpr double kSaveEverySeconds = 0.5;
// The render estimate measures this many frames and adds a share for the
// encoder and the file.
constexpr int kRenderProbeFrames = 3;
constexpr double kRenderOverhead = 1.3;
// Scratch folders of workers gone this long are removed at start.
constexpr auto kStaleScratch = std::chrono::hours(24);
// An idle worker looks for queued jobs this often when no change wakes it.
constexpr auto kIdlePoll = std::chrono::seconds(2);
// Jobs whose lease ran out are looked for this often (or every lease/3 when
// that is shorter).
constexpr auto kSweepPeriod = std::chrono::seconds(2);
// A blob write idle this long was abandoned by a dead process.
constexpr auto kAbandonedWrite = std::chrono::minutes(10);
constexpr const char* kCancelled = "cancelled by the operator";
constexpr const char* kLost = "the job is no longer this worker's";
constexpr const char* kCheckpointFile = "train_state.pt";
constexpr const char* kModelFile = "generator.pt";

double steadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Whether to stop the job now: the worker stops, or the claim was lost
// (cancelled, fenced, recovered; renewing the lease finds out).
class StopWatch {
 public:
  StopWatch(JobLease& lease, std::stop_token stop) : lease_(lease), stop_(stop) {}
  bool operator()() {
    if (stop_.stop_requested()) return true;
    return !lease_.renewIfDue(kRenewPollSeconds);
  }
  bool shuttingDown() const { return stop_.stop_requested(); }

 private:
  JobLease& lease_;
  std::stop_token stop_;
};

std::string safeName(std::string text) {
  for (char& c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) c = '_';
  }
  if (text.empty() || text.front() == '.') text.insert(0, "w");
  return text.substr(0, 40);
}

Status checkModel(const JobRunnerConfig& config) {
  auto model = PoseToImageModel::create(config.model, config.device);
  if (!model.ok()) return fail(model.error());
  if (auto s = validate(config.train); !s) return s;
  if (config.train.cuda_graph && config.device.rfind("cuda", 0) != 0)
    return fail("--cuda-graph needs --device cuda, got --device " + config.device);
  if (!config.base_checkpoint.empty()) {
    if (auto s = model.value()->loadWeights(config.base_checkpoint); !s)
      return fail("--base-checkpoint: " + s.error());
  }
  return okStatus();
}

}  // namespace

Status preflight(const JobRunnerConfig& config) {
  // On a passing thread: an OpenMP pool left on the caller's thread (main)
  // would make every job's training threads sleep at each barrier
  // (cpu_runtime.h, runOnPassingThread).
  Status result = okStatus();
  runOnPassingThread([&] { result = checkModel(config); });
  return result;
}

std::string checkpointBlobKey(const std::string& session_id) {
  return "sessions/" + session_id + "/" + kCheckpointFile;
}

std::string modelBlobKey(const std::string& session_id) {
  return "sessions/" + session_id + "/" + kModelFile;
}

std::string newWorkerId() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return safeName(std::string(host[0] ? host : "host")) + "-" + std::to_string(::getpid()) + "-" +
         randomHexToken(6);
}

JobRunner::JobRunner(JobRunnerConfig config, JobQueue& queue, BlobStore& blobs,
                     SessionFrameSource& sessions)
    : config_(std::move(config)), queue_(queue), blobs_(blobs), sessions_(sessions) {
  if (!config_.now_seconds) config_.now_seconds = steadySeconds;
  if (config_.worker_id.empty()) config_.worker_id = newWorkerId();
  if (config_.work_dir.empty()) config_.work_dir = std::filesystem::temp_directory_path() / "booth-work";
}

JobRunner::~JobRunner() { stop(); }

std::filesystem::path JobRunner::scratchDir() const {
  return config_.work_dir / safeName(config_.worker_id);
}

int JobRunner::recoverInterrupted() {
  std::error_code ec;
  std::filesystem::remove_all(scratchDir(), ec);
  auto folders = listDirectory(config_.work_dir, EntryKind::kDirectories, /*missing_ok=*/true);
  if (!folders.ok()) spdlog::warn("job runner: {}", folders.error());
  const auto now = std::filesystem::file_time_type::clock::now();
  for (const auto& dir : folders.ok() ? folders.value() : std::vector<std::filesystem::path>{}) {
    const auto written = std::filesystem::last_write_time(dir, ec);
    if (!ec && now - written > kStaleScratch) {
      std::filesystem::remove_all(dir, ec);
      spdlog::info("removed the scratch folder {} of a worker gone since", dir.string());
    }
  }
  // Blob writes a dead process left half-done (nothing partial is ever
  // visible; this is only space).
  if (auto removed = blobs_.removeAbandonedWrites(kAbandonedWrite); !removed.ok())
    spdlog::warn("job runner: {}", removed.error());
  auto recovered = queue_.recoverExpired();
  if (!recovered.ok()) {
    spdlog::error("job runner: cannot recover interrupted jobs: {}", recovered.error());
    return 0;
  }
  return recovered.value();
}

void JobRunner::start() {
  observer_ = queue_.addObserver([this](const std::string&) {
    std::lock_guard lock(wake_mutex_);
    woken_ = true;
    wake_.notify_all();
  });
  sweeper_ = std::jthread([this](std::stop_token st) { sweep(st); });
  thread_ = std::jthread([this](std::stop_token st) { loop(st); });
}

void JobRunner::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  if (sweeper_.joinable()) {
    sweeper_.request_stop();
    sweeper_.join();
    if (auto st = queue_.workerGone(config_.worker_id); !st.ok())
      spdlog::warn("worker {}: {}", config_.worker_id, st.message());
  }
  if (observer_) {
    queue_.removeObserver(observer_);
    observer_ = 0;
  }
}

void JobRunner::sweep(std::stop_token stop) {
  // Lost jobs are looked for often (a cheap indexed query), so a dead
  // worker's job waits little beyond its lease; the worker's own "alive"
  // row is renewed every lease/3.
  const auto heartbeat_period = std::max<std::chrono::milliseconds>(config_.lease / 3,
                                                                    std::chrono::milliseconds(10));
  const auto period = std::min<std::chrono::milliseconds>(heartbeat_period, kSweepPeriod);
  std::mutex mutex;
  std::condition_variable_any wake;
  auto last_heartbeat = std::chrono::steady_clock::time_point{};
  while (!stop.stop_requested()) {
    // Last resort: a sweep that throws is tried again next period.
    try {
      if (std::chrono::steady_clock::now() - last_heartbeat >= heartbeat_period) {
        if (auto st = queue_.workerHeartbeat(config_.worker_id, config_.lease); st.ok()) {
          last_heartbeat = std::chrono::steady_clock::now();
        } else {
          spdlog::warn("worker {}: {}", config_.worker_id, st.message());
        }
      }
      auto recovered = queue_.recoverExpired();
      if (!recovered.ok()) {
        spdlog::warn("worker {}: recovering jobs whose lease ran out: {}", config_.worker_id,
                     recovered.error());
      } else if (recovered.value() > 0) {
        spdlog::warn("worker {}: {} job(s) whose worker was lost went back to the queue (or "
                     "failed at --max-attempts)",
                     config_.worker_id, recovered.value());
      }
    } catch (const std::exception& e) {
      spdlog::error("worker {}: sweep: {}", config_.worker_id, e.what());
    } catch (...) {
      spdlog::error("worker {}: sweep: unknown exception", config_.worker_id);
    }
    std::unique_lock lock(mutex);
    wake.wait_for(lock, stop, period, [] { return false; });
  }
}

void JobRunner::loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    bool ran = false;
    // Last resort: whatever escapes a job (runJob catches what its stages
    // throw) must not end the thread; the next job still runs.
    try {
      ran = runNext(stop);
    } catch (const std::exception& e) {
      spdlog::error("job runner: {}; going on with the next job", e.what());
    } catch (...) {
      spdlog::error("job runner: unknown exception; going on with the next job");
    }
    if (!ran) {
      // Idle: a change in the queue (NOTIFY in PostgreSQL, the writer's
      // call in the embedded queue) wakes the worker at once; otherwise it
      // polls every 2 s. While claims fail (the database is away) it backs
      // off from 0.4 s to 5 s.
      const int failures = std::min(claim_failures_, 5);
      const auto wait = failures > 0
                            ? std::min<std::chrono::milliseconds>(
                                  std::chrono::milliseconds(200) * (1 << failures), kIdlePoll)
                            : kIdlePoll;
      std::unique_lock lock(wake_mutex_);
      wake_.wait_for(lock, stop, wait, [this] { return woken_ && claim_failures_ == 0; });
      woken_ = false;
    }
  }
}

bool JobRunner::runNext(std::stop_token stop) {
  auto claimed = queue_.claim(config_.worker_id, config_.lease);
  if (!claimed.ok()) {
    // Said once, then every 20th failure: a database that is away for a
    // while does not flood the log.
    if (claim_failures_++ % 20 == 0)
      spdlog::error("job runner: cannot claim a job ({} tries): {}", claim_failures_,
                    claimed.error());
    return false;
  }
  if (claim_failures_ > 0) {
    spdlog::info("job runner: claims work again after {} failed tries", claim_failures_);
    claim_failures_ = 0;
  }
  if (!claimed.value()) return false;
  runJob(std::move(*claimed.value()), stop);
  return true;
}

Status JobRunner::stage(const std::string& name) {
  if (!config_.stage_hook) return okStatus();
  return config_.stage_hook(name);
}

void JobRunner::runJob(JobQueue::Claimed claimed, std::stop_token stop) {
  JobRecord job = std::move(claimed.job);
  JobLease lease(queue_, claimed.claim, config_.lease, config_.now_seconds);
  // libtorch's thread count is per thread: this one trains and renders with
  // every CPU configured, not libtorch's default for a new thread.
  const int threads = useConfiguredThreads();
  spdlog::info("job {}: worker {} starting (session {}, attempt {}, fence {}{}), libtorch threads {}",
               job.id, config_.worker_id, job.session_id, job.attempts, claimed.claim.fence,
               job.resume_phase.empty() ? "" : ", resuming " + job.resume_phase, threads);
  std::string error;
  try {
    Status result = runStages(job, lease, stop);
    if (result.ok()) {
      std::error_code ec;
      std::filesystem::remove_all(scratchDir(), ec);
      return;
    }
    error = result.error();
  } catch (const std::bad_alloc&) {
    error = "out of memory (std::bad_alloc)";
  } catch (const std::exception& e) {
    error = std::string("unexpected error: ") + e.what();
  } catch (...) {
    error = "unexpected error (an unknown exception)";
  }
  endJob(job, lease, error, stop);
  std::error_code ec;
  std::filesystem::remove_all(scratchDir(), ec);
}

void JobRunner::endJob(JobRecord& job, JobLease& lease, const std::string& error,
                       std::stop_token stop) {
  auto dropCheckpoint = [&] {
    if (job.checkpoint_path.empty()) return;
    if (auto removed = blobs_.remove(job.checkpoint_path); !removed.ok())
      spdlog::warn("job {}: {}", job.id, removed.error());
  };
  // A stage that failed because the shared store could not be reached (a
  // database restart outlasting the retries) is not the job's fault: the
  // job goes back to the queue like a stopping worker's, not to failed.
  const bool unreachable = !error.empty() && isStoreUnreachable(error);
  if (!lease.lost() && (stop.stop_requested() || unreachable)) {
    // The worker is stopping (or the store was away): the job goes back to
    // the queue (the attempt given back) and any worker resumes it from
    // what was published.
    const std::string why =
        unreachable ? "the database was unavailable" : "interrupted by a worker stop";
    auto st = lease.write(
        [&](const Claim& c) {
          return queue_.release(c, why + "; resumes from its last checkpoint",
                                unreachable ? ReleaseCause::kStoreUnreachable
                                            : ReleaseCause::kStop);
        },
        /*retry=*/true);
    if (st.ok()) {
      // A release for an unreachable store keeps the attempt counted: one
      // that used the job's last attempt failed it (a stage that breaks the
      // connection every time must end).
      const auto after = unreachable ? queue_.get(job.id) : std::nullopt;
      if (after && after->state == JobState::kFailed) {
        dropCheckpoint();
        spdlog::error("job {} failed: {}", job.id, after->detail);
        return;
      }
      spdlog::warn("job {}: released by worker {} ({}); it resumes {}", job.id, config_.worker_id,
                   unreachable ? error : "stopping", resumePhaseFrom(job.state, job.resume_phase));
    } else if (!lease.lost()) {
      // Not failed for a stop: once its lease runs out a sweep queues it again.
      spdlog::error("job {}: cannot release it ({}); it is recovered when its lease runs out",
                    job.id, st.message());
    }
    if (!lease.lost()) return;
  }
  if (!lease.lost()) {
    std::string reason = error;
    if (looksLikeDiskFull(reason) && reason.rfind("disk full", 0) != 0) reason = "disk full: " + reason;
    auto st = lease.write([&](const Claim& c) { return queue_.fail(c, reason); }, /*retry=*/true);
    if (st.ok()) {
      // A failed job resumes nothing: its training state is only space.
      dropCheckpoint();
      spdlog::error("job {} failed: {}", job.id, reason);
      return;
    }
    if (!lease.lost()) {
      spdlog::error("job {}: cannot record its failure ({}): {}", job.id, reason, st.message());
      return;
    }
  }
  // The claim is lost: the job is someone else's now (claimed again,
  // recovered) or ended (cancelled). Nothing is published.
  const auto now = queue_.get(job.id);
  if (now && now->fence == lease.claim().fence && now->state == JobState::kCancelled) {
    dropCheckpoint();
    spdlog::info("job {} cancelled: {}", job.id, now->detail);
    return;
  }
  ++lost_jobs_;
  spdlog::warn("job {}: worker {} lost it ({}); stopped without publishing anything", job.id,
               config_.worker_id, lease.lostReason());
}

Status JobRunner::runStages(JobRecord& job, JobLease& lease, std::stop_token stop) {
  const auto now = config_.now_seconds;
  const double t_start = now();
  double spent_before = job.budget_spent_seconds;
  const double budget =
      job.train_budget_seconds > 0 ? job.train_budget_seconds : config_.train.budget_seconds;
  job.train_budget_seconds = budget;
  auto charge = [&] { job.budget_spent_seconds = spent_before + (now() - t_start); };
  StopWatch should_stop(lease, stop);
  auto stopped = [&](const std::string& what) {
    if (lease.lost()) return fail(kLost);
    return fail(should_stop.shuttingDown() ? "interrupted" : what);
  };
  auto report = [&] {
    JobProgress p;
    p.detail = job.detail;
    p.progress = job.progress;
    p.loss_g = job.loss_g;
    p.loss_d = job.loss_d;
    p.loss_l1 = job.loss_l1;
    p.eta_seconds = job.eta_seconds;
    p.generator_steps = job.generator_steps;
    p.face_steps = job.face_steps;
    p.generator_steps_per_second = job.generator_steps_per_second;
    p.face_steps_per_second = job.face_steps_per_second;
    p.budget_spent_seconds = job.budget_spent_seconds;
    // A progress report the database cannot take now is skipped; the next
    // one carries the same fields.
    return lease.write([&](const Claim& c) { return queue_.progress(c, p); }, false);
  };
  // Enters the next stage through the claim (fence-checked, retried while
  // the database is away) and mirrors it in this copy of the job.
  auto enterStage = [&](JobEvent event, JobState state, const std::string& detail) -> Status {
    if (auto st = lease.write([&](const Claim& c) { return queue_.advance(c, event, detail); },
                              true, stop);
        !st.ok()) {
      return fail(st.message());
    }
    job.state = state;
    job.detail = detail;
    return okStatus();
  };
  auto recordCheckpoint = [&] {
    JobCheckpoint c;
    c.checkpoint_path = job.checkpoint_path;
    c.model_path = job.model_path;
    c.budget_spent_seconds = job.budget_spent_seconds;
    c.train_budget_planned = job.train_budget_planned;
    c.train_seconds = job.train_seconds;
    return lease.write([&](const Claim& claim) { return queue_.checkpoint(claim, c); }, true, stop);
  };
  // Runs `op`, a call of the shared store, through the lease: while the
  // store cannot be reached (a database restart) it is tried again with the
  // lease's back-off for as long as the lease lasts; its last error is
  // returned (an unreachable store's still says so: isStoreUnreachable).
  auto untilReachable = [&](const std::function<Status()>& op) -> Status {
    std::string error;
    auto st = lease.write(
        [&](const Claim&) -> QueueStatus {
          Status done = op();
          if (done.ok()) return {};
          error = done.error();
          return JobQueueFailure{
              isStoreUnreachable(error) ? JobQueueError::kUnavailable : JobQueueError::kRefused,
              error};
        },
        /*retry=*/true, stop);
    if (st.ok()) return okStatus();
    return fail(error.empty() ? st.message() : error);
  };
  // Stores `file` as blob `key`, fenced by the claim.
  auto publish = [&](const std::filesystem::path& file, const std::string& key) -> Status {
    return untilReachable([&] { return storeFileAsBlob(blobs_, file, key, lease.fenceCheck()); });
  };
  // Fetches blob `key` (a state an earlier attempt published) to `file`.
  auto fetch = [&](const std::string& key, const std::filesystem::path& file) -> Status {
    return untilReachable([&] { return fetchBlobToFile(blobs_, key, file); });
  };
  double last_save = now();
  auto saveThrottled = [&] {
    if (now() - last_save < kSaveEverySeconds) return;
    charge();
    (void)report();
    last_save = now();
  };
  if (should_stop()) return stopped(kCancelled);

  // The primary camera: the first camera (by node id, then camera id) that
  // sent frames; a camera that sent none (unplugged at the start) is passed
  // over.
  const CameraFrames* primary = primaryCamera(job);
  if (!primary) return fail("the session has no received frames");
  const std::string node = primary->node;
  const std::string camera = primary->camera;
  const std::string resume = job.resume_phase;
  const auto scratch = scratchDir();
  std::error_code ec;
  std::filesystem::remove_all(scratch, ec);
  std::filesystem::create_directories(scratch, ec);
  if (ec) return fail("cannot create the scratch folder " + scratch.string() + ": " + ec.message());
  const auto model_file = scratch / kModelFile;
  const auto checkpoint_file = scratch / kCheckpointFile;
  // A job whose training had finished (its model kept, its training state
  // dropped) renders from that model, even when it was lost before it
  // entered rendering. A store that cannot be reached is waited for; one
  // still away ends the attempt with its error (the job is released, its
  // model kept), rather than throw the training away.
  bool rerender = false;
  if (!job.model_path.empty() && (resume == "rendering" || job.checkpoint_path.empty())) {
    Status fetched = fetch(job.model_path, model_file);
    if (lease.lost()) return fail(kLost);
    if (fetched.ok()) {
      rerender = true;
    } else if (isStoreUnreachable(fetched.error())) {
      return fail("cannot fetch the trained model " + job.model_path + ": " + fetched.error());
    } else {
      spdlog::warn("job {}: cannot fetch the trained model {}: {}; training again", job.id,
                   job.model_path, fetched.error());
    }
  }
  job.progress = 0;
  job.detail = "loading frames of " + node + "/" + camera;
  charge();
  if (!report().ok() && lease.lost()) return fail(kLost);

  if (auto st = stage("load"); !st.ok()) return st;
  // The frames wait (the lease's back-off, while it lasts) for a blob store
  // that cannot be reached now; a missing or damaged one fails the job.
  Result<std::vector<StoredFrame>> records = fail("the frames were not loaded");
  (void)untilReachable([&]() -> Status {
    records = sessions_.loadCamera(job, *primary, scratch / "frames");
    return records.ok() ? okStatus() : fail(records.error());
  });
  if (!records.ok()) return fail(records.error());
  if (should_stop()) return stopped(kCancelled);

  auto created = PoseToImageModel::create(config_.model, config_.device);
  if (!created.ok()) return fail(created.error());
  PoseToImageModel& model = *created.value();

  VisitorFrame visitor;
  const bool warp = config_.model.generator == GeneratorKind::kWarp;
  if (rerender) {
    if (warp) {
      // The warp generator renders from the visitor's frames: decode them.
      TrainingSetOptions set_options;
      set_options.resolution = config_.model.resolution;
      set_options.held_out_fraction = 0;
      set_options.should_stop = [&] { return should_stop(); };
      auto set = buildTrainingSet(records.value(), set_options);
      if (!set.ok()) return fail(set.error());
      records.value().clear();
      visitor.floor = set->floor;
      visitor.face_side = set->face_side;
      if (auto st = model.setReferences(set->frames, set->poses); !st.ok()) return fail(st.error());
    } else {
      auto geometry = sessionGeometry(records.value(), config_.model.resolution);
      if (!geometry.ok()) return fail(geometry.error());
      visitor.floor = geometry->floor;
      visitor.face_side = geometry->face_side;
    }
    if (auto st = model.loadWeights(model_file.string()); !st.ok())
      return fail("the trained model of the interrupted job: " + st.error());
  } else {
    TrainingSetOptions set_options;
    set_options.resolution = config_.model.resolution;
    set_options.held_out_fraction = config_.held_out_fraction;
    set_options.should_stop = [&] { return should_stop(); };
    auto set = buildTrainingSet(records.value(), set_options);
    if (!set.ok()) return fail(set.error());
    records.value().clear();  // the encoded frames are not needed any more
    visitor.floor = set->floor;
    visitor.face_side = set->face_side;
    // The warp generator renders from every frame of the session (the
    // held-out ones too).
    if (warp) {
      if (auto st = model.setReferences(set->frames, set->poses); !st.ok()) return fail(st.error());
    }

    bool resumed = false;
    if (resume == "training" && !job.checkpoint_path.empty()) {
      // The training state the last worker published (another machine's,
      // perhaps): fetched, then loaded.
      Status st = fetch(job.checkpoint_path, checkpoint_file);
      if (lease.lost()) return fail(kLost);
      if (!st.ok() && isStoreUnreachable(st.error())) {
        return fail("cannot fetch the training state " + job.checkpoint_path + ": " + st.error());
      }
      if (st.ok()) st = model.load(checkpoint_file.string());
      if (st.ok()) {
        resumed = true;
      } else {
        spdlog::warn("job {}: cannot resume from {}: {}; starting over", job.id,
                     job.checkpoint_path, st.error());
      }
    }
    if (!resumed && spent_before > 0 && job.checkpoint_path.empty() && job.model_path.empty()) {
      // Nothing the earlier attempts did is kept (no training state: their
      // worker died or lost the job before its first checkpoint): this one
      // starts over with the job's whole budget rather than fail for time
      // a lost worker used. A state that was kept but did not load (a
      // damaged blob, other model options) leaves the time charged: the
      // budget is not given back for each attempt that fails so.
      spdlog::info(
          "job {}: starting over with its whole budget ({:.1f} s used by attempts that "
          "left no training state)",
          job.id, spent_before);
      spent_before = 0;
      charge();
    }
    if (!resumed && !config_.base_checkpoint.empty()) {
      if (auto st = model.loadWeights(config_.base_checkpoint); !st.ok())
        return fail("base checkpoint: " + st.error());
    }

    // What the render will take, measured on this machine with this model.
    auto per_frame = measureRenderFrameSeconds(model, visitor, config_.render, kRenderProbeFrames,
                                              config_.now_seconds);
    if (!per_frame.ok()) return fail(per_frame.error());
    RenderConfig render = config_.render;
    if (!job.choreography.empty()) render.choreography = job.choreography;
    const double render_estimate =
        per_frame.value() * clipFrameCount(render) * kRenderOverhead + 1.0;
    charge();
    if (!resumed || job.train_budget_planned <= 0) {
      job.train_budget_planned =
          budget - job.budget_spent_seconds - render_estimate - kBudgetMarginSeconds;
      if (job.train_budget_planned < kMinTrainSeconds)
        return fail("the job's budget of " + std::to_string(static_cast<int>(budget)) +
                    " s leaves " + std::to_string(static_cast<int>(job.train_budget_planned)) +
                    " s for training after loading (" +
                    std::to_string(static_cast<int>(job.budget_spent_seconds)) +
                    " s) and rendering (about " + std::to_string(static_cast<int>(render_estimate)) +
                    " s); give at least " +
                    std::to_string(static_cast<int>(job.budget_spent_seconds + render_estimate +
                                                     kBudgetMarginSeconds + kMinTrainSeconds) +
                                   1) +
                    " s");
    }
    TrainConfig train = config_.train;
    train.budget_seconds = job.train_budget_planned;
    if (auto st = stage("train"); !st.ok()) return st;
    const std::string detail =
        "training on " + std::to_string(set->trainClip().frames.size()) + " frames, " +
        std::to_string(set->heldOutCount()) + " held out (" +
        (resumed ? "resumed from the last checkpoint"
                 : config_.base_checkpoint.empty() ? "from scratch" : "from the base model") +
        ", " + model.deviceName() + ", worker " + config_.worker_id + ")";
    if (auto st = enterStage(JobEvent::kStartTraining, JobState::kTraining, detail); !st.ok()) {
      return st;
    }
    job.resume_phase.clear();

    // The training loop saves its state to the scratch file every
    // checkpoint_seconds (atomically); each new one is published as the
    // job's checkpoint blob, fenced, and recorded with the job.
    std::filesystem::file_time_type published_at{};
    auto publishCheckpoint = [&]() -> Status {
      std::error_code tec;
      const auto written = std::filesystem::last_write_time(checkpoint_file, tec);
      if (tec || written == published_at) return okStatus();
      const std::string key = checkpointBlobKey(job.session_id);
      if (auto st = storeFileAsBlob(blobs_, checkpoint_file, key, lease.fenceCheck()); !st.ok())
        return st;
      published_at = written;
      job.checkpoint_path = key;
      charge();
      auto st = recordCheckpoint();
      return st.ok() ? okStatus() : fail(st.message());
    };
    // The state this worker loaded from is published already.
    if (resumed) published_at = std::filesystem::last_write_time(checkpoint_file, ec);

    TrainHooks hooks;
    hooks.checkpoint_path = checkpoint_file.string();
    hooks.checkpoint_seconds = config_.checkpoint_seconds;
    hooks.now_seconds = now;
    hooks.should_stop = [&] { return should_stop(); };
    hooks.progress = [&](const TrainProgress& p) {
      job.generator_steps = p.generator_steps;
      job.face_steps = p.face_steps;
      // A resumed run keeps the rate of a phase it does not run again.
      if (p.generator_steps_per_second > 0) job.generator_steps_per_second = p.generator_steps_per_second;
      if (p.face_steps_per_second > 0) job.face_steps_per_second = p.face_steps_per_second;
      job.loss_g = p.loss_g;
      job.loss_d = p.loss_d;
      job.loss_l1 = p.loss_l1;
      job.progress = p.fraction;
      job.train_seconds = p.elapsed_seconds;
      job.eta_seconds = std::max(0.0, p.budget_seconds - p.elapsed_seconds) + render_estimate;
      if (auto st = publishCheckpoint(); !st.ok() && !lease.lost())
        spdlog::warn("job {}: could not publish the training state: {}", job.id, st.error());
      saveThrottled();
    };
    const TrainClip clip = set->trainClip();
    const TrainClip held = set->heldOutClip();
    auto trained = model.train(std::span<const TrainClip>(&clip, 1),
                               set->heldOutCount() > 0 ? &held : nullptr, train, hooks, stop);
    if (!trained.ok()) return fail("training: " + trained.error());
    charge();
    if (!trained->finished) {
      if (lease.lost() || !should_stop.shuttingDown()) return stopped(kCancelled);
      // Stopping: keep every step made so far for whoever resumes it.
      Status st = model.save(checkpoint_file.string());
      if (st.ok()) st = publishCheckpoint();
      if (!st.ok()) spdlog::warn("job {}: could not save the training state: {}", job.id, st.error());
      return fail("interrupted");
    }
    job.train_seconds = trained->last.elapsed_seconds;
    hooks.progress(trained->last);
    spdlog::info("job {}: trained in {:.1f} s: {} generator steps ({:.2f}/s), {} face-GAN steps "
                 "({:.1f}/s), libtorch threads {:.2f}, best held-out L1 {:.4f}",
                 job.id, trained->last.elapsed_seconds, job.generator_steps,
                 job.generator_steps_per_second, job.face_steps, job.face_steps_per_second,
                 trained->mean_threads, trained->last.best_heldout_l1);
    if (auto st = model.save(model_file.string()); !st.ok())
      return fail("cannot keep the trained model: " + st.error());
    const std::string model_key = modelBlobKey(job.session_id);
    if (auto st = publish(model_file, model_key); !st.ok()) {
      if (lease.lost()) return fail(kLost);
      return fail("cannot keep the trained model: " + st.error());
    }
    const std::string old_checkpoint = job.checkpoint_path;
    job.model_path = model_key;
    job.checkpoint_path.clear();
    charge();
    if (auto st = recordCheckpoint(); !st.ok()) return fail(st.message());
    if (!old_checkpoint.empty()) (void)blobs_.remove(old_checkpoint);
  }

  RenderConfig render = config_.render;
  if (!job.choreography.empty()) render.choreography = job.choreography;
  job.progress = 0;
  charge();
  if (auto st = stage("render"); !st.ok()) return st;
  const std::string detail = "rendering '" + render.choreography + "' (" +
                             std::to_string(clipFrameCount(render)) + " frames, worker " +
                             config_.worker_id + ")";
  if (auto st = enterStage(JobEvent::kStartRendering, JobState::kRendering, detail); !st.ok()) {
    return st;
  }
  const std::string token = newClipToken();
  const auto path = clipFile(scratch, token);
  const double r0 = now();
  RenderHooks render_hooks;
  render_hooks.should_stop = [&] { return should_stop(); };
  render_hooks.progress = [&](double p) {
    job.progress = p;
    const double elapsed = now() - r0;
    job.eta_seconds = p > 0 ? elapsed / p - elapsed : 0;
    saveThrottled();
  };
  auto clip = renderClip(model, visitor, render, path.string(), render_hooks);
  charge();
  if (!clip.ok()) {
    if (lease.lost() || should_stop()) return stopped(kCancelled);
    return fail("rendering: " + clip.error());
  }
  // Published only while this worker still holds the job (the fence check
  // in the blob's commit), then the job is done; a job lost in between
  // takes its clip away again.
  const std::string key = clipBlobKey(token);
  if (auto st = publish(path, key); !st.ok()) {
    if (lease.lost()) return fail(kLost);
    return fail("cannot store the clip: " + st.error());
  }
  JobClip done;
  done.clip_token = token;
  done.clip_path = blobLocation(blobs_, key);
  done.frames = clip->frames;
  done.width = clip->width;
  done.height = clip->height;
  done.bytes = clip->bytes;
  done.render_seconds = now() - r0;
  done.budget_spent_seconds = job.budget_spent_seconds;
  if (auto st = lease.write([&](const Claim& c) { return queue_.finish(c, done); }, true, stop);
      !st.ok()) {
    // Cancelled (or taken) while the clip was stored: nobody may see it.
    (void)blobs_.remove(key);
    return fail(st.message());
  }
  applyClip(job, done);
  spdlog::info("job {}: done by worker {}, clip {}x{} {} frames {} bytes in {:.1f} s ({:.1f} s of "
               "{:.0f} s budget): {}",
               job.id, config_.worker_id, clip->width, clip->height, clip->frames, clip->bytes,
               done.render_seconds, job.budget_spent_seconds, budget,
               clipUrl(config_.public_url, token));
  return okStatus();
}

}  // namespace booth
