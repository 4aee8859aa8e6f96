#include "trainer_node/pretrain/pretrainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>

#include "trainer_node/pretrain/stored_sessions.h"
#include "trainer_node/train/face_box.h"
#include "trainer_node/train/pose_to_image_model.h"
#include "trainer_node/train/training_set.h"

namespace booth {
namespace {

std::string clock(double seconds) {
  const auto s = static_cast<long long>(std::max(0.0, seconds));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}

std::string number(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Every clip of a run must crop faces at one size (the face GAN trains on
// batches of equal crops): the median of the clips' own sizes.
void unifyFaceBoxes(std::vector<TrainingSet>& clips) {
  std::vector<int> sides;
  for (const auto& c : clips) sides.push_back(c.face_side);
  if (sides.empty()) return;
  std::nth_element(sides.begin(), sides.begin() + sides.size() / 2, sides.end());
  const int side = sides[sides.size() / 2];
  for (auto& c : clips) {
    c.face_side = side;
    for (std::size_t i = 0; i < c.poses.size(); ++i)
      c.face_boxes[i] = faceBox(c.poses[i], side, cv::Size(c.resolution, c.resolution));
  }
}

}  // namespace

Status validate(const PretrainConfig& c) {
  if (auto s = validate(c.model); !s) return s;
  if (auto s = validate(c.train); !s) return s;
  if (c.train.max_iterations <= 0)
    return fail("pretrain: --iterations must be > 0, got " + std::to_string(c.train.max_iterations));
  if (c.out.empty()) return fail("pretrain: --out is required");
  if (!(c.checkpoint_seconds > 0))
    return fail("pretrain: --checkpoint-every must be > 0, got " + std::to_string(c.checkpoint_seconds));
  if (!c.synthetic && c.sessions_dir.empty() && c.videos_dir.empty())
    return fail("pretrain: the corpus is empty: give --sessions DIR, --videos DIR and/or keep "
                "--synthetic on");
  if (!c.videos_dir.empty() && c.video.pose.model_path.empty())
    return fail("pretrain: --videos needs --pose-model (a pose model manifest, e.g. "
                "capture_node/pose/models/tfpose_mobilenet_v2_small.json)");
  if (c.synthetic) {
    if (auto s = validate(c.corpus); !s) return fail("pretrain: " + s.error());
  }
  std::error_code ec;
  if (!c.sessions_dir.empty() && !std::filesystem::is_directory(c.sessions_dir / "sessions", ec))
    return fail("pretrain: --sessions " + c.sessions_dir.string() +
                " has no sessions/ folder (give a trainer's --data-dir)");
  return okStatus();
}

std::filesystem::path Pretrainer::resumePath(const std::filesystem::path& out) {
  return out.string() + ".resume";
}

Pretrainer::Pretrainer(PretrainConfig config, std::ostream& log)
    : config_(std::move(config)), log_(log) {}

Pretrainer::~Pretrainer() { stop(); }

void Pretrainer::start(std::function<void()> on_done) {
  thread_ = std::jthread([this, on_done = std::move(on_done)](std::stop_token st) {
    auto r = run(st);
    {
      std::lock_guard lock(mutex_);
      result_.emplace(std::move(r));
    }
    if (on_done) on_done();
  });
}

void Pretrainer::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

Result<PretrainSummary> Pretrainer::wait() {
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  if (!result_) return fail("pretrain: not started");
  return *result_;
}

Result<PretrainSummary> Pretrainer::run(std::stop_token stop) {
  if (auto s = validate(config_); !s) return fail(s.error());
  const auto t0 = std::chrono::steady_clock::now();
  auto since = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const int res = config_.model.resolution;

  // The corpus.
  std::vector<TrainingSet> clips;
  if (config_.synthetic) {
    log_ << "pretrain: rendering the synthetic corpus ("
         << config_.corpus.performers.size() + static_cast<std::size_t>(config_.corpus.random_performers)
         << " performers x " << config_.corpus.choreographies.size() << " choreographies x "
         << config_.corpus.clips_per_pair << " clips of " << config_.corpus.clip_seconds << " s)"
         << std::endl;
    auto corpus = buildSyntheticCorpus(config_.corpus, res, nullptr,
                                       [&] { return stop.stop_requested(); });
    if (!corpus.ok()) return fail("pretrain: " + corpus.error());
    for (auto& c : corpus.value()) clips.push_back(std::move(c));
  }
  TrainingSetOptions options;
  options.resolution = res;
  options.held_out_fraction = 0;
  options.should_stop = [&] { return stop.stop_requested(); };
  if (!config_.sessions_dir.empty()) {
    auto stored = loadConsentedSessions(config_.sessions_dir, options, log_);
    if (!stored.ok()) return fail("pretrain: " + stored.error());
    log_ << "pretrain: " << stored->clips.size() << " camera clip(s) of "
         << stored->sessions_used << " stored session(s) from " << config_.sessions_dir.string()
         << ", " << stored->refused.size() << " session(s) refused (no consent)" << std::endl;
    for (auto& c : stored->clips) clips.push_back(std::move(c));
  }
  if (!config_.videos_dir.empty()) {
    VideoCorpusOptions video = config_.video;
    video.training = options;
    auto videos = loadVideoClips(config_.videos_dir, video, log_);
    if (!videos.ok()) return fail("pretrain: " + videos.error());
    log_ << "pretrain: " << videos->clips.size() << " of " << videos->videos_seen
         << " video(s) from " << config_.videos_dir.string() << std::endl;
    for (auto& c : videos->clips) clips.push_back(std::move(c));
  }
  if (clips.empty()) return fail("pretrain: the corpus has no usable clip");
  unifyFaceBoxes(clips);
  std::size_t frames = 0;
  for (const auto& c : clips) frames += c.frames.size();
  log_ << "pretrain: corpus of " << clips.size() << " clips, " << frames << " frames at " << res
       << " px, face crops " << clips.front().face_side << " px, "
       << generatorKindName(config_.model.generator) << " generator (" << number(since(), 0) << " s)"
       << std::endl;

  // The model, resumed when an interrupted run left its state.
  auto created = PoseToImageModel::create(config_.model, config_.device);
  if (!created.ok()) return fail("pretrain: " + created.error());
  PoseToImageModel& model = *created.value();
  const auto resume = resumePath(config_.out);
  std::error_code ec;
  if (std::filesystem::exists(resume, ec)) {
    if (auto s = model.load(resume.string()); !s)
      return fail("pretrain: " + s.error() + " (delete it to start over)");
    log_ << "pretrain: resuming from " << resume.string() << std::endl;
  }
  if (config_.out.has_parent_path()) std::filesystem::create_directories(config_.out.parent_path(), ec);

  std::vector<TrainClip> views;
  for (const auto& c : clips) views.push_back(c.trainClip());
  TrainHooks hooks;
  hooks.checkpoint_path = resume.string();
  hooks.checkpoint_seconds = config_.checkpoint_seconds;
  hooks.progress_seconds = config_.progress_bar ? 1.0 : config_.progress_seconds;
  const auto train_start = std::chrono::steady_clock::now();
  std::int64_t first_iteration = -1;
  hooks.progress = [&](const TrainProgress& p) {
    if (first_iteration < 0) first_iteration = p.iterations;
    const double run_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
    const double rate = run_seconds > 0 ? (p.iterations - first_iteration) / run_seconds : 0;
    double eta = rate > 0 ? (config_.train.max_iterations - p.iterations) / rate : 0;
    // With --max-seconds the schedule ends by the clock, whichever comes first.
    if (p.budget_seconds > 0) eta = std::min(eta, std::max(0.0, p.budget_seconds - p.elapsed_seconds));
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(std::lround(p.fraction * kWidth));
    // The schedule counts both kinds of step (--iterations); they are shown
    // apart, with their own rates: a face-GAN step is far cheaper.
    std::ostringstream text;
    text << "pretrain [" << std::string(filled, '#') << std::string(kWidth - filled, '-') << "] "
         << number(p.fraction * 100, 0) << "%  step " << p.iterations << "/"
         << config_.train.max_iterations << "  phase " << p.phase << "  generator " << p.generator_steps
         << " (" << number(p.generator_steps_per_second, 2) << "/s) face-GAN " << p.face_steps
         << " (" << number(p.face_steps_per_second, 1) << "/s)  G " << number(p.loss_g, 3) << " D "
         << number(p.loss_d, 3) << " L1 " << number(p.loss_l1, 4) << "  ETA " << clock(eta);
    const std::string line = text.str();
    if (config_.progress_bar) {
      log_ << "\r" << line << std::flush;
    } else {
      log_ << line << std::endl;
    }
  };
  auto trained = model.train(views, nullptr, config_.train, hooks, stop);
  if (config_.progress_bar) log_ << std::endl;
  if (!trained.ok()) return fail("pretrain: " + trained.error());

  PretrainSummary summary;
  summary.iterations = trained->last.iterations;
  summary.generator_steps = trained->last.generator_steps;
  summary.face_steps = trained->last.face_steps;
  summary.seconds = since();
  summary.finished = trained->finished;
  if (!trained->finished) {
    if (auto s = model.save(resume.string()); !s) return fail("pretrain: " + s.error());
    summary.written = resume;
    log_ << "pretrain: stopped at schedule step " << summary.iterations << " ("
         << summary.generator_steps << " generator, " << summary.face_steps
         << " face-GAN); state saved to "
         << resume.string() << " (run the same command again to resume)" << std::endl;
    return summary;
  }
  if (auto s = model.save(config_.out.string()); !s) return fail("pretrain: " + s.error());
  std::filesystem::remove(resume, ec);
  summary.written = config_.out;
  log_ << "pretrain: base written to " << config_.out.string() << " after "
       << summary.generator_steps << " generator steps and " << summary.face_steps
       << " face-GAN steps in " << clock(summary.seconds) << std::endl;
  return summary;
}

}  // namespace booth
