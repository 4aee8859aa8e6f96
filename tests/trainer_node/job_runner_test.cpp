// JobRunner: the whole-job budget, cancel, and resume after a stop, on an
// injected clock (no real time is measured) with a tiny model.
#include "trainer_node/jobs/job_runner.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <thread>

#include <opencv2/imgcodecs.hpp>

#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "job_fixtures.h"
#include "model_test_support.h"

namespace booth {
namespace {

using test::TempDir;
using test::tinyModelConfig;

constexpr const char* kSession = "s1";
constexpr const char* kNode = "node";
constexpr const char* kCamera = "cam0";

// A session of the synthetic performer as the ingest would have stored it.
void storeSession(SessionStore& store, int frames) {
  const PerformerLook& look = *findPerformer("ada");
  const cv::Size size(160, 120);
  PerformerLook small = look;
  small.body.height_px = look.body.height_px * size.height / 480.f;
  Choreography dance(*findChoreography("warmup"), small.body, Stage{size}, 3);
  for (int i = 0; i < frames; ++i) {
    const Pose pose = dance.poseAt(i / 15.0);
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", renderPerformer(small, pose, size), jpeg);
    const std::string bytes(jpeg.begin(), jpeg.end());
    FrameToAppend frame;
    frame.sequence = static_cast<std::uint64_t>(i);
    frame.capture_time_us = i * 66667;
    frame.width = size.width;
    frame.height = size.height;
    frame.data = bytes;
    ASSERT_TRUE(store.writeFrame(kSession, kNode, kCamera, frame).ok());
    PoseRecord record;
    record.camera_id = kCamera;
    record.sequence = frame.sequence;
    record.origin = PoseOrigin::kGroundTruth;
    record.performer = pose;
    ASSERT_TRUE(store.writePose(kSession, kNode, record).ok());
  }
  ASSERT_TRUE(store.sync().ok());
  store.close(kSession);
}

// A clock that advances `step` seconds per reading and runs `at` once the
// time passes `when`: stops and cancels land at a chosen point of a job.
class ScriptedClock {
 public:
  explicit ScriptedClock(double step) : step_(step) {}
  double operator()() {
    now_ += step_;
    if (action_ && now_ - start_ >= when_) {
      auto action = std::move(action_);
      action_ = nullptr;
      action();
    }
    return now_;
  }
  void at(double seconds_from_now, std::function<void()> action) {
    start_ = now_;
    when_ = seconds_from_now;
    action_ = std::move(action);
  }

 private:
  double step_;
  double now_ = 1000;
  double start_ = 0;
  double when_ = 0;
  std::function<void()> action_;
};

class JobRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto jobs = JobStore::open(dir_.file("jobs.sqlite"));
    ASSERT_TRUE(jobs.ok()) << jobs.error();
    jobs_ = std::move(jobs).value();
    sessions_ = std::make_unique<SessionStore>(dir_.path() / "data", false);
    storeSession(*sessions_, 40);
    config_.model = tinyModelConfig();
    config_.train.batch_size = 2;
    config_.train.eval_seconds = 5;
    config_.train.adapt_threads = false;
    config_.render.seconds = 1;
    config_.render.fps = 10;
    config_.render.panel_size = 32;
    config_.held_out_fraction = 0.25;
    config_.checkpoint_seconds = 5;
    config_.clips_dir = dir_.path() / "clips";
    config_.public_url = "http://test";
    config_.now_seconds = [this] { return clock_(); };
  }

  JobRecord queue(double budget, const std::string& id = "job1") {
    JobRecord job;
    job.id = id;
    job.session_id = kSession;
    job.state = JobState::kQueued;
    job.train_budget_seconds = budget;
    job.cameras = {{kNode, kCamera, 40}};
    EXPECT_TRUE(test::insertInState(*jobs_, job).ok());
    return *jobs_->get(id);
  }

  std::size_t filesIn(const std::filesystem::path& dir) {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); ++it)
      ++n;
    return n;
  }

  TempDir dir_;
  std::unique_ptr<JobStore> jobs_;
  std::unique_ptr<SessionStore> sessions_;
  JobRunnerConfig config_;
  ScriptedClock clock_{0.1};
};

