// JobQueue conformance: the behaviours every implementation of
// jobs/job_queue.h keeps (claims, leases, fencing, the state machine's
// transitions, positions, events), run against both:
//   - embedded: EmbeddedJobQueue over a SQLite JobStore in a temporary folder;
//   - postgres: PgJobQueue in the fixture's server, a schema of its own per
//     test (these exit 77 where PostgreSQL cannot run).
// Where the two legitimately differ, the backend says so and the test
// asserts each one's own promise (never a weaker one for both):
//   - Leases: the embedded queue keeps them in the process (a restart loses
//     them, and recoverExpired() then recovers every running job); the
//     shared one keeps them in the jobs row. Both use the queue's clock, so
//     the lease arithmetic below is the same for both.
//   - Events: the embedded queue calls observers on the writer's thread
//     before the write returns; the shared one calls them from its listener
//     thread after NOTIFY, so the test waits for them (bounded).
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "common/core/clock.h"
#include "heard_jobs.h"
#include "queue_backends.h"
#include "support/test_database.h"
#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"

namespace booth {
namespace {

using namespace std::chrono_literals;

// (Not "j" + std::to_string(i): GCC 12 warns falsely on that.)
std::string numbered(std::string prefix, int i) { return prefix.append(std::to_string(i)); }

using testing::wallMs;

template <class Backend>
class JobQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { queue_ = backend_.make(clock_, {}); }
  void TearDown() override { queue_.reset(); }
  JobQueue& queue() { return *queue_; }

  JobRecord job(const std::string& id, std::int64_t created_ms) {
    JobRecord j;
    j.id = id;
    j.session_id = "session-" + id;
    j.state = JobState::kReceiving;
    j.train_budget_seconds = 240;
    j.choreography = "disco";
    j.nodes = {"node-a", "node-b"};
    j.created_ms = created_ms;
    return j;
  }
  void addQueued(const std::string& id, std::int64_t created_ms) {
    const JobRecord j = job(id, created_ms);
    auto added = queue().add(j);
    ASSERT_TRUE(added.ok()) << added.message();
    auto queued = queue().enqueue(j);
    ASSERT_TRUE(queued.ok()) << queued.message();
  }
  JobQueue::Claimed claim(const std::string& worker, std::chrono::milliseconds lease = 30s) {
    auto c = queue().claim(worker, lease);
    EXPECT_TRUE(c.ok()) << c.error();
    EXPECT_TRUE(c.ok() && c.value().has_value()) << "nothing to claim";
    return c.ok() && c.value() ? *c.value() : JobQueue::Claimed{};
  }
  JobState stateOf(const std::string& id) {
    auto j = queue().get(id);
    EXPECT_TRUE(j.has_value()) << id;
    return j ? j->state : JobState::kFailed;
  }
  static JobClip aClip(char fill) {
    JobClip clip;
    clip.clip_token = std::string(32, fill);
    clip.clip_path = "clips/" + clip.clip_token + ".mp4";
    clip.frames = 300;
    clip.width = 768;
    clip.height = 256;
    clip.bytes = 123456;
    return clip;
  }
  // A queued job taken to done by one worker.
  void addDone(const std::string& id, std::int64_t created_ms, char clip_fill) {
    addQueued(id, created_ms);
    auto c = claim("w-" + id);
    ASSERT_TRUE(queue().advance(c.claim, JobEvent::kStartRendering, "").ok());
    ASSERT_TRUE(queue().finish(c.claim, aClip(clip_fill)).ok());
  }

  ManualClock clock_;
  Backend backend_;
  std::unique_ptr<JobQueue> queue_;
};

TYPED_TEST_SUITE(JobQueueTest, testing::QueueBackends, testing::QueueBackendNames);

TYPED_TEST(JobQueueTest, AddedJobIsReceivingWithItsRequest) {
  JobRecord added = this->job("j1", 1000);
  added.gateway_id = "gw-a";
  ASSERT_TRUE(this->queue().add(added).ok());
  auto j = this->queue().get("j1");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->state, JobState::kReceiving);
  EXPECT_EQ(j->nodes, (std::vector<std::string>{"node-a", "node-b"}));
  EXPECT_EQ(j->choreography, "disco");
  EXPECT_EQ(j->train_budget_seconds, 240);
  EXPECT_EQ(j->created_ms, 1000);
  EXPECT_EQ(j->gateway_id, "gw-a") << "the gateway receiving it";
}

TYPED_TEST(JobQueueTest, AddingAnExistingIdIsRefused) {
  ASSERT_TRUE(this->queue().add(this->job("j1", 1000)).ok());
  auto again = this->queue().add(this->job("j1", 2000));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), JobQueueError::kRefused);
}

