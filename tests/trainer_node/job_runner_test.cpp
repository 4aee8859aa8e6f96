// JobRunner: the whole-job budget, cancel, resume after a stop, and a lost
// claim, on an injected clock (no real time is measured) with a tiny model,
// over the embedded job queue and a local blob store in the data folder.
#include "trainer_node/jobs/job_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <thread>

#include <opencv2/imgcodecs.hpp>

#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "job_fixtures.h"
#include "model_test_support.h"
#include "process_threads.h"
#include "session_fixtures.h"
#include "trainer_node/store/blob_session_frames.h"
#include "trainer_node/store/blob_session_sink.h"
#include "trainer_node/store/clip_names.h"
#include "trainer_node/store/session_segment.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/store_errors.h"
#include "trainer_node/train/cpu_runtime.h"

namespace booth {
namespace {

using test::processThreads;
using test::processThreadsSettledTo;
using test::TempDir;
using test::tinyModelConfig;

constexpr const char* kSession = "s1";
constexpr const char* kNode = "node";
constexpr const char* kCamera = "cam0";

// A session of the synthetic performer as the ingest would have stored it.
void storeSession(SessionStore& store, int frames) {
  test::storeSyntheticSession(store, kSession, frames, kNode, kCamera);
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
    queue_ = std::make_unique<EmbeddedJobQueue>(*jobs_);
    blobs_ = std::make_unique<LocalBlobStore>(dir_.path() / "data", false);
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
    config_.work_dir = dir_.path() / "data" / "work";
    config_.worker_id = "worker-a";
    config_.public_url = "http://test";
    config_.now_seconds = [this] { return clock_(); };
  }

  JobRecord queue(double budget, const std::string& id = "job1",
                  const std::string& session = kSession) {
    JobRecord job;
    job.id = id;
    job.session_id = session;
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

  // A runner of this test's queue, blobs and sessions.
  std::unique_ptr<JobRunner> runner(JobRunnerConfig config) {
    return std::make_unique<JobRunner>(std::move(config), *queue_, *blobs_, *sessions_);
  }
  std::unique_ptr<JobRunner> runner() { return runner(config_); }
  // Session s2 stored as the ingest's segment blobs (then `damage` done to
  // them), its job run by a worker that reads frames from the blobs only.
  std::optional<JobRecord> runFromSegmentBlobs(const std::function<void()>& damage = {}) {
    BlobSessionSink sink(*blobs_);
    test::storeSyntheticSession(sink, "s2", 40, kNode, kCamera);
    if (damage) damage();
    BlobSessionFrames frames(*blobs_);
    JobRunner runner(config_, *queue_, *blobs_, frames);
    queue(30, "job2", "s2");
    EXPECT_TRUE(runner.runNext({}));
    return jobs_->get("job2");
  }
  void expectRenderedAgainAfterAStop();
  JobRecord lostAfterItsModelWasKept();
  bool blobExists(const std::string& key) {
    auto size = blobs_->size(key);
    return size.ok() && size.value().has_value();
  }

  TempDir dir_;
  std::unique_ptr<JobStore> jobs_;
  std::unique_ptr<EmbeddedJobQueue> queue_;
  std::unique_ptr<LocalBlobStore> blobs_;
  std::unique_ptr<SessionStore> sessions_;
  const std::filesystem::path clips_dir_ = dir_.path() / "data" / "clips";
  JobRunnerConfig config_;
  ScriptedClock clock_{0.1};
};

TEST_F(JobRunnerTest, RunsAJobToAClipWithinItsBudget) {
  auto runner = this->runner();
  queue(30);
  ASSERT_TRUE(runner->runNext({}));
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
  EXPECT_EQ(filesIn(clips_dir_), 1u);  // the clip, no partial file
  EXPECT_EQ(job->clip_frames, 10);
  EXPECT_EQ(job->attempts, 1);
  EXPECT_EQ(job->detail, "clip ready");
  // The trained model is kept for a re-render; the training state is not.
  EXPECT_EQ(job->model_path, modelBlobKey(kSession));
  EXPECT_TRUE(std::filesystem::exists(sessions_->sessionDir(kSession) / "generator.pt"));
  EXPECT_FALSE(std::filesystem::exists(sessions_->sessionDir(kSession) / "train_state.pt"));
  EXPECT_TRUE(job->checkpoint_path.empty());
  // The clip is where the HTTP side serves it from: DATA/clips/<token>.mp4.
  EXPECT_EQ(job->clip_path, clipFile(clips_dir_, job->clip_token).string());
  // Nothing is left in the worker's scratch folder.
  EXPECT_EQ(filesIn(config_.work_dir), 0u);
}

// With a shared database the frames are the ingest's segment blobs: the
// worker materializes them into its scratch folder and trains as from the
// data folder's session files (which it does not have).
TEST_F(JobRunnerTest, TrainsFromTheSessionsSegmentBlobs) {
  const auto job = runFromSegmentBlobs();
  ASSERT_TRUE(job);
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_GT(job->generator_steps, 0);
  EXPECT_FALSE(std::filesystem::exists(sessions_->sessionDir("s2") / kNode / kCamera / "frames.idx"));
  EXPECT_EQ(filesIn(config_.work_dir), 0u);  // the materialized frames went with the job
}

// A frame source whose store is unreachable for its first `outages` calls.
class UnreachableAtFirst final : public SessionFrameSource {
 public:
  UnreachableAtFirst(SessionFrameSource& inner, int outages) : inner_(inner), outages_(outages) {}
  Result<std::vector<StoredFrame>> loadCamera(const JobRecord& job, const CameraFrames& camera,
                                              const std::filesystem::path& scratch) override {
    ++calls;
    if (outages_-- > 0) return fail("PostgreSQL unavailable while listing blobs: (test)");
    return inner_.loadCamera(job, camera, scratch);
  }
  int calls = 0;