TEST_F(JobRunnerTest, RunsAJobToAClipWithinItsBudget) {
  JobRunner runner(config_, *jobs_, *sessions_);
  queue(30);
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  // Training got what was left of the 30 s after loading and the render
  // estimate, and used it all.
  EXPECT_GT(job->train_budget_planned, 5);
  EXPECT_LT(job->train_budget_planned, 30);
  EXPECT_GE(job->train_seconds, job->train_budget_planned);
  EXPECT_GT(job->generator_steps, 0);
  EXPECT_TRUE(std::filesystem::exists(job->clip_path));
  EXPECT_EQ(filesIn(config_.clips_dir), 1u);  // the clip, no partial file
  EXPECT_EQ(job->clip_frames, 10);
  EXPECT_EQ(job->attempts, 1);
  EXPECT_EQ(job->detail, "clip ready");
  // The trained model is kept for a re-render; the training state is not.
  EXPECT_TRUE(std::filesystem::exists(job->model_path));
  EXPECT_FALSE(std::filesystem::exists(sessions_->sessionDir(kSession) / "train_state.pt"));
  EXPECT_EQ(job->model_path.rfind(sessions_->sessionDir(kSession).string(), 0), 0u);
}

TEST_F(JobRunnerTest, ReportsGeneratorAndFaceStepsApart) {
  JobRunner runner(config_, *jobs_, *sessions_);
  queue(30);
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_GT(job->generator_steps, 0);
  EXPECT_GT(job->face_steps, 0);
  EXPECT_GT(job->generator_steps_per_second, 0);
  EXPECT_GT(job->face_steps_per_second, 0);
}

TEST_F(JobRunnerTest, ABudgetTooSmallForTrainingFailsSayingWhy) {
  JobRunner runner(config_, *jobs_, *sessions_);
  queue(1);
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_NE(job->detail.find("budget of 1 s"), std::string::npos) << job->detail;
  EXPECT_NE(job->detail.find("give at least"), std::string::npos) << job->detail;
}

TEST_F(JobRunnerTest, CancelWhileTrainingCancelsTheJobAndLeavesNoClip) {
  JobRunner runner(config_, *jobs_, *sessions_);
  queue(300);
  clock_.at(20, [&] { ASSERT_TRUE(jobs_->requestCancel("job1").ok()); });
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(job->detail, "cancelled by the operator");
  EXPECT_GT(job->generator_steps, 0);
  EXPECT_TRUE(job->clip_token.empty());
  EXPECT_EQ(filesIn(config_.clips_dir), 0u);
  EXPECT_FALSE(std::filesystem::exists(sessions_->sessionDir(kSession) / "train_state.pt"));
}

TEST_F(JobRunnerTest, CancelWhileRenderingLeavesNoPartialClip) {
  config_.render.seconds = 10;  // 100 frames: the cancel lands among them
  JobRunner runner(config_, *jobs_, *sessions_);
  queue(40);
  // Training ends at about 38 s of the clock; the render (100 frames) follows.
  clock_.at(45, [&] { ASSERT_TRUE(jobs_->requestCancel("job1").ok()); });
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(job->detail, "cancelled by the operator");
  EXPECT_FALSE(job->model_path.empty());  // training had ended: the cancel came while rendering
  EXPECT_EQ(filesIn(config_.clips_dir), 0u);
}

TEST_F(JobRunnerTest, AJobCancelledWhileQueuedNeverTrains) {
  JobRunner runner(config_, *jobs_, *sessions_);
  queue(30);
  ASSERT_TRUE(jobs_->requestCancel("job1").ok());
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(job->detail, "cancelled by the operator");
  EXPECT_EQ(job->generator_steps, 0);
}