TYPED_TEST(JobQueueTest, AddingAJobThatIsNotReceivingIsRefused) {
  JobRecord j = this->job("j1", 1000);
  j.state = JobState::kQueued;
  auto st = this->queue().add(j);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kRefused);
  EXPECT_FALSE(this->queue().get("j1").has_value());
}

TYPED_TEST(JobQueueTest, IntakeUpdatesOnlyWhileReceiving) {
  JobRecord j = this->job("j1", 1000);
  ASSERT_TRUE(this->queue().add(j).ok());
  j.cameras = {{"node-a", "cam0", 450}, {"node-b", "cam1", 449}};
  j.frames_received = 899;
  j.capture_seconds = 15.2;
  ASSERT_TRUE(this->queue().updateIntake(j).ok());
  auto got = this->queue().get("j1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->cameras, j.cameras);
  EXPECT_EQ(got->frames_received, 899);
  EXPECT_EQ(got->state, JobState::kReceiving);
  ASSERT_TRUE(this->queue().enqueue(j).ok());
  auto late = this->queue().updateIntake(j);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error(), JobQueueError::kRefused);
  EXPECT_EQ(this->stateOf("j1"), JobState::kQueued);
}

TYPED_TEST(JobQueueTest, EnqueueWritesTheIntakesDetailLine) {
  JobRecord j = this->job("j1", 1000);
  ASSERT_TRUE(this->queue().add(j).ok());
  j.frames_received = 42;
  ASSERT_TRUE(this->queue().enqueue(j, "queued for training (capture incomplete: cam1)").ok());
  auto got = this->queue().get("j1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, JobState::kQueued);
  EXPECT_EQ(got->detail, "queued for training (capture incomplete: cam1)");
  EXPECT_EQ(got->frames_received, 42);
}

TYPED_TEST(JobQueueTest, FailIntakeFailsAReceivingJobWithItsIntakeAndReason) {
  JobRecord j = this->job("j1", 1000);
  ASSERT_TRUE(this->queue().add(j).ok());
  j.frames_received = 17;
  ASSERT_TRUE(this->queue().failIntake(j, "disk full: no space left").ok());
  auto got = this->queue().get("j1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->state, JobState::kFailed);
  EXPECT_EQ(got->detail, "disk full: no space left");
  EXPECT_EQ(got->frames_received, 17);
}

TYPED_TEST(JobQueueTest, FailIntakeRefusesAJobThatIsNoLongerReceiving) {
  this->addQueued("j1", 1000);
  auto st = this->queue().failIntake(this->job("j1", 1000), "too late");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kRefused) << st.message();
  EXPECT_EQ(this->stateOf("j1"), JobState::kQueued);
}

TYPED_TEST(JobQueueTest, AClipTokenFindsItsJobAndStatesAreCounted) {
  this->addDone("j1", 1000, 'a');
  this->addQueued("j2", 2000);
  this->addQueued("j3", 3000);
  auto found = this->queue().byClipToken(std::string(32, 'a'));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, "j1");
  EXPECT_FALSE(this->queue().byClipToken(std::string(32, 'z')).has_value());
  EXPECT_FALSE(this->queue().byClipToken("").has_value());
  const auto counts = this->queue().countByState();
  EXPECT_EQ(counts.at(JobState::kDone), 1);
  EXPECT_EQ(counts.at(JobState::kQueued), 2);
  EXPECT_EQ(counts.count(JobState::kFailed), 0u);
}

TYPED_TEST(JobQueueTest, AWorkingStoreIsNotUnavailable) {
  this->addQueued("j1", 1000);
  auto why = this->queue().unavailable();
  EXPECT_FALSE(why.has_value()) << *why;
}

TYPED_TEST(JobQueueTest, NothingToClaimUntilAJobIsQueued) {
  ASSERT_TRUE(this->queue().add(this->job("j1", 1000)).ok());
  auto none = this->queue().claim("w1", 30s);
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_FALSE(none.value().has_value());
  ASSERT_TRUE(this->queue().enqueue(this->job("j1", 1000)).ok());
  auto c = this->claim("w1");
  EXPECT_EQ(c.job.id, "j1");
}

TYPED_TEST(JobQueueTest, ClaimMovesTheJobToClaimedWithALeaseAndAFence) {
  this->addQueued("j1", 1000);
  const std::int64_t now_ms = wallMs(this->clock_);
  auto c = this->claim("w1", 30s);
  EXPECT_EQ(c.claim.job_id, "j1");
  EXPECT_EQ(c.claim.worker_id, "w1");
  EXPECT_GE(c.claim.fence, 1u);
  EXPECT_EQ(c.claim.lease_until_ms, now_ms + 30000);
  EXPECT_EQ(c.job.state, JobState::kClaimed);
  EXPECT_EQ(c.job.attempts, 1);
  EXPECT_EQ(this->stateOf("j1"), JobState::kClaimed);
}

