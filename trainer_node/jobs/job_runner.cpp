#include "trainer_node/jobs/job_runner.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "common/os/list_directory.h"
#include "trainer_node/store/clip_names.h"
#include "trainer_node/store/disk_space.h"
#include "trainer_node/train/cpu_runtime.h"
#include "trainer_node/train/training_set.h"

namespace booth {
namespace {

// Saving the trained model and the bookkeeping around the stages.
constexpr double kBudgetMarginSeconds = 1.0;
// Below this the schedule cannot do anything useful: fail instead.
constexpr double kMinTrainSeconds = 1.0;
constexpr double kCancelPollSeconds = 0.2;
constexpr double kSaveEverySeconds = 0.5;
// The render estimate measures this many frames and adds a share for the
// encoder and the file.
constexpr int kRenderProbeFrames = 3;
constexpr double kRenderOverhead = 1.3;
constexpr const char* kCancelled = "cancelled by the operator";
constexpr const char* kCheckpointFile = "train_state.pt";
constexpr const char* kModelFile = "generator.pt";

void removeCheckpoint(const JobRecord& job) {
  if (job.checkpoint_path.empty()) return;
  std::error_code ec;
  std::filesystem::remove(job.checkpoint_path, ec);
}

double steadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Whether to stop the job now, and why: the trainer shuts down (the job is
// resumed at the next start) or the operator cancelled it.
class StopWatch {
 public:
  StopWatch(JobStore& jobs, std::string job_id, std::stop_token stop,
            std::function<double()> now, const bool& lost)
      : jobs_(jobs), id_(std::move(job_id)), stop_(stop), now_(std::move(now)), lost_(lost) {}
  bool operator()() {
    if (stop_.stop_requested()) return true;
    if (cancelled_ || lost_) return true;
    const double t = now_();
    if (t - last_poll_ >= kCancelPollSeconds) {
      last_poll_ = t;
      cancelled_ = jobs_.cancelRequested(id_);
    }
    return cancelled_;
  }
  bool cancelled() {
    if (!cancelled_) cancelled_ = jobs_.cancelRequested(id_);
    return cancelled_;
  }
  bool shuttingDown() const { return stop_.stop_requested(); }

 private:
  JobStore& jobs_;
  std::string id_;
  std::stop_token stop_;
  std::function<double()> now_;
  const bool& lost_;
  double last_poll_ = -1e300;
  bool cancelled_ = false;
};

}  // namespace

Status preflight(const JobRunnerConfig& config) {
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

JobRunner::JobRunner(JobRunnerConfig config, JobStore& jobs, SessionStore& sessions)
    : config_(std::move(config)), jobs_(jobs), sessions_(sessions) {
  if (!config_.now_seconds) config_.now_seconds = steadySeconds;
}

JobRunner::~JobRunner() { stop(); }

int JobRunner::recoverInterrupted() {
  auto clips = listDirectory(config_.clips_dir, EntryKind::kFiles, /*missing_ok=*/true);
  if (!clips.ok()) spdlog::warn("job runner: {}", clips.error());
  for (const auto& file : clips.ok() ? clips.value() : std::vector<std::filesystem::path>{}) {
    const std::string name = file.filename().string();
    const std::string suffix = kPartialClipSuffix;
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      std::error_code rm;
      std::filesystem::remove(file, rm);
      spdlog::info("removed the partial clip {} of an interrupted render", name);
    }
  }
  int resumed = 0;
  for (JobState state : {JobState::kClaimed, JobState::kTraining, JobState::kRendering}) {
    for (JobRecord job : jobs_.withState(state)) {
      // What to resume: a rendering job re-renders from its model, a
      // training one continues from its checkpoint (or starts over).
      job.resume_phase = resumePhaseFrom(state, job.resume_phase);
      const std::string used = std::to_string(static_cast<int>(job.budget_spent_seconds)) +
                               " s of " +
                               std::to_string(static_cast<int>(job.train_budget_seconds)) +
                               " s used";
      if (auto st = jobs_.transition(job, JobEvent::kRecover,
                                     "resuming after a trainer restart (" +
                                         std::string(jobStateName(state)) + ", " + used + ")");
          !st.ok()) {
        spdlog::error("job {}: {}", job.id, st.error());
        continue;
      }
      if (job.state == JobState::kQueued) {
        ++resumed;
        spdlog::info("job {}: {}", job.id, job.detail);
      } else {
        spdlog::error("job {} failed: {}", job.id, job.detail);
        removeCheckpoint(job);
      }
    }
  }
  return resumed;
}

void JobRunner::start() {
  thread_ = std::jthread([this](std::stop_token st) { loop(st); });
}

void JobRunner::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void JobRunner::loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    bool ran = false;
    // Last resort: whatever escapes a job (runJob catches what its stages
    // throw) must not end the thread; the next job still runs.
    try {
      jobs_.retryPending();
      ran = runNext(stop);
    } catch (const std::exception& e) {
      spdlog::error("job runner: {}; going on with the next job", e.what());
    } catch (...) {
      spdlog::error("job runner: unknown exception; going on with the next job");
    }
    if (!ran) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

bool JobRunner::runNext(std::stop_token stop) {
  auto claimed = jobs_.claimNext();
  if (!claimed.ok()) {
    spdlog::error("job runner: cannot claim a job: {}", claimed.error());
    return false;
  }
  if (!claimed.value()) return false;
  runJob(std::move(*claimed.value()), stop);
  return true;
}

bool JobRunner::save(JobRecord& job) {
  if (lost_) return false;
  auto st = jobs_.update(job);
  if (st.ok()) return true;
  spdlog::error("job {}: {}", job.id, st.error());
  // No longer in the state this runner holds (cancelled, ended elsewhere)
  // or claimed again by someone else (the fence moved on).
  if (auto now = jobs_.get(job.id); !now || now->state != job.state || now->fence != job.fence)
    lost_ = true;
  return !lost_;
}

Status JobRunner::stage(const std::string& name) {
  if (!config_.stage_hook) return okStatus();
  return config_.stage_hook(name);
}

void JobRunner::runJob(JobRecord job, std::stop_token stop) {
  lost_ = false;
  // libtorch's thread count is per thread: this one trains and renders with
  // every CPU configured, not libtorch's default for a new thread.
  const int threads = useConfiguredThreads();
  spdlog::info("job {}: starting (session {}, attempt {}{}), libtorch threads {}", job.id,
               job.session_id, job.attempts,
               job.resume_phase.empty() ? "" : ", resuming " + job.resume_phase, threads);
  std::string error;
  try {
    Status result = runStages(job, stop);
    if (result.ok()) return;
    error = result.error();
  } catch (const std::bad_alloc&) {
    error = "out of memory (std::bad_alloc)";
  } catch (const std::exception& e) {
    error = std::string("unexpected error: ") + e.what();
  } catch (...) {
    error = "unexpected error (an unknown exception)";
  }
  endJob(job, error, stop);
}

void JobRunner::endJob(JobRecord& job, const std::string& error, std::stop_token stop) {
  const bool cancelled = jobs_.cancelRequested(job.id);
  if (stop.stop_requested() && !cancelled && !lost_) {
    // The trainer is stopping: the job goes back to the queue (the attempt
    // given back) and resumes from what was saved.
    job.resume_phase = resumePhaseFrom(job.state, job.resume_phase);
    if (auto st = jobs_.transition(job, JobEvent::kRelease,
                                   "interrupted by a trainer stop; resumes at the next start");
        !st.ok()) {
      spdlog::error("job {}: {}", job.id, st.error());
    }
    spdlog::warn("job {}: {}", job.id, job.detail);
    return;
  }
  job.resume_phase.clear();
  std::string reason = error;
  if (looksLikeDiskFull(reason) && reason.rfind("disk full", 0) != 0) reason = "disk full: " + reason;
  JobRecord current = job;
  const auto event = cancelled ? JobEvent::kCancel : JobEvent::kFail;
  if (auto st = jobs_.transition(job, event, cancelled ? kCancelled : reason); !st.ok()) {
    // Already ended elsewhere (cancelled by the operator while queued, say).
    spdlog::warn("job {}: {}", job.id, st.error());
    if (auto now = jobs_.get(job.id)) job = *now;
  }
  // A job that ended resumes nothing: its training state is only disk space;
  // unless a later claim took the job from this runner (its new owner
  // resumes from that state).
  if (!lost_ && job.fence == current.fence) removeCheckpoint(current);
  if (job.state == JobState::kCancelled) {
    spdlog::info("job {} cancelled: {}", job.id, job.detail);
  } else {
    spdlog::error("job {} failed: {}", job.id, job.detail);
  }
}

Status JobRunner::runStages(JobRecord& job, std::stop_token stop) {
  const auto now = config_.now_seconds;
  const double t_start = now();
  const double spent_before = job.budget_spent_seconds;
  const double budget =
      job.train_budget_seconds > 0 ? job.train_budget_seconds : config_.train.budget_seconds;
  job.train_budget_seconds = budget;
  auto charge = [&] { job.budget_spent_seconds = spent_before + (now() - t_start); };
  StopWatch should_stop(jobs_, job.id, stop, now, lost_);
  double last_save = now();
  auto saveThrottled = [&] {
    if (now() - last_save < kSaveEverySeconds) return;
    charge();
    save(job);
    last_save = now();
  };
  if (should_stop()) return fail(should_stop.shuttingDown() ? "interrupted" : kCancelled);

  // The primary camera: the first camera (by node id, then camera id) that
  // sent frames; a camera that sent none (unplugged at the start) is passed
  // over.
  const CameraFrames* primary = primaryCamera(job);
  if (!primary) return fail("the session has no received frames");
  const std::string node = primary->node;
  const std::string camera = primary->camera;
  // resume_phase stays set while loading (a stop or crash now must resume
  // the same phase); it is cleared when training or rendering starts.
  const std::string resume = job.resume_phase;
  const bool rerender = resume == "rendering" && !job.model_path.empty() &&
                        std::filesystem::exists(job.model_path);
  job.progress = 0;
  job.detail = "loading frames of " + node + "/" + camera;
  charge();
  if (!save(job)) return fail("the job is no longer this runner's");

  if (auto st = stage("load"); !st.ok()) return st;
  auto records = sessions_.load(job.session_id, node, camera);
  if (!records.ok()) return fail(records.error());
  if (should_stop()) return fail("stopped");

  auto created = PoseToImageModel::create(config_.model, config_.device);
  if (!created.ok()) return fail(created.error());
  PoseToImageModel& model = *created.value();
  const auto session_dir = sessions_.sessionDir(job.session_id);
  std::error_code ec;
  std::filesystem::create_directories(session_dir, ec);

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
    if (auto st = model.loadWeights(job.model_path); !st.ok())
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

    const std::string checkpoint = (session_dir / kCheckpointFile).string();
    bool resumed = false;
    if (resume == "training" && !job.checkpoint_path.empty() &&
        std::filesystem::exists(job.checkpoint_path)) {
      if (auto st = model.load(job.checkpoint_path); st.ok()) {
        resumed = true;
      } else {
        spdlog::warn("job {}: cannot resume from {}: {}; starting over", job.id,
                     job.checkpoint_path, st.error());
      }
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
    job.checkpoint_path = checkpoint;
    if (auto st = stage("train"); !st.ok()) return st;
    job.resume_phase.clear();
    if (auto st = jobs_.transition(
            job, JobEvent::kStartTraining,
            "training on " + std::to_string(set->trainClip().frames.size()) + " frames, " +
                std::to_string(set->heldOutCount()) + " held out (" +
                (resumed ? "resumed from the last checkpoint"
                         : config_.base_checkpoint.empty() ? "from scratch" : "from the base model") +
                ", " + model.deviceName() + ")");
        !st.ok()) {
      return st;
    }

    TrainHooks hooks;
    hooks.checkpoint_path = checkpoint;
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
      job.eta_seconds = std::max(0.0, p.budget_seconds - p.elapsed_seconds) + render_estimate;
      saveThrottled();
    };
    const TrainClip clip = set->trainClip();
    const TrainClip held = set->heldOutClip();
    auto trained = model.train(std::span<const TrainClip>(&clip, 1),
                               set->heldOutCount() > 0 ? &held : nullptr, train, hooks, stop);
    if (!trained.ok()) return fail("training: " + trained.error());
    charge();
    if (!trained->finished) {
      if (should_stop.cancelled()) return fail(kCancelled);
      // Stopping: keep every step made so far for the resume.
      if (auto st = model.save(checkpoint); !st.ok())
        spdlog::warn("job {}: could not save the training state: {}", job.id, st.error());
      return fail("interrupted");
    }
    job.train_seconds = trained->last.elapsed_seconds;
    hooks.progress(trained->last);
    spdlog::info("job {}: trained in {:.1f} s: {} generator steps ({:.2f}/s), {} face-GAN steps "
                 "({:.1f}/s), libtorch threads {:.2f}, best held-out L1 {:.4f}",
                 job.id, trained->last.elapsed_seconds, job.generator_steps,
                 job.generator_steps_per_second, job.face_steps, job.face_steps_per_second,
                 trained->mean_threads, trained->last.best_heldout_l1);
    const auto model_path = session_dir / kModelFile;
    if (auto st = model.save(model_path.string()); !st.ok())
      return fail("cannot keep the trained model: " + st.error());
    job.model_path = model_path.string();
    std::filesystem::remove(checkpoint, ec);
    job.checkpoint_path.clear();
  }

