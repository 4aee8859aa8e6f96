#include "trainer_node/jobs/job_runner.h"

#include <chrono>
#include <random>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "trainer_node/train/training_set.h"

namespace booth {
namespace {

using Clock = std::chrono::steady_clock;

std::string randomToken() {
  std::random_device rd;
  std::string token;
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) token += hex[rd() % 16];
  return token;
}

}  // namespace

std::string clipUrl(const std::string& public_url, const std::string& token) {
  return public_url + "/clips/" + token + ".mp4";
}

JobRunner::JobRunner(JobRunnerConfig config, JobStore& jobs, SessionStore& sessions)
    : config_(std::move(config)), jobs_(jobs), sessions_(sessions) {}

JobRunner::~JobRunner() { stop(); }

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
    auto job = jobs_.nextQueued();
    if (!job) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    runJob(std::move(*job), stop);
  }
}

void JobRunner::save(JobRecord& job) {
  if (auto st = jobs_.update(job); !st.ok()) spdlog::error("job {}: {}", job.id, st.error());
}

void JobRunner::runJob(JobRecord job, std::stop_token stop) {
  spdlog::info("job {}: starting (session {})", job.id, job.session_id);
  Status result = trainAndRender(job, stop);
  if (!result.ok()) {
    job.state = JobState::kFailed;
    job.detail = stop.stop_requested() ? "interrupted: the trainer was stopped" : result.error();
    job.eta_seconds = 0;
    spdlog::error("job {} failed: {}", job.id, job.detail);
  }
  save(job);
}

Status JobRunner::trainAndRender(JobRecord& job, std::stop_token stop) {
  // The primary camera: the first camera of the first node that sent frames.
  const auto cameras = nlohmann::json::parse(job.cameras_json, nullptr, false);
  if (cameras.is_discarded() || !cameras.is_array() || cameras.empty()) {
    return fail("the session has no received frames");
  }
  const std::string node = cameras[0].value("node", "");
  const std::string camera = cameras[0].value("camera", "");
  job.state = JobState::kTraining;
  job.progress = 0;
  job.detail = "loading frames of " + node + "/" + camera;
  save(job);

  auto records = sessions_.load(job.session_id, node, camera);
  if (!records.ok()) return fail(records.error());
  auto set = buildTrainingSet(records.value(), config_.model.resolution);
  if (!set.ok()) return fail(set.error());

  auto created = PoseToImageModel::create(config_.model, config_.device);
  if (!created.ok()) return fail(created.error());
  PoseToImageModel& model = *created.value();
  if (!config_.warm_start.empty()) {
    if (auto st = model.load(config_.warm_start); !st.ok()) {
      return fail("warm-start checkpoint: " + st.error());
    }
  }

  TrainConfig train = config_.train;
  if (job.train_budget_seconds > 0) train.budget_seconds = job.train_budget_seconds;
  job.train_budget_seconds = train.budget_seconds;
  const double render_estimate = clipFrameCount(config_.render) * 0.05;  // refined below
  job.detail = "training on " + std::to_string(set->frames.size()) + " frames (" +
               (config_.warm_start.empty() ? "from scratch" : "warm start") + ", " +
               model.deviceName() + ")";
  save(job);
  auto last_save = Clock::now();
  auto trained = model.train(
      set->sticks, set->frames, train,
      [&](const TrainProgress& p) {
        job.iterations = p.iterations;
        job.loss_g = p.loss_g;
        job.loss_d = p.loss_d;
        job.loss_l1 = p.loss_l1;
        job.progress =
            p.budget_seconds > 0 ? std::min(1.0, p.elapsed_seconds / p.budget_seconds) : 0;
        job.eta_seconds = std::max(0.0, p.budget_seconds - p.elapsed_seconds) + render_estimate;
        job.iterations_per_second = p.elapsed_seconds > 0 ? p.iterations / p.elapsed_seconds : 0;
        if (Clock::now() - last_save > std::chrono::milliseconds(500)) {
          save(job);
          last_save = Clock::now();
        }
      },
      stop);
  if (!trained.ok()) return fail("training: " + trained.error());
  if (stop.stop_requested()) return fail("interrupted");
  job.train_seconds = trained->seconds;
  job.iterations = trained->iterations;
  job.iterations_per_second = trained->iterations_per_second;
  spdlog::info("job {}: trained {} iterations in {:.1f} s ({:.2f} it/s)", job.id,
               trained->iterations, trained->seconds, trained->iterations_per_second);
  const auto checkpoint = sessions_.sessionDir(job.session_id) / "generator.pt";
  if (auto st = model.save(checkpoint.string()); !st.ok()) {
    spdlog::warn("job {}: could not keep the checkpoint: {}", job.id, st.error());
  }

  RenderConfig render = config_.render;
  if (!job.choreography.empty()) render.choreography = job.choreography;
  job.choreography = render.choreography;
  job.state = JobState::kRendering;
  job.progress = 0;
  job.detail = "rendering '" + render.choreography + "' (" +
               std::to_string(clipFrameCount(render)) + " frames)";
  save(job);
  std::error_code ec;
  std::filesystem::create_directories(config_.clips_dir, ec);
  const std::string token = randomToken();
  const auto path = config_.clips_dir / (token + ".mp4");
  const auto r0 = Clock::now();
  auto clip = renderClip(model, set->floor, render, path.string(), [&](double p) {
    job.progress = p;
    const double elapsed = std::chrono::duration<double>(Clock::now() - r0).count();
    job.eta_seconds = p > 0 ? elapsed / p - elapsed : 0;
    if (Clock::now() - last_save > std::chrono::milliseconds(500)) {
      save(job);
      last_save = Clock::now();
    }
  });
  if (!clip.ok()) return fail("rendering: " + clip.error());
  job.render_seconds = std::chrono::duration<double>(Clock::now() - r0).count();
  job.clip_token = token;
  job.clip_path = path.string();
  job.clip_frames = clip->frames;
  job.clip_width = clip->width;
  job.clip_height = clip->height;
  job.clip_bytes = clip->bytes;
  job.state = JobState::kDone;
  job.progress = 1;
  job.eta_seconds = 0;
  job.detail = "clip ready";
  spdlog::info("job {}: done, clip {}x{} {} frames {} bytes in {:.1f} s: {}", job.id, clip->width,
               clip->height, clip->frames, clip->bytes, job.render_seconds,
               clipUrl(config_.public_url, token));
  return okStatus();
}

}  // namespace booth