TYPED_TEST(JobQueueTest, ClaimsTakeTheOldestJobFirst) {
  this->addQueued("late", 3000);
  this->addQueued("early", 1000);
  this->addQueued("middle", 2000);
  EXPECT_EQ(this->claim("w").job.id, "early");
  EXPECT_EQ(this->claim("w").job.id, "middle");
  EXPECT_EQ(this->claim("w").job.id, "late");
  auto none = this->queue().claim("w", 30s);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value().has_value());
}

TYPED_TEST(JobQueueTest, ConcurrentWorkersNeverClaimTheSameJob) {
  constexpr int kJobs = 12;
  constexpr int kWorkers = 4;
  for (int i = 0; i < kJobs; ++i) this->addQueued(numbered("j", i), 1000 + i);
  std::mutex mutex;
  std::vector<std::string> claimed;
  std::vector<std::string> errors;
  {
    std::vector<std::jthread> workers;
    for (int w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&, w] {
        while (true) {
          auto c = this->queue().claim(numbered("w", w), 30s);
          std::lock_guard lock(mutex);
          if (!c.ok()) {
            errors.push_back(c.error());
            return;
          }
          if (!c.value()) return;
          claimed.push_back(c.value()->job.id);
        }
      });
    }
  }
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(),
            static_cast<std::size_t>(kJobs))
      << "a job was claimed twice";
}

TYPED_TEST(JobQueueTest, QueuePositionCountsFromTheNextJob) {
  this->addQueued("a", 1000);
  this->addQueued("b", 2000);
  this->addQueued("c", 3000);
  EXPECT_EQ(this->queue().queuePosition("a"), 1);
  EXPECT_EQ(this->queue().queuePosition("c"), 3);
  (void)this->claim("w");
  EXPECT_EQ(this->queue().queuePosition("a"), std::nullopt);
  EXPECT_EQ(this->queue().queuePosition("c"), 2);
  EXPECT_EQ(this->queue().queuePosition("unknown"), std::nullopt);
}

TYPED_TEST(JobQueueTest, WorkerTakesTheJobThroughTrainingAndRenderingToDone) {
  this->addQueued("j1", 1000);
  auto c = this->claim("w1");
  ASSERT_TRUE(this->queue().advance(c.claim, JobEvent::kStartTraining, "training").ok());
  JobProgress p;
  p.progress = 0.5;
  p.generator_steps = 1200;
  p.face_steps = 300;
  p.generator_steps_per_second = 4.5;
  p.face_steps_per_second = 96.0;
  p.loss_l1 = 0.25f;
  p.eta_seconds = 60;
  p.detail = "step 1200";
  ASSERT_TRUE(this->queue().progress(c.claim, p).ok());
  JobCheckpoint cp;
  cp.checkpoint_path = "checkpoints/j1/state.pt";
  cp.budget_spent_seconds = 120;
  ASSERT_TRUE(this->queue().checkpoint(c.claim, cp).ok());
  auto mid = this->queue().get("j1");
  ASSERT_TRUE(mid.has_value());
  EXPECT_EQ(mid->state, JobState::kTraining);
  EXPECT_EQ(mid->generator_steps, 1200);
  EXPECT_EQ(mid->face_steps, 300);
  EXPECT_DOUBLE_EQ(mid->generator_steps_per_second, 4.5);
  EXPECT_DOUBLE_EQ(mid->face_steps_per_second, 96.0);
  EXPECT_FLOAT_EQ(mid->loss_l1, 0.25f);
  EXPECT_EQ(mid->detail, "step 1200");
  EXPECT_EQ(mid->checkpoint_path, "checkpoints/j1/state.pt");
  ASSERT_TRUE(this->queue().advance(c.claim, JobEvent::kStartRendering, "rendering").ok());
  const JobClip clip = this->aClip('a');
  ASSERT_TRUE(this->queue().finish(c.claim, clip).ok());
  auto done = this->queue().get("j1");
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->state, JobState::kDone);
  EXPECT_EQ(done->clip_token, clip.clip_token);
  EXPECT_EQ(done->clip_path, clip.clip_path);
  EXPECT_EQ(done->clip_frames, 300);
  EXPECT_EQ(done->clip_bytes, 123456);
  EXPECT_EQ(done->eta_seconds, 0) << "nothing left once done";
  EXPECT_EQ(done->generator_steps, 1200) << "progress is kept once done";
  EXPECT_EQ(done->face_steps, 300);
  EXPECT_EQ(done->checkpoint_path, "checkpoints/j1/state.pt") << "checkpoint is kept once done";
}