  RenderConfig render = config_.render;
  if (!job.choreography.empty()) render.choreography = job.choreography;
  job.choreography = render.choreography;
  job.progress = 0;
  charge();
  if (auto st = stage("render"); !st.ok()) return st;
  job.resume_phase.clear();
  if (auto st = jobs_.transition(job, JobEvent::kStartRendering,
                                 "rendering '" + render.choreography + "' (" +
                                     std::to_string(clipFrameCount(render)) + " frames)");
      !st.ok()) {
    return st;
  }
  std::filesystem::create_directories(config_.clips_dir, ec);
  const std::string token = newClipToken();
  const auto path = clipFile(config_.clips_dir, token);
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
    if (should_stop.cancelled()) return fail(kCancelled);
    return fail("rendering: " + clip.error());
  }
  job.render_seconds = now() - r0;
  job.clip_token = token;
  job.clip_path = path.string();
  job.clip_frames = clip->frames;
  job.clip_width = clip->width;
  job.clip_height = clip->height;
  job.clip_bytes = clip->bytes;
  job.progress = 1;
  if (auto st = jobs_.transition(job, JobEvent::kFinish, "clip ready"); !st.ok()) {
    // Cancelled (or ended elsewhere) while the clip was written: nobody may
    // see it.
    std::filesystem::remove(path, ec);
    job.clip_token.clear();
    job.clip_path.clear();
    return st;
  }
  spdlog::info("job {}: done, clip {}x{} {} frames {} bytes in {:.1f} s ({:.1f} s of {:.0f} s budget): {}",
               job.id, clip->width, clip->height, clip->frames, clip->bytes, job.render_seconds,
               job.budget_spent_seconds, budget, clipUrl(config_.public_url, token));
  return okStatus();
}

}  // namespace booth
