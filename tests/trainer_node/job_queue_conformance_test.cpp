// JobQueue conformance: what every implementation of jobs/job_queue.h must
// do (claims, leases, fencing, the state machine, positions, events). The
// suite runs against each implementation through a Harness; the embedded
// (SQLite) one is instantiated here, a shared one adds its own Harness and
// INSTANTIATE_TEST_SUITE_P line.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/store/embedded_job_queue.h"

namespace booth {
namespace {
using namespace std::chrono_literals;

// One implementation under test, with a clock the test moves.
class Harness {
 public:
  virtual ~Harness() = default;
  virtual JobQueue& queue() = 0;
  virtual void advance(std::chrono::milliseconds by) = 0;
};

class EmbeddedHarness final : public Harness {
 public:
  EmbeddedHarness() {
    dir_ = std::filesystem::temp_directory_path() /
           ("booth_queue_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::move(JobStore::open((dir_ / "jobs.sqlite").string(), {3}, clock_).value());
    queue_ = std::make_unique<EmbeddedJobQueue>(*store_, [this] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 clock_.wall().time_since_epoch())
          .count();
    });
  }
  ~EmbeddedHarness() override {
    queue_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  JobQueue& queue() override { return *queue_; }
  void advance(std::chrono::milliseconds by) override { clock_.advance(by); }

 private:
  std::filesystem::path dir_;
  ManualClock clock_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<EmbeddedJobQueue> queue_;
};

using HarnessFactory = std::function<std::unique_ptr<Harness>()>;

class JobQueueConformance : public ::testing::TestWithParam<HarnessFactory> {
 protected:
  void SetUp() override { harness_ = GetParam()(); }
  JobQueue& q() { return harness_->queue(); }
  // A job as the intake makes it, then queued.
  void queued(const std::string& id, std::int64_t created_ms) {
    JobRecord j;
    j.id = id;
    j.session_id = "s-" + id;
    j.created_ms = created_ms;
    j.cameras = {{"node", "cam0", 40}};
    ASSERT_TRUE(q().add(j).ok());
    ASSERT_TRUE(q().enqueue(*q().get(id)).ok());
  }
  JobQueue::Claimed claim(const std::string& worker, std::chrono::milliseconds lease = 30s) {
    auto c = q().claim(worker, lease);
    EXPECT_TRUE(c.ok()) << c.error();
    EXPECT_TRUE(c.ok() && c.value());
    return c.ok() && c.value() ? *c.value() : JobQueue::Claimed{};
  }
  std::unique_ptr<Harness> harness_;
};

TEST_P(JobQueueConformance, AJobGoesFromReceivingToDoneAndThenExpires) {
  queued("a", 1);
  auto c = claim("w1");
  EXPECT_EQ(c.job.state, JobState::kClaimed);
  ASSERT_TRUE(q().advance(c.claim, JobEvent::kStartTraining, "training").ok());
  JobProgress p;
  p.progress = 0.5;
  p.generator_steps = 12;
  p.face_steps = 30;
  ASSERT_TRUE(q().progress(c.claim, p).ok());
  ASSERT_TRUE(q().checkpoint(c.claim, {"/x/train_state.pt", "", 10, 100, 0}).ok());
  ASSERT_TRUE(q().advance(c.claim, JobEvent::kStartRendering, "rendering").ok());
  JobClip clip;
  clip.clip_token = std::string(32, 'a');
  clip.frames = 10;
  ASSERT_TRUE(q().finish(c.claim, clip).ok());
  auto done = q().get("a");
  EXPECT_EQ(done->state, JobState::kDone);
  EXPECT_EQ(done->generator_steps, 12);
  EXPECT_EQ(done->face_steps, 30);
  EXPECT_EQ(done->checkpoint_path, "/x/train_state.pt");
  EXPECT_EQ(done->clip_token, clip.clip_token);
  ASSERT_TRUE(q().expire("a").ok());
  EXPECT_EQ(q().get("a")->state, JobState::kExpired);
  EXPECT_NE(q().get("a")->purged_ms, 0);
}

TEST_P(JobQueueConformance, ClaimsTakeTheOldestQueuedJobOnceEach) {
  queued("new", 2000);
  queued("old", 1000);
  EXPECT_EQ(q().queuePosition("old"), 1);
  EXPECT_EQ(q().queuePosition("new"), 2);
  EXPECT_EQ(claim("w1").job.id, "old");
  EXPECT_EQ(q().queuePosition("new"), 1);
  EXPECT_EQ(q().queuePosition("old"), std::nullopt);
  EXPECT_EQ(claim("w2").job.id, "new");
  auto none = q().claim("w3", 30s);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value());
}

TEST_P(JobQueueConformance, AWorkerThatLostItsLeaseIsFencedOnEveryWrite) {
  queued("a", 1);
  auto first = claim("w1", 1s);
  harness_->advance(2s);
  auto recovered = q().recoverExpired();
  ASSERT_TRUE(recovered.ok()) << recovered.error();
  EXPECT_EQ(recovered.value(), 1);
  auto second = claim("w2");
  EXPECT_GT(second.claim.fence, first.claim.fence);
  JobClip clip;
  clip.clip_token = std::string(32, 'b');
  EXPECT_EQ(q().progress(first.claim, {}).error(), JobQueueError::kFenced);
  EXPECT_EQ(q().advance(first.claim, JobEvent::kStartRendering, "").error(),
            JobQueueError::kFenced);
  EXPECT_EQ(q().finish(first.claim, clip).error(), JobQueueError::kFenced);
  EXPECT_EQ(q().heartbeat(first.claim, 30s).error(), JobQueueError::kFenced);
  EXPECT_EQ(q().get("a")->state, JobState::kClaimed);
  EXPECT_TRUE(q().advance(second.claim, JobEvent::kStartTraining, "").ok());
}

TEST_P(JobQueueConformance, HeartbeatsKeepTheLease) {
  queued("a", 1);
  auto c = claim("w1", 1s);
  harness_->advance(800ms);
  ASSERT_TRUE(q().heartbeat(c.claim, 1s).ok());
  harness_->advance(800ms);
  EXPECT_EQ(q().recoverExpired().value(), 0);
  EXPECT_TRUE(q().progress(c.claim, {}).ok());
}

TEST_P(JobQueueConformance, ACancelledJobsWorkerIsToldItIsNotRunning) {
  queued("a", 1);
  auto c = claim("w1");
  ASSERT_TRUE(q().cancel("a", "cancelled by the operator").ok());
  EXPECT_EQ(q().get("a")->state, JobState::kCancelled);
  EXPECT_EQ(q().progress(c.claim, {}).error(), JobQueueError::kNotRunning);
  EXPECT_EQ(q().cancel("a", "again").error(), JobQueueError::kRefused);
  EXPECT_EQ(q().cancel("ghost", "x").error(), JobQueueError::kNotFound);
}

TEST_P(JobQueueConformance, ReleaseGivesTheAttemptBackAndRecoverCountsIt) {
  queued("a", 1);
  ASSERT_TRUE(q().release(claim("w1").claim, "stopping").ok());
  EXPECT_EQ(q().get("a")->attempts, 0);
  EXPECT_EQ(q().get("a")->state, JobState::kQueued);
  for (int i = 0; i < 3; ++i) {
    claim("w1", 1s);
    harness_->advance(2s);
    ASSERT_TRUE(q().recoverExpired().ok());
  }
  auto job = q().get("a");
  EXPECT_EQ(job->state, JobState::kFailed) << "three lost workers: max_attempts";
  EXPECT_EQ(job->attempts, 3);
}

TEST_P(JobQueueConformance, RefusedEventsNameTheStateAndChangeNothing) {
  queued("a", 1);
  auto c = claim("w1");
  auto st = q().finish(c.claim, JobClip{});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kRefused);
  EXPECT_NE(st.message().find("is claimed: cannot finish"), std::string::npos) << st.message();
  EXPECT_EQ(q().get("a")->state, JobState::kClaimed);
  JobRecord not_new;
  not_new.id = "b";
  not_new.state = JobState::kQueued;
  EXPECT_EQ(q().add(not_new).error(), JobQueueError::kRefused);
}

TEST_P(JobQueueConformance, ObserversHearEveryChange) {
  std::vector<std::string> heard;
  const auto id = q().addObserver([&](const std::string& job) { heard.push_back(job); });
  queued("a", 1);
  auto c = claim("w1");
  ASSERT_TRUE(q().fail(c.claim, "no frames").ok());
  EXPECT_EQ(heard, (std::vector<std::string>{"a", "a", "a", "a"}));  // add, enqueue, claim, fail
  q().removeObserver(id);
  EXPECT_EQ(q().get("a")->detail, "no frames");
}

INSTANTIATE_TEST_SUITE_P(Embedded, JobQueueConformance,
                         ::testing::Values(HarnessFactory(
                             [] { return std::make_unique<EmbeddedHarness>(); })));

}  // namespace
}  // namespace booth