TYPED_TEST(JobQueueTest, FinishWithoutAClipIsRefused) {
  this->addQueued("j1", 1000);
  auto c = this->claim("w1");
  ASSERT_TRUE(this->queue().advance(c.claim, JobEvent::kStartRendering, "").ok());
  auto st = this->queue().finish(c.claim, JobClip{});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kRefused);
  EXPECT_EQ(this->stateOf("j1"), JobState::kRendering);
}

TYPED_TEST(JobQueueTest, FinishBeforeRenderingIsRefusedNamingTheState) {
  this->addQueued("j1", 1000);
  auto c = this->claim("w1");
  auto st = this->queue().finish(c.claim, this->aClip('a'));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kRefused);
  EXPECT_NE(st.message().find("is claimed: cannot finish"), std::string::npos) << st.message();
  auto j = this->queue().get("j1");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->state, JobState::kClaimed);
  EXPECT_EQ(j->clip_token, "") << "a refused event changes nothing";
}

TYPED_TEST(JobQueueTest, AdvanceTakesOnlyTheStageEvents) {
  this->addQueued("j1", 1000);
  auto c = this->claim("w1");
  auto st = this->queue().advance(c.claim, JobEvent::kFinish, "");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kRefused);
}

TYPED_TEST(JobQueueTest, FailRecordsTheReason) {
  this->addQueued("j1", 1000);
  auto c = this->claim("w1");
  ASSERT_TRUE(this->queue().fail(c.claim, "disk full").ok());
  auto j = this->queue().get("j1");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->state, JobState::kFailed);
  EXPECT_EQ(j->detail, "disk full");
}

TYPED_TEST(JobQueueTest, LeaseThatRanOutIsRecoveredAndTheOldClaimIsFencedOnEveryWrite) {
  this->addQueued("j1", 1000);
  auto first = this->claim("w1", 30s);
  ASSERT_TRUE(this->queue().advance(first.claim, JobEvent::kStartTraining, "").ok());
  this->clock_.advance(31s);
  auto recovered = this->queue().recoverExpired();
  ASSERT_TRUE(recovered.ok()) << recovered.error();
  EXPECT_EQ(recovered.value(), 1);
  auto queued = this->queue().get("j1");
  ASSERT_TRUE(queued.has_value());
  EXPECT_EQ(queued->state, JobState::kQueued);
  EXPECT_EQ(queued->resume_phase, "training");
  auto second = this->claim("w2", 30s);
  EXPECT_GT(second.claim.fence, first.claim.fence);
  Claim stale = first.claim;
  for (const QueueStatus& st :
       {this->queue().heartbeat(stale, 30s), this->queue().progress(first.claim, JobProgress{}),
        this->queue().checkpoint(first.claim, JobCheckpoint{}),
        this->queue().advance(first.claim, JobEvent::kStartRendering, ""),
        this->queue().finish(first.claim, this->aClip('b')),
        this->queue().fail(first.claim, "late"),
        this->queue().release(first.claim, "late", ReleaseCause::kStop)}) {
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error(), JobQueueError::kFenced) << st.message();
  }
  EXPECT_EQ(stale.lease_until_ms, first.claim.lease_until_ms)
      << "a fenced heartbeat renews nothing";
  EXPECT_EQ(this->stateOf("j1"), JobState::kClaimed);
  EXPECT_TRUE(this->queue().progress(second.claim, JobProgress{}).ok());
  EXPECT_TRUE(this->queue().advance(second.claim, JobEvent::kStartTraining, "").ok());
}

TYPED_TEST(JobQueueTest, RecoveredJobNotYetClaimedAgainRefusesItsOldWorker) {
  this->addQueued("j1", 1000);
  auto c = this->claim("w1", 30s);
  this->clock_.advance(31s);
  ASSERT_EQ(this->queue().recoverExpired().value(), 1);
  auto st = this->queue().finish(c.claim, this->aClip('c'));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kNotRunning) << st.message();
  EXPECT_EQ(this->stateOf("j1"), JobState::kQueued);
}