TEST_F(JobRunnerTest, AJobStoppedWhileTrainingResumesWithTheBudgetLeft) {
  queue(60);
  std::int64_t generator_steps_at_stop = 0;
  double spent_at_stop = 0;
  double planned = 0;
  {
    JobRunner runner(config_, *jobs_, *sessions_);
    std::stop_source stop;
    clock_.at(25, [&] { stop.request_stop(); });
    ASSERT_TRUE(runner.runNext(stop.get_token()));
    auto job = jobs_->get("job1");
    ASSERT_TRUE(job);
    // Released back to the queue, the attempt given back.
    ASSERT_EQ(job->state, JobState::kQueued) << job->detail;
    EXPECT_EQ(job->resume_phase, "training");
    EXPECT_EQ(job->attempts, 0);
    ASSERT_TRUE(std::filesystem::exists(job->checkpoint_path));
    generator_steps_at_stop = job->generator_steps;
    spent_at_stop = job->budget_spent_seconds;
    planned = job->train_budget_planned;
    ASSERT_GT(generator_steps_at_stop, 0);
    ASSERT_GT(spent_at_stop, 20);
  }
  // The next start.
  JobRunner runner(config_, *jobs_, *sessions_);
  EXPECT_EQ(runner.recoverInterrupted(), 0);  // nothing was lost: it was released
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_GT(job->generator_steps, generator_steps_at_stop);  // continued, counting on
  EXPECT_DOUBLE_EQ(job->train_budget_planned, planned);  // the same schedule
  EXPECT_GT(job->budget_spent_seconds, spent_at_stop);   // charged on top
  EXPECT_TRUE(job->resume_phase.empty());
}

// Stops the job while it renders, then starts a new runner on it: the
// clip is rendered again from the kept model, without training again.
void expectRenderedAgainAfterAStop(JobRunnerConfig& config, JobStore& jobs, SessionStore& sessions,
                                   ScriptedClock& clock,
                                   const std::function<JobRecord(double)>& queue_job) {
  config.render.seconds = 10;
  queue_job(40);
  {
    JobRunner runner(config, jobs, sessions);
    std::stop_source stop;
    clock.at(45, [&] { stop.request_stop(); });
    ASSERT_TRUE(runner.runNext(stop.get_token()));
  }
  auto stopped = jobs.get("job1");
  ASSERT_TRUE(stopped);
  ASSERT_EQ(stopped->state, JobState::kQueued) << stopped->detail;
  EXPECT_EQ(stopped->resume_phase, "rendering");
  ASSERT_TRUE(std::filesystem::exists(stopped->model_path));
  EXPECT_TRUE(!std::filesystem::exists(config.clips_dir) || std::filesystem::is_empty(config.clips_dir));
  // A partial file a crash might leave behind goes at the next start.
  std::ofstream(config.clips_dir / "abc.mp4.partial") << "half a clip";

  JobRunner runner(config, jobs, sessions);
  EXPECT_EQ(runner.recoverInterrupted(), 0);
  EXPECT_TRUE(!std::filesystem::exists(config.clips_dir) || std::filesystem::is_empty(config.clips_dir));
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs.get("job1");
  ASSERT_TRUE(job);
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_EQ(job->generator_steps, stopped->generator_steps);  // not trained again
  EXPECT_EQ(job->clip_frames, 100);
}

TEST_F(JobRunnerTest, AJobStoppedWhileRenderingIsRenderedAgain) {
  expectRenderedAgainAfterAStop(config_, *jobs_, *sessions_, clock_,
                                [this](double budget) { return queue(budget); });
  EXPECT_EQ(filesIn(config_.clips_dir), 1u);
}

// The warp generator renders from the visitor's frames: a job gives them to
// the model, and a re-render after a restart decodes them again.
TEST_F(JobRunnerTest, AWarpGeneratorJobRendersAndIsRenderedAgainAfterAStop) {
  config_.model = test::tinyWarpModelConfig();
  expectRenderedAgainAfterAStop(config_, *jobs_, *sessions_, clock_,
                                [this](double budget) { return queue(budget); });
  EXPECT_EQ(filesIn(config_.clips_dir), 1u);
}