 private:
  SessionFrameSource& inner_;
  int outages_;
};

TEST_F(JobRunnerTest, FramesWaitForAnUnreachableStoreInsteadOfFailingTheJob) {
  UnreachableAtFirst source(*sessions_, 2);
  JobRunner runner(config_, *queue_, *blobs_, source);
  queue(30);
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_EQ(source.calls, 3);
}

TEST_F(JobRunnerTest, ADamagedSegmentFailsTheJobNamingIt) {
  const std::string key = segmentBlobKey("s2", kNode, kCamera, 0);
  const auto job = runFromSegmentBlobs([&] {
    auto bytes = blobs_->read(key);
    ASSERT_TRUE(bytes.ok()) << bytes.error();
    ASSERT_TRUE(blobs_->put(key, bytes->substr(0, bytes->size() / 2)).ok());
  });
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_NE(job->detail.find(key), std::string::npos) << job->detail;
  EXPECT_NE(job->detail.find("truncated"), std::string::npos) << job->detail;
}

TEST_F(JobRunnerTest, ReportsGeneratorAndFaceStepsApart) {
  auto runner = this->runner();
  queue(30);
  ASSERT_TRUE(runner->runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_GT(job->generator_steps, 0);
  EXPECT_GT(job->face_steps, 0);
  EXPECT_GT(job->generator_steps_per_second, 0);
  EXPECT_GT(job->face_steps_per_second, 0);
}

TEST_F(JobRunnerTest, ABudgetTooSmallForTrainingFailsSayingWhy) {
  auto runner = this->runner();
  queue(1);
  ASSERT_TRUE(runner->runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_NE(job->detail.find("budget of 1 s"), std::string::npos) << job->detail;
  EXPECT_NE(job->detail.find("give at least"), std::string::npos) << job->detail;
}

TEST_F(JobRunnerTest, CancelWhileTrainingCancelsTheJobAndLeavesNoClip) {
  auto runner = this->runner();
  queue(300);
  clock_.at(20, [&] { ASSERT_TRUE(jobs_->requestCancel("job1").ok()); });
  ASSERT_TRUE(runner->runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(job->detail, "cancelled by the operator");
  EXPECT_GT(job->generator_steps, 0);
  EXPECT_TRUE(job->clip_token.empty());
  EXPECT_EQ(filesIn(clips_dir_), 0u);
  EXPECT_FALSE(std::filesystem::exists(sessions_->sessionDir(kSession) / "train_state.pt"));
}

TEST_F(JobRunnerTest, CancelWhileRenderingLeavesNoPartialClip) {
  config_.render.seconds = 10;  // 100 frames: the cancel lands among them
  auto runner = this->runner();
  queue(40);
  // Training ends at about 38 s of the clock; the render (100 frames) follows.
  clock_.at(45, [&] { ASSERT_TRUE(jobs_->requestCancel("job1").ok()); });
  ASSERT_TRUE(runner->runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(job->detail, "cancelled by the operator");
  EXPECT_FALSE(job->model_path.empty());  // training had ended: the cancel came while rendering
  EXPECT_EQ(filesIn(clips_dir_), 0u);
}

TEST_F(JobRunnerTest, AJobCancelledWhileQueuedNeverTrains) {
  auto runner = this->runner();
  queue(30);
  ASSERT_TRUE(jobs_->requestCancel("job1").ok());
  ASSERT_TRUE(runner->runNext({}));
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
    auto runner = this->runner();
    std::stop_source stop;
    clock_.at(25, [&] { stop.request_stop(); });
    ASSERT_TRUE(runner->runNext(stop.get_token()));
    auto job = jobs_->get("job1");
    ASSERT_TRUE(job);
    // Released back to the queue, the attempt given back.
    ASSERT_EQ(job->state, JobState::kQueued) << job->detail;
    EXPECT_EQ(job->resume_phase, "training");
    EXPECT_EQ(job->attempts, 0);
    EXPECT_EQ(job->checkpoint_path, checkpointBlobKey(kSession));
    ASSERT_TRUE(blobExists(job->checkpoint_path));
    generator_steps_at_stop = job->generator_steps;
    spent_at_stop = job->budget_spent_seconds;
    planned = job->train_budget_planned;
    ASSERT_GT(generator_steps_at_stop, 0);
    ASSERT_GT(spent_at_stop, 20);
  }
  // The next start.
  auto runner = this->runner();
  EXPECT_EQ(runner->recoverInterrupted(), 0);  // nothing was lost: it was released
  ASSERT_TRUE(runner->runNext({}));
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
void JobRunnerTest::expectRenderedAgainAfterAStop() {
  config_.render.seconds = 10;
  queue(40);
  {
    auto runner = this->runner();
    std::stop_source stop;
    clock_.at(45, [&] { stop.request_stop(); });
    ASSERT_TRUE(runner->runNext(stop.get_token()));
  }
  auto stopped = jobs_->get("job1");
  ASSERT_TRUE(stopped);
  ASSERT_EQ(stopped->state, JobState::kQueued) << stopped->detail;
  EXPECT_EQ(stopped->resume_phase, "rendering");
  ASSERT_TRUE(blobExists(stopped->model_path));
  EXPECT_EQ(filesIn(clips_dir_), 0u);

  auto runner = this->runner();
  EXPECT_EQ(runner->recoverInterrupted(), 0);
  EXPECT_EQ(filesIn(clips_dir_), 0u);
  ASSERT_TRUE(runner->runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_EQ(job->generator_steps, stopped->generator_steps);  // not trained again
  EXPECT_EQ(filesIn(clips_dir_), 1u);
  EXPECT_EQ(job->clip_frames, 100);
}

TEST_F(JobRunnerTest, AJobStoppedWhileRenderingIsRenderedAgain) { expectRenderedAgainAfterAStop(); }

// The warp generator renders from the visitor's frames: a job gives them to
// the model, and a re-render after a restart decodes them again.
TEST_F(JobRunnerTest, AWarpGeneratorJobRendersAndIsRenderedAgainAfterAStop) {
  config_.model = test::tinyWarpModelConfig();
  expectRenderedAgainAfterAStop();
}

TEST_F(JobRunnerTest, AStageThatThrowsFailsItsJobAndTheRunnerGoesOn) {
  int calls = 0;
  config_.stage_hook = [&](const std::string& stage) -> Status {
    if (stage == "load" && calls++ == 0) throw std::runtime_error("the decoder exploded");
    return okStatus();
  };
  queue(30, "job1");
  queue(1, "job2");  // fails on its own, quickly: its budget is too small
  auto runner = this->runner();
  runner->start();
  for (int i = 0; i < 6000 && !isFinished(jobs_->get("job2")->state); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  runner->stop();
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
  auto runner = this->runner();
  ASSERT_TRUE(runner->runNext({}));
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
  auto runner = this->runner();
  ASSERT_TRUE(runner->runNext({}));
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
    {
      // A worker process takes it and dies with it (its lease dies too) ...
      EmbeddedJobQueue dying(*jobs_);
      auto claimed = dying.claim("dying-worker", std::chrono::seconds(30));
      ASSERT_TRUE(claimed.ok() && claimed.value()) << attempt;
    }
    // ... and the next start recovers it.
    EmbeddedJobQueue restarted(*jobs_);
    JobRunner runner(config_, restarted, *blobs_, *sessions_);
    EXPECT_EQ(runner.recoverInterrupted(), 1) << attempt;
    EXPECT_EQ(jobs_->get("job1")->state, attempt < 3 ? JobState::kQueued : JobState::kFailed)
        << attempt;
  }
  auto job = jobs_->get("job1");
  EXPECT_EQ(job->state, JobState::kFailed);
  EXPECT_NE(job->detail.find("3 times"), std::string::npos) << job->detail;
  EXPECT_EQ(job->attempts, 3);
}

TEST_F(JobRunnerTest, CancelThroughTheQueueStopsTheRunningJob) {
  auto runner = this->runner();
  queue(300);
  clock_.at(20, [&] { ASSERT_TRUE(queue_->cancel("job1", "cancelled by the operator").ok()); });
  ASSERT_TRUE(runner->runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(filesIn(clips_dir_), 0u);
  EXPECT_EQ(runner->lostJobs(), 0) << "a cancel is not a lost claim";
  EXPECT_FALSE(std::filesystem::exists(sessions_->sessionDir(kSession) / "train_state.pt"));
}

TEST_F(JobRunnerTest, AWorkerWhoseJobWasClaimedAgainStopsAndPublishesNothing) {
  auto runner = this->runner();
  queue(60);
  // Another process takes the job over while this worker trains (as if its
  // lease had run out): recovered by that process's sweep, then claimed.
  EmbeddedJobQueue other(*jobs_);
  std::optional<JobQueue::Claimed> taken;
  clock_.at(20, [&] {
    ASSERT_EQ(other.recoverExpired().value(), 1);
    auto c = other.claim("worker-b", std::chrono::seconds(30));
    ASSERT_TRUE(c.ok() && c.value());
    taken = *c.value();
  });
  ASSERT_TRUE(runner->runNext({}));
  ASSERT_TRUE(taken);
  EXPECT_EQ(runner->lostJobs(), 1);
  auto job = jobs_->get("job1");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kClaimed) << "still the new owner's: " << job->detail;
  EXPECT_EQ(job->fence, taken->claim.fence);
  EXPECT_EQ(job->attempts, 2);
  EXPECT_TRUE(job->clip_token.empty());
  EXPECT_EQ(filesIn(clips_dir_), 0u);
  EXPECT_TRUE(blobExists(checkpointBlobKey(kSession))) << "left for the new owner to resume";
}

TEST_F(JobRunnerTest, AJobLostByItsWorkerResumesOnAnotherFromItsCheckpoint) {
  queue(60);
  std::int64_t steps_when_lost = 0;
  double planned = 0;
  {
    auto first = this->runner();
    // The first worker's lease is taken back while it trains (its process
    // hung or died); its job goes back to the queue.
    EmbeddedJobQueue sweeper(*jobs_);
    clock_.at(30, [&] {
      ASSERT_EQ(sweeper.recoverExpired().value(), 1);
      auto lost = jobs_->get("job1");
      steps_when_lost = lost->generator_steps;
      planned = lost->train_budget_planned;
    });
    ASSERT_TRUE(first->runNext({}));
    EXPECT_EQ(first->lostJobs(), 1);
  }
  auto queued = jobs_->get("job1");
  ASSERT_EQ(queued->state, JobState::kQueued) << queued->detail;
  EXPECT_EQ(queued->resume_phase, "training");
  ASSERT_TRUE(blobExists(queued->checkpoint_path));
  ASSERT_GT(steps_when_lost, 0);
  EXPECT_EQ(filesIn(clips_dir_), 0u);

  JobRunnerConfig second = config_;
  second.worker_id = "worker-b";
  ASSERT_TRUE(runner(second)->runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_NE(job->detail.find("clip ready"), std::string::npos) << job->detail;
  EXPECT_GT(job->generator_steps, steps_when_lost);      // continued, counting on
  EXPECT_DOUBLE_EQ(job->train_budget_planned, planned);  // the same schedule
  EXPECT_EQ(job->attempts, 2);
  EXPECT_EQ(filesIn(clips_dir_), 1u) << "exactly one clip";
}

// A blob store that cannot be reached for the first `failures` writes (or,
// with kReads, reads) of keys under `prefix` (as a database restart
// answers), then is the folder. `on_failure` runs at each failure.
class UnreachableForAWhile : public BlobStore {
 public:
  enum Calls { kWrites, kReads };
  UnreachableForAWhile(BlobStore& inner, std::string prefix, int failures, Calls calls = kWrites,
                       std::function<void()> on_failure = {})
      : inner_(inner),
        prefix_(std::move(prefix)),
        failures_(failures),
        calls_(calls),
        on_failure_(std::move(on_failure)) {}
  Result<std::unique_ptr<BlobWriter>> openWriter(const std::string& key) override {
    if (calls_ == kWrites && failsNow(key)) {
      return fail(std::string(kStoreUnreachable) + "storing blob '" + key +
                  "': connection refused");
    }
    return inner_.openWriter(key);
  }
  Result<std::unique_ptr<BlobReader>> openReader(const std::string& key, ByteRange range) override {
    if (calls_ == kReads && failsNow(key)) {
      return fail(std::string(kStoreUnreachable) + "reading blob '" + key +
                  "': connection refused");
    }
    return inner_.openReader(key, range);
  }
  Result<std::optional<std::uint64_t>> size(const std::string& key) override {
    return inner_.size(key);
  }
  Result<bool> remove(const std::string& key) override { return inner_.remove(key); }
  Result<std::vector<BlobInfo>> list(const std::string& prefix) override {
    return inner_.list(prefix);
  }
  Result<std::size_t> removeAbandonedWrites(std::chrono::seconds idle) override {
    return inner_.removeAbandonedWrites(idle);
  }
  int failuresLeft() const { return failures_; }

 private:
  bool failsNow(const std::string& key) {
    if (key.rfind(prefix_, 0) != 0 || failures_ <= 0) return false;
    --failures_;
    if (on_failure_) on_failure_();
    return true;
  }
  BlobStore& inner_;
  std::string prefix_;
  int failures_;
  Calls calls_;
  std::function<void()> on_failure_;
};

TEST_F(JobRunnerTest, AClipTheStoreCannotTakeForAMomentIsPublishedOnceItIsBack) {
  UnreachableForAWhile flaky(*blobs_, "clips/", 2);
  queue(30);
  JobRunner runner(config_, *queue_, flaky, *sessions_);
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_EQ(flaky.failuresLeft(), 0);
  EXPECT_TRUE(blobExists(clipBlobKey(job->clip_token)));
  EXPECT_EQ(filesIn(clips_dir_), 1u) << "exactly one clip";
}

TEST_F(JobRunnerTest, AJobWhoseStoreStaysUnreachableGoesBackToTheQueueNotToFailed) {
  config_.stage_hook = [&](const std::string& stage) -> Status {
    if (stage == "render")
      return fail(std::string(kStoreUnreachable) + "advancing job 'job1': connection refused");
    return okStatus();
  };
  queue(30);
  auto runner = this->runner();
  ASSERT_TRUE(runner->runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_EQ(job->state, JobState::kQueued) << job->detail;
  EXPECT_NE(job->detail.find("database was unavailable"), std::string::npos) << job->detail;
  EXPECT_EQ(job->attempts, 1) << "the attempt stays counted (max_attempts bounds the releases)";
  EXPECT_EQ(filesIn(clips_dir_), 0u);
}

TEST_F(JobRunnerTest, AStageThatBreaksTheStoreEveryTimeFailsItsJobAtMaxAttempts) {
  config_.stage_hook = [&](const std::string& stage) -> Status {
    if (stage == "load")
      return fail(std::string(kStoreUnreachable) + "loading frames: server closed the connection");
    return okStatus();
  };
  queue(30);
  auto runner = this->runner();
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_TRUE(runner->runNext({})) << attempt;
    EXPECT_EQ(jobs_->get("job1")->state, attempt < 3 ? JobState::kQueued : JobState::kFailed)
        << attempt << ": " << jobs_->get("job1")->detail;
  }
  EXPECT_FALSE(runner->runNext({})) << "not queued again";
  auto job = jobs_->get("job1");
  EXPECT_EQ(job->attempts, 3);
  EXPECT_NE(job->detail.find("could not be reached in 3 attempts"), std::string::npos)
      << job->detail;
}

TEST_F(JobRunnerTest, AJobWhoseLostAttemptLeftNoCheckpointStartsOverWithItsWholeBudget) {
  queue(30);
  {
    // A worker took it, used most of its budget and died before its first
    // checkpoint (its lease died with it).
    EmbeddedJobQueue dying(*jobs_);
    auto claimed = dying.claim("dying-worker", std::chrono::seconds(30));
    ASSERT_TRUE(claimed.ok() && claimed.value());
    ASSERT_TRUE(dying.advance(claimed.value()->claim, JobEvent::kStartTraining, "training").ok());
    JobProgress used;
    used.budget_spent_seconds = 28;
    ASSERT_TRUE(dying.progress(claimed.value()->claim, used).ok());
  }
  auto runner = this->runner();
  ASSERT_EQ(runner->recoverInterrupted(), 1);
  auto queued = jobs_->get("job1");
  ASSERT_EQ(queued->state, JobState::kQueued) << queued->detail;
  ASSERT_TRUE(queued->checkpoint_path.empty());
  ASSERT_DOUBLE_EQ(queued->budget_spent_seconds, 28);
  ASSERT_TRUE(runner->runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_GT(job->generator_steps, 0);
}

TEST_F(JobRunnerTest, AJobLostAfterItsModelWasKeptIsRenderedFromItWithoutTrainingAgain) {
  queue(40);
  // The job is taken back (its lease ran out) just after its worker kept
  // the trained model, before it entered rendering.
  EmbeddedJobQueue sweeper(*jobs_);
  config_.stage_hook = [&](const std::string& stage) -> Status {
    if (stage == "render") {
      EXPECT_EQ(sweeper.recoverExpired().value(), 1);
    }
    return okStatus();
  };
  {
    auto first = this->runner();
    ASSERT_TRUE(first->runNext({}));
    EXPECT_EQ(first->lostJobs(), 1);
  }
  auto lost = jobs_->get("job1");
  ASSERT_EQ(lost->state, JobState::kQueued) << lost->detail;
  EXPECT_EQ(lost->resume_phase, "training");
  ASSERT_TRUE(lost->checkpoint_path.empty());
  ASSERT_TRUE(blobExists(lost->model_path));

  std::vector<std::string> stages;
  JobRunnerConfig second = config_;
  second.worker_id = "worker-b";
  second.stage_hook = [&](const std::string& stage) -> Status {
    stages.push_back(stage);
    return okStatus();
  };
  ASSERT_TRUE(runner(second)->runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_EQ(std::count(stages.begin(), stages.end(), "train"), 0) << "rendered from the kept model";
  EXPECT_EQ(job->generator_steps, lost->generator_steps);
  EXPECT_EQ(filesIn(clips_dir_), 1u);
}

// A job whose model was kept, lost before it rendered (its checkpoint
// dropped): the state a next worker resumes from.
JobRecord JobRunnerTest::lostAfterItsModelWasKept() {
  queue(40);
  EmbeddedJobQueue sweeper(*jobs_);
  JobRunnerConfig first = config_;
  first.stage_hook = [&](const std::string& stage) -> Status {
    if (stage == "render") {
      EXPECT_EQ(sweeper.recoverExpired().value(), 1);
    }
    return okStatus();
  };
  EXPECT_TRUE(runner(first)->runNext({}));
  auto lost = jobs_->get("job1");
  EXPECT_EQ(lost->state, JobState::kQueued) << lost->detail;
  EXPECT_TRUE(lost->checkpoint_path.empty());
  EXPECT_TRUE(blobExists(lost->model_path));
  return *lost;
}

TEST_F(JobRunnerTest, AKeptModelTheStoreCannotGiveForAMomentIsWaitedForNotTrainedAgain) {
  const JobRecord lost = lostAfterItsModelWasKept();
  UnreachableForAWhile flaky(*blobs_, lost.model_path, 2, UnreachableForAWhile::kReads);
  std::vector<std::string> stages;
  JobRunnerConfig second = config_;
  second.worker_id = "worker-b";
  second.stage_hook = [&](const std::string& stage) -> Status {
    stages.push_back(stage);
    return okStatus();
  };
  JobRunner runner(second, *queue_, flaky, *sessions_);
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_EQ(flaky.failuresLeft(), 0);
  EXPECT_EQ(std::count(stages.begin(), stages.end(), "train"), 0) << "rendered from the kept model";
  EXPECT_EQ(job->generator_steps, lost.generator_steps);
}

TEST_F(JobRunnerTest, AKeptModelTheStoreStaysAwayForReleasesTheJobKeepingItsModelAndBudget) {
  const JobRecord lost = lostAfterItsModelWasKept();
  // The store stays away until the worker is stopped (here: at its third
  // failed fetch; in service: when the lease runs out, or at a stop).
  std::stop_source stop;
  UnreachableForAWhile away(*blobs_, lost.model_path, 1000, UnreachableForAWhile::kReads,
                            [&, n = 0]() mutable {
                              if (++n == 3) stop.request_stop();
                            });
  JobRunnerConfig second = config_;
  second.worker_id = "worker-b";
  JobRunner runner(second, *queue_, away, *sessions_);
  ASSERT_TRUE(runner.runNext(stop.get_token()));
  auto job = jobs_->get("job1");
  ASSERT_EQ(job->state, JobState::kQueued) << job->detail;
  EXPECT_NE(job->detail.find("database was unavailable"), std::string::npos) << job->detail;
  EXPECT_EQ(job->generator_steps, lost.generator_steps) << "not trained again";
  EXPECT_EQ(job->model_path, lost.model_path);
  EXPECT_TRUE(blobExists(lost.model_path));
  EXPECT_GE(job->budget_spent_seconds, lost.budget_spent_seconds) << "its budget not given back";
}

TEST_F(JobRunnerTest, ATrainingStateTheStoreCannotGiveForAMomentIsResumedNotStartedOver) {
  queue(60);
  double planned = 0;
  std::int64_t steps_when_lost = 0;
  {
    EmbeddedJobQueue sweeper(*jobs_);
    clock_.at(30, [&] {
      ASSERT_EQ(sweeper.recoverExpired().value(), 1);
      planned = jobs_->get("job1")->train_budget_planned;
      steps_when_lost = jobs_->get("job1")->generator_steps;
    });
    ASSERT_TRUE(runner()->runNext({}));
  }
  auto lost = jobs_->get("job1");
  ASSERT_EQ(lost->state, JobState::kQueued) << lost->detail;
  ASSERT_TRUE(blobExists(lost->checkpoint_path));
  UnreachableForAWhile flaky(*blobs_, lost->checkpoint_path, 2, UnreachableForAWhile::kReads);
  JobRunnerConfig second = config_;
  second.worker_id = "worker-b";
  JobRunner runner(second, *queue_, flaky, *sessions_);
  ASSERT_TRUE(runner.runNext({}));
  auto job = jobs_->get("job1");
  ASSERT_EQ(job->state, JobState::kDone) << job->detail;
  EXPECT_EQ(flaky.failuresLeft(), 0);
  EXPECT_DOUBLE_EQ(job->train_budget_planned, planned) << "the same schedule, not a new one";
  EXPECT_GT(job->budget_spent_seconds, lost->budget_spent_seconds) << "charged on top";
  EXPECT_GT(job->generator_steps, steps_when_lost);
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

TEST(JobRunnerPreflight, LeavesNoOpenMpWorkersOnTheCallingThread) {
  // Building a model of the default size runs libtorch's parallel regions;
  // a pool left on the caller's thread (trainer_node's main) would slow
  // every job's training (cpu_runtime.h, runOnPassingThread).
  configureCpuRuntime(2);
  const int before = processThreads();
  JobRunnerConfig config;  // the default model
  ASSERT_TRUE(preflight(config).ok());
  EXPECT_EQ(processThreadsSettledTo(before), before);
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