TYPED_TEST(JobQueueTest, HeartbeatKeepsTheLease) {
  this->addQueued("j1", 1000);
  auto c = this->claim("w1", 30s);
  const std::int64_t first_until = c.claim.lease_until_ms;
  this->clock_.advance(20s);
  ASSERT_TRUE(this->queue().heartbeat(c.claim, 30s).ok());
  EXPECT_EQ(c.claim.lease_until_ms, first_until + 20000);
  this->clock_.advance(20s);
  EXPECT_EQ(this->queue().recoverExpired().value(), 0);
  EXPECT_TRUE(this->queue().progress(c.claim, JobProgress{}).ok()) << "still its worker's";
  this->clock_.advance(11s);
  EXPECT_EQ(this->queue().recoverExpired().value(), 1);
}

TYPED_TEST(JobQueueTest, StartingAStageClearsTheResumePhase) {
  this->addQueued("j1", 1000);
  auto first = this->claim("w1", 30s);
  ASSERT_TRUE(this->queue().advance(first.claim, JobEvent::kStartRendering, "").ok());
  ASSERT_TRUE(this->queue().release(first.claim, "stopping", ReleaseCause::kStop).ok());
  auto second = this->claim("w2", 30s);
  EXPECT_EQ(second.job.resume_phase, "rendering");
  ASSERT_TRUE(this->queue().advance(second.claim, JobEvent::kStartRendering, "").ok());
  auto j = this->queue().get("j1");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->resume_phase, "");
}

TYPED_TEST(JobQueueTest, FencedBlobCommitPublishesOnlyForTheClaimThatHoldsTheJob) {
  auto blobs = this->backend_.blobs();
  this->addQueued("j1", 1000);
  auto first = this->claim("w1", 30s);
  ASSERT_TRUE(blobs->put("clips/a.mp4", "first", this->queue().fenceCheck(first.claim)).ok());
  this->clock_.advance(31s);
  ASSERT_EQ(this->queue().recoverExpired().value(), 1);
  // Recovered, not claimed again: the old claim no longer runs the job.
  auto late = blobs->put("clips/b.mp4", "late", this->queue().fenceCheck(first.claim));
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().find("not running"), std::string::npos) << late.error();
  auto second = this->claim("w2", 30s);
  auto fenced = blobs->put("clips/b.mp4", "late", this->queue().fenceCheck(first.claim));
  ASSERT_FALSE(fenced.ok());
  EXPECT_NE(fenced.error().find("fenced"), std::string::npos) << fenced.error();
  EXPECT_FALSE(blobs->size("clips/b.mp4").value().has_value()) << "nothing was published";
  EXPECT_TRUE(blobs->put("clips/c.mp4", "second", this->queue().fenceCheck(second.claim)).ok());
}

TYPED_TEST(JobQueueTest, LiveWorkersAreThoseWhoseHeartbeatHasNotRunOut) {
  EXPECT_EQ(this->queue().liveWorkers().value_or(-1), 0);
  ASSERT_TRUE(this->queue().workerHeartbeat("w1", 30s).ok());
  ASSERT_TRUE(this->queue().workerHeartbeat("w2", 10s).ok());
  ASSERT_TRUE(this->queue().workerHeartbeat("w1", 30s).ok());  // again: still one worker
  EXPECT_EQ(this->queue().liveWorkers().value_or(-1), 2);
  this->clock_.advance(11s);
  EXPECT_EQ(this->queue().liveWorkers().value_or(-1), 1) << "w2 stopped saying it is alive";
  ASSERT_TRUE(this->queue().workerGone("w1").ok());
  EXPECT_EQ(this->queue().liveWorkers().value_or(-1), 0);
  EXPECT_FALSE(this->queue().workerHeartbeat("", 30s).ok());
}

TYPED_TEST(JobQueueTest, CancelledJobStopsItsWorker) {
  this->addQueued("j1", 1000);
  auto c = this->claim("w1");
  ASSERT_TRUE(this->queue().cancel("j1", "cancelled by the operator").ok());
  auto j = this->queue().get("j1");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->state, JobState::kCancelled);
  auto st = this->queue().progress(c.claim, JobProgress{});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kNotRunning);
}

TYPED_TEST(JobQueueTest, CancellingAFinishedJobIsRefused) {
  this->addQueued("j1", 1000);
  ASSERT_TRUE(this->queue().cancel("j1", "cancelled by the operator").ok());
  auto again = this->queue().cancel("j1", "again");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), JobQueueError::kRefused) << again.message();
  auto j = this->queue().get("j1");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->detail, "cancelled by the operator");
}

TYPED_TEST(JobQueueTest, ReleaseQueuesTheJobAgainAndGivesTheAttemptBack) {
  this->addQueued("j1", 1000);
  auto c = this->claim("w1");
  ASSERT_TRUE(this->queue().advance(c.claim, JobEvent::kStartRendering, "").ok());
  ASSERT_TRUE(this->queue().release(c.claim, "shutting down", ReleaseCause::kStop).ok());
  auto j = this->queue().get("j1");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->state, JobState::kQueued);
  EXPECT_EQ(j->attempts, 0);
  EXPECT_EQ(j->resume_phase, "rendering");
  EXPECT_EQ(this->claim("w2").job.id, "j1");
}