TEST_F(JobRunnerTest, AStageThatThrowsFailsItsJobAndTheRunnerGoesOn) {
  int calls = 0;
  config_.stage_hook = [&](const std::string& stage) -> Status {
    if (stage == "load" && calls++ == 0) throw std::runtime_error("the decoder exploded");
    return okStatus();
  };
  queue(30, "job1");
  queue(1, "job2");  // fails on its own, quickly: its budget is too small
  JobRunner runner(config_, *jobs_, *sessions_);
  runner.start();
  for (int i = 0; i < 6000 && !isFinished(jobs_->get("job2")->state); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  runner.stop();
  auto first = jobs_->get("job1");
  EXPECT_EQ(first->state, JobState::kFailed);
  EXPECT_EQ(first->detail, "unexpected error: the decoder exploded");
  auto second = jobs_->get("job2");
  EXPECT_EQ(second->state, JobState::kFailed) << "the runner went on with the next job";
  EXPECT_NE(second->detail.find("budget of 1 s"), std::string::npos) << second->detail;
}

TEST_F(JobRunnerTest, OutOfMemoryInAStageFailsTheJobSayingSo) {
  config_.stage_hook = [&](const std::string& stage) -> Status {
    if (stage == "train") throw std::bad_alloc();
    return okStatus();
  };
  queue(30);
  JobRunner runner(config_, *jobs_, *sessions_);
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_EQ(job->detail, "out of memory (std::bad_alloc)");
}

TEST_F(JobRunnerTest, AFullDiskFailsTheJobAndTheFailureIsWrittenOnceThereIsSpace) {
  // The training state cannot be saved and the job database cannot be
  // written either: the failure is kept in memory, shown, and written
  // when space is back.
  config_.stage_hook = [&](const std::string& stage) -> Status {
    if (stage != "train") return okStatus();
    jobs_->simulateFullDiskForTest(true);
    return fail("cannot save checkpoint 'train_state.pt': unexpected pos 4096 vs 2048");
  };
  queue(30);
  JobRunner runner(config_, *jobs_, *sessions_);
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_EQ(job->detail.rfind("disk full: ", 0), 0u) << job->detail;
  EXPECT_EQ(jobs_->pendingWrites(), 1);
  jobs_->simulateFullDiskForTest(false);
  EXPECT_EQ(jobs_->retryPending(), 0);
  jobs_.reset();
  auto reopened = JobStore::open(dir_.file("jobs.sqlite"));
  ASSERT_TRUE(reopened.ok()) << reopened.error();
  EXPECT_EQ(reopened.value()->get("job1")->state, JobState::kFailed);
}

TEST_F(JobRunnerTest, AJobThatCrashedItsWorkerMaxAttemptsTimesFailsAtRecovery) {
  queue(30);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto claimed = jobs_->claimNext();  // a worker takes it ...
    ASSERT_TRUE(claimed.ok() && claimed.value()) << attempt;
    // ... and dies with it; the next start recovers it.
    JobRunner runner(config_, *jobs_, *sessions_);
    EXPECT_EQ(runner.recoverInterrupted(), attempt < 3 ? 1 : 0) << attempt;
  }
  auto job = jobs_->get("job1");
  EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_NE(job->detail.find("3 times"), std::string::npos) << job->detail;
  EXPECT_EQ(job->attempts, 3);
}

TEST(JobRunnerPreflight, NamesTheBadBaseCheckpoint) {
  TempDir dir;
  std::ofstream(dir.file("base.pt")) << "not a checkpoint";
  JobRunnerConfig config;
  config.model = tinyModelConfig();
  config.base_checkpoint = dir.file("base.pt");
  auto st = preflight(config);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("--base-checkpoint"), std::string::npos) << st.error();
  EXPECT_NE(st.error().find(dir.file("base.pt")), std::string::npos) << st.error();
}

TEST(JobRunnerPreflight, NamesAnUnavailableDevice) {
  JobRunnerConfig config;
  config.model = tinyModelConfig();
  config.device = "cuda:7";
  auto st = preflight(config);
  if (st.ok()) GTEST_SKIP() << "eight CUDA devices here";
  EXPECT_NE(st.error().find("cuda:7"), std::string::npos) << st.error();
}

}  // namespace
}  // namespace booth