// A stage that breaks the store's connection the same way every time must
// not re-queue its job forever: such a release keeps the attempt counted.
TYPED_TEST(JobQueueTest, AReleaseForAnUnreachableStoreCountsTheAttemptAndEndsAtMaxAttempts) {
  JobStateMachineConfig machine;
  machine.max_attempts = 2;
  this->queue_.reset();
  this->queue_ = this->backend_.make(this->clock_, machine);
  this->addQueued("j1", 1000);
  auto first = this->claim("w1");
  ASSERT_TRUE(this->queue().advance(first.claim, JobEvent::kStartTraining, "").ok());
  ASSERT_TRUE(
      this->queue().release(first.claim, "db away", ReleaseCause::kStoreUnreachable).ok());
  auto queued = this->queue().get("j1");
  ASSERT_TRUE(queued.has_value());
  EXPECT_EQ(queued->state, JobState::kQueued);
  EXPECT_EQ(queued->attempts, 1);
  EXPECT_EQ(queued->resume_phase, "training");
  auto second = this->claim("w2");
  ASSERT_TRUE(
      this->queue().release(second.claim, "db away", ReleaseCause::kStoreUnreachable).ok());
  auto j = this->queue().get("j1");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->state, JobState::kFailed);
  EXPECT_EQ(j->attempts, 2);
  EXPECT_NE(j->detail.find("2 attempts"), std::string::npos) << j->detail;
  EXPECT_NE(j->detail.find("db away"), std::string::npos) << j->detail;
}

TYPED_TEST(JobQueueTest, JobLostMaxAttemptsTimesFails) {
  JobStateMachineConfig machine;
  machine.max_attempts = 2;
  this->queue_.reset();
  this->queue_ = this->backend_.make(this->clock_, machine);
  this->addQueued("j1", 1000);
  // A release in between is not the job's fault: it does not count.
  ASSERT_TRUE(this->queue().release(this->claim("w").claim, "stopping", ReleaseCause::kStop).ok());
  for (int attempt = 0; attempt < 2; ++attempt) {
    (void)this->claim("w", 30s);
    this->clock_.advance(31s);
    ASSERT_EQ(this->queue().recoverExpired().value(), 1);
  }
  auto j = this->queue().get("j1");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->state, JobState::kFailed);
  EXPECT_EQ(j->attempts, 2);
  EXPECT_NE(j->detail.find("2 times"), std::string::npos) << j->detail;
}

TYPED_TEST(JobQueueTest, ExpireMarksAFinishedJobPurged) {
  this->addDone("done", 1000, 'd');
  this->addQueued("failed", 2000);
  ASSERT_TRUE(this->queue().fail(this->claim("w1").claim, "bad frames").ok());
  this->addQueued("cancelled", 3000);
  ASSERT_TRUE(this->queue().cancel("cancelled", "cancelled by the operator").ok());
  for (const char* id : {"done", "failed", "cancelled"}) {
    ASSERT_TRUE(this->queue().expire(id).ok()) << id;
    auto j = this->queue().get(id);
    ASSERT_TRUE(j.has_value());
    EXPECT_EQ(j->state, JobState::kExpired) << id;
    EXPECT_GT(j->purged_ms, 0) << id;
    EXPECT_EQ(j->frames_purged_ms, j->purged_ms) << id << ": the frames went with the clip";
  }
}

TYPED_TEST(JobQueueTest, TheVisitorsConsentTravelsWithTheJob) {
  JobRecord agreed = this->job("agreed", 1000);
  agreed.may_improve_booth = true;
  agreed.consent_withdrawn_ms = 77;  // not the adder's to set
  agreed.frames_purged_ms = 88;
  ASSERT_TRUE(this->queue().add(agreed).ok());
  ASSERT_TRUE(this->queue().add(this->job("plain", 2000)).ok());
  auto a = this->queue().get("agreed");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->may_improve_booth);
  EXPECT_EQ(a->consent_withdrawn_ms, 0);
  EXPECT_EQ(a->frames_purged_ms, 0);
  EXPECT_FALSE(this->queue().get("plain")->may_improve_booth) << "off unless given";
}

// --- retention's calls: each conditional, so a second recorder is refused ---

TYPED_TEST(JobQueueTest, ExpiringTwiceIsRefusedTheSecondTime) {
  this->addDone("done", 1000, 'd');
  ASSERT_TRUE(this->queue().expire("done").ok());
  const std::int64_t purged = this->queue().get("done")->purged_ms;
  this->clock_.advance(5s);
  auto again = this->queue().expire("done");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), JobQueueError::kRefused) << again.message();
  EXPECT_EQ(this->queue().get("done")->purged_ms, purged) << "recorded once";
}

TYPED_TEST(JobQueueTest, ExpiringWithTheFramesKeptLeavesThemToMarkOnce) {
  JobRecord agreed = this->job("agreed", 1000);
  agreed.may_improve_booth = true;
  ASSERT_TRUE(this->queue().add(agreed).ok());
  ASSERT_TRUE(this->queue().failIntake(agreed, "no frames").ok());
  ASSERT_TRUE(this->queue().expire("agreed", JobQueue::ExpiredFrames::kKept).ok());
  auto kept = this->queue().get("agreed");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->state, JobState::kExpired);
  EXPECT_GT(kept->purged_ms, 0);
  EXPECT_EQ(kept->frames_purged_ms, 0);
  auto listed = this->queue().framesKept(10);
  ASSERT_TRUE(listed.ok()) << listed.error();
  ASSERT_EQ(listed.value().size(), 1u);
  EXPECT_EQ(listed.value()[0].id, "agreed");

  this->clock_.advance(1s);
  ASSERT_TRUE(this->queue().markFramesPurged("agreed").ok());
  EXPECT_EQ(this->queue().get("agreed")->frames_purged_ms, wallMs(this->clock_));
  auto twice = this->queue().markFramesPurged("agreed");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error(), JobQueueError::kRefused) << twice.message();
  EXPECT_TRUE(this->queue().framesKept(10).value().empty());
}

TYPED_TEST(JobQueueTest, FramesOfAJobNotExpiredCannotBeMarkedPurged) {
  this->addDone("done", 1000, 'd');
  auto st = this->queue().markFramesPurged("done");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kRefused);
  EXPECT_EQ(this->queue().markFramesPurged("nope").error(), JobQueueError::kNotFound);
}

TYPED_TEST(JobQueueTest, WithdrawingConsentIsRecordedOnceAndKeepsTheJobsTime) {
  JobRecord agreed = this->job("agreed", 1000);
  agreed.may_improve_booth = true;
  ASSERT_TRUE(this->queue().add(agreed).ok());
  ASSERT_TRUE(this->queue().add(this->job("plain", 2000)).ok());
  const std::int64_t updated = this->queue().get("agreed")->updated_ms;
  this->clock_.advance(3s);
  ASSERT_TRUE(this->queue().withdrawConsent("agreed").ok());
  auto after = this->queue().get("agreed");
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->may_improve_booth);
  EXPECT_EQ(after->consent_withdrawn_ms, wallMs(this->clock_));
  EXPECT_EQ(after->updated_ms, updated) << "retention counts from the job's own last change";
  EXPECT_EQ(this->queue().withdrawConsent("agreed").error(), JobQueueError::kRefused);
  EXPECT_EQ(this->queue().withdrawConsent("plain").error(), JobQueueError::kRefused)
      << "never given";
  EXPECT_EQ(this->queue().withdrawConsent("nope").error(), JobQueueError::kNotFound);
}

TYPED_TEST(JobQueueTest, FinishedBeforeListsUnpurgedJobsOfOneStateOldestChangeFirst) {
  this->addDone("d1", 1000, 'a');
  this->clock_.advance(10s);
  const std::int64_t cut = wallMs(this->clock_);
  this->addDone("d2", 2000, 'b');
  this->addQueued("q", 3000);
  ASSERT_TRUE(this->queue().cancel("q", "cancelled by the operator").ok());
  this->clock_.advance(10s);
  const std::int64_t later = wallMs(this->clock_);

  auto before_cut = this->queue().finishedBefore(JobState::kDone, cut, 10);
  ASSERT_TRUE(before_cut.ok()) << before_cut.error();
  ASSERT_EQ(before_cut.value().size(), 1u);
  EXPECT_EQ(before_cut.value()[0].id, "d1");
  auto all_done = this->queue().finishedBefore(JobState::kDone, later, 10).value();
  ASSERT_EQ(all_done.size(), 2u);
  EXPECT_EQ(all_done[0].id, "d1");
  EXPECT_EQ(this->queue().finishedBefore(JobState::kDone, later, 1).value().size(), 1u);
  auto cancelled = this->queue().finishedBefore(JobState::kCancelled, later, 10).value();
  ASSERT_EQ(cancelled.size(), 1u);
  EXPECT_EQ(cancelled[0].id, "q");

  ASSERT_TRUE(this->queue().expire("d1").ok());
  auto left = this->queue().finishedBefore(JobState::kDone, later + 1000, 10).value();
  ASSERT_EQ(left.size(), 1u) << "a purged job is not listed again";
  EXPECT_EQ(left[0].id, "d2");
}

TYPED_TEST(JobQueueTest, AJobIsFoundByItsSessionAndByItsClipToken) {
  this->addDone("j1", 1000, 'a');
  this->addQueued("j2", 2000);
  auto by_session = this->queue().findBySession("session-j2");
  ASSERT_TRUE(by_session.ok()) << by_session.error();
  ASSERT_TRUE(by_session.value().has_value());
  EXPECT_EQ(by_session.value()->id, "j2");
  auto none = this->queue().findBySession("session-nope");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value().has_value());
  auto by_token = this->queue().findByClipToken(std::string(32, 'a'));
  ASSERT_TRUE(by_token.ok());
  ASSERT_TRUE(by_token.value().has_value());
  EXPECT_EQ(by_token.value()->id, "j1");
}

TYPED_TEST(JobQueueTest, TheRetentionLockIsHeldByOneAtATime) {
  auto first = this->queue().tryRetentionLock();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(this->queue().tryRetentionLock(), nullptr) << "held";
  first.reset();
  EXPECT_NE(this->queue().tryRetentionLock(), nullptr) << "released with its hold";
}

TYPED_TEST(JobQueueTest, RunningJobCannotExpire) {
  this->addQueued("j1", 1000);
  (void)this->claim("w1");
  auto st = this->queue().expire("j1");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kRefused);
}

TYPED_TEST(JobQueueTest, UnknownJobIsNotFound) {
  auto st = this->queue().cancel("nope", "x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), JobQueueError::kNotFound);
  EXPECT_FALSE(this->queue().get("nope").has_value());
}

TYPED_TEST(JobQueueTest, ListIsNewestFirstWithinTheLimit) {
  ASSERT_TRUE(this->queue().add(this->job("a", 1000)).ok());
  ASSERT_TRUE(this->queue().add(this->job("c", 3000)).ok());
  ASSERT_TRUE(this->queue().add(this->job("b", 2000)).ok());
  auto jobs = this->queue().list(2);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].id, "c");
  EXPECT_EQ(jobs[1].id, "b");
}

// Every committed change is heard once: add, enqueue, claim, fail. The
// embedded queue calls observers before the write returns; the shared one
// from its listener, in commit order, so once a later job's change is heard
// every change of "j1" has been.
TYPED_TEST(JobQueueTest, ObserversHearEveryCommittedChangeOnce) {
  testing::HeardJobs heard;
  {
    testing::HeardJobs::Subscription subscription(this->queue(), heard);
    if (auto* pg = dynamic_cast<PgJobQueue*>(&this->queue())) {
      for (int i = 0; i < 400 && !pg->listening(); ++i) std::this_thread::sleep_for(50ms);
      ASSERT_TRUE(pg->listening()) << "the listener did not connect";
    }
    this->addQueued("j1", 1000);
    auto c = this->claim("w1");
    ASSERT_TRUE(this->queue().fail(c.claim, "no frames").ok());
    if (TypeParam::kObserversCalledBeforeReturn) {
      EXPECT_EQ(heard.count("j1"), 4u);
    }
    ASSERT_TRUE(this->queue().add(this->job("later", 2000)).ok());
    ASSERT_TRUE(heard.waitFor("later")) << "heard " << heard.count("j1") << " of 4 changes";
    EXPECT_EQ(heard.count("j1"), 4u) << "add, enqueue, claim, fail";
  }
  ASSERT_TRUE(this->queue().add(this->job("unheard", 3000)).ok());
  if (TypeParam::kObserversCalledBeforeReturn) {
    EXPECT_EQ(heard.count("unheard"), 0u);
  }
}

TEST(QueueWaitSeconds, JobsAheadShareTheLiveWorkers) {
  EXPECT_EQ(queueWaitSeconds(1, 1, 100), 50.0);   // the running job is half done
  EXPECT_EQ(queueWaitSeconds(2, 1, 100), 150.0);  // then one more before it
  EXPECT_EQ(queueWaitSeconds(2, 2, 100), 50.0);   // two workers take both at once
  EXPECT_EQ(queueWaitSeconds(5, 2, 100), 250.0);
  EXPECT_FALSE(queueWaitSeconds(1, 0, 100).has_value()) << "no live worker: no estimate";
  EXPECT_FALSE(queueWaitSeconds(0, 2, 100).has_value());
}

}  // namespace
}  // namespace booth
