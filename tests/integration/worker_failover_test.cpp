// Several trainer workers as real processes (`trainer_node --roles worker
// --database …`, support/worker_fleet.h) sharing one PostgreSQL queue and
// blob store (the private server of the `postgres` fixture): a worker
// killed with SIGKILL in the middle of training loses its job to another,
// which resumes it from its last checkpoint and ends it with exactly one
// clip; a worker stopped with SIGSTOP past its lease and then continued is
// fenced and publishes nothing; a database restart mid-run loses nothing.
// Tiny model, short fixed budgets, one libtorch thread per worker.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <regex>
#include <thread>

#include "support/test_database.h"
#include "support/worker_fleet.h"

namespace booth {
namespace {

using testing::ChildProcess;
using testing::waitFor;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Short leases and checkpoints: takeovers in seconds.
const std::vector<std::string> kFastFailover = {"--lease", "3", "--checkpoint-every", "1"};

class WorkerFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_failover_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    fleet_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }
  testing::WorkerFleet& fleet(const std::string& url) {
    fleet_ = std::make_unique<testing::WorkerFleet>(BOOTH_TRAINER_BIN, dir_, url);
    auto st = fleet_->open();
    EXPECT_TRUE(st.ok()) << st.error();
    return *fleet_;
  }
  JobState stateOf(const std::string& id) {
    auto j = fleet_->job(id);
    return j ? j->state : JobState::kReceiving;
  }
  // Training, with a checkpoint published.
  bool trainingWithCheckpoint(const std::string& id) {
    auto j = fleet_->job(id);
    return j && j->state == JobState::kTraining && !j->checkpoint_path.empty() &&
           j->generator_steps > 0;
  }
  std::vector<BlobInfo> clips() {
    auto listed = fleet_->clips();
    EXPECT_TRUE(listed.ok()) << listed.error();
    return listed.ok() ? listed.value() : std::vector<BlobInfo>{};
  }
  // What the worker printed at its clean stop: "stopped (N job(s) lost …".
  static int lostJobsReported(ChildProcess& worker) {
    std::smatch m;
    const std::string out = worker.output();
    if (!std::regex_search(out, m, std::regex("stopped \\((\\d+) job\\(s\\) lost"))) return -1;
    return std::stoi(m[1].str());
  }

  fs::path dir_;
  std::unique_ptr<testing::WorkerFleet> fleet_;
};

TEST_F(WorkerFailoverTest, AKilledWorkersJobResumesOnAnotherAndEndsWithOneClip) {
  testing::TestSchema schema;
  auto& f = fleet(schema.url());
  ASSERT_TRUE(f.queueJob("j1", 25).ok());
  ASSERT_TRUE(f.queueJob("j2", 25).ok());
  ChildProcess& a = f.startWorker("worker-a", kFastFailover);
  ChildProcess& b = f.startWorker("worker-b", kFastFailover);
  ASSERT_TRUE(a.waitForLine("WORKER_ID=", 60s) && b.waitForLine("WORKER_ID=", 60s)) << f.logs();
  // Both train; the one holding j1 dies once j1 has a checkpoint.
  ASSERT_TRUE(waitFor([&] { return trainingWithCheckpoint("j1"); }, 120s)) << f.logs();
  const JobRecord before = *f.job("j1");
  const bool a_has_it = a.output().find("job j1: worker worker-a starting") != std::string::npos;
  ChildProcess& victim = a_has_it ? a : b;
  ChildProcess& survivor = a_has_it ? b : a;
  const std::string survivor_name = a_has_it ? "worker-b" : "worker-a";
  victim.signal(SIGKILL);
  ASSERT_TRUE(victim.wait(10s).has_value());

  ASSERT_TRUE(waitFor([&] { return isFinished(stateOf("j1")) && isFinished(stateOf("j2")); },
                      240s))
      << f.logs();
  const JobRecord j1 = *f.job("j1");
  const JobRecord j2 = *f.job("j2");
  ASSERT_EQ(j1.state, JobState::kDone) << j1.detail << "\n" << f.logs();
  ASSERT_EQ(j2.state, JobState::kDone) << j2.detail << "\n" << f.logs();
  EXPECT_EQ(j1.attempts, 2) << "claimed by the dead worker, then by the survivor";
  EXPECT_GT(j1.fence, before.fence);
  EXPECT_GT(j1.generator_steps, before.generator_steps);
  EXPECT_DOUBLE_EQ(j1.train_budget_planned, before.train_budget_planned)
      << "the schedule went on where the checkpoint left it";
  EXPECT_NE(survivor.output().find("job j1: worker " + survivor_name + " starting"),
            std::string::npos);
  EXPECT_NE(survivor.output().find("resuming training"), std::string::npos) << survivor.output();
  // Exactly one clip per job, each the job's own.
  const auto all = clips();
  ASSERT_EQ(all.size(), 2u) << f.logs();
  for (const JobRecord& j : {j1, j2}) {
    const std::string key = "clips/" + j.clip_token + ".mp4";
    EXPECT_TRUE(all[0].key == key || all[1].key == key) << j.id;
  }
}

TEST_F(WorkerFailoverTest, AWorkerStoppedPastItsLeaseIsFencedAndPublishesNothing) {
  testing::TestSchema schema;
  auto& f = fleet(schema.url());
  ASSERT_TRUE(f.queueJob("j1", 25).ok());
  ChildProcess& a = f.startWorker("worker-a", kFastFailover);
  ASSERT_TRUE(a.waitForLine("WORKER_ID=", 60s)) << f.logs();
  ASSERT_TRUE(waitFor([&] { return trainingWithCheckpoint("j1"); }, 120s)) << f.logs();
  const std::uint64_t fence_a = f.job("j1")->fence;
  a.signal(SIGSTOP);
  // Past its lease, another worker takes the job over.
  ChildProcess& b = f.startWorker("worker-b", kFastFailover);
  ASSERT_TRUE(waitFor([&] {
    auto j = f.job("j1");
    return j && j->fence > fence_a && j->state == JobState::kTraining;
  }, 120s)) << f.logs();
  a.signal(SIGCONT);
  ASSERT_TRUE(waitFor([&] { return isFinished(stateOf("j1")); }, 180s)) << f.logs();
  const JobRecord j1 = *f.job("j1");
  ASSERT_EQ(j1.state, JobState::kDone) << j1.detail << "\n" << f.logs();
  const auto all = clips();
  ASSERT_EQ(all.size(), 1u) << f.logs();
  EXPECT_EQ(all[0].key, "clips/" + j1.clip_token + ".mp4");
  // The continued worker found out it lost the job, and said so.
  a.signal(SIGTERM);
  b.signal(SIGTERM);
  ASSERT_EQ(a.wait(60s).value_or(-999), 0) << a.output();
  ASSERT_EQ(b.wait(60s).value_or(-999), 0) << b.output();
  EXPECT_EQ(lostJobsReported(a), 1) << a.output();
  EXPECT_EQ(lostJobsReported(b), 0) << b.output();
  EXPECT_NE(a.output().find("stopped without publishing anything"), std::string::npos);
}

TEST_F(WorkerFailoverTest, ADatabaseRestartMidRunLosesNothing) {
  testing::PrivatePgServer server;
  auto& f = fleet(server.url());
  ASSERT_TRUE(f.queueJob("j1", 25).ok());
  // A lease longer than the outage: the worker keeps its job throughout.
  ChildProcess& a = f.startWorker("worker-a", {"--lease", "20", "--checkpoint-every", "1"});
  ASSERT_TRUE(a.waitForLine("WORKER_ID=", 60s)) << f.logs();
  ASSERT_TRUE(waitFor([&] { return trainingWithCheckpoint("j1"); }, 120s)) << f.logs();
  server.crash();
  std::this_thread::sleep_for(3s);
  server.restart();
  ASSERT_TRUE(waitFor([&] { return isFinished(stateOf("j1")); }, 180s)) << f.logs();
  const JobRecord j1 = *f.job("j1");
  ASSERT_EQ(j1.state, JobState::kDone) << j1.detail << "\n" << f.logs();
  EXPECT_EQ(j1.attempts, 1) << "never taken from its worker";
  EXPECT_EQ(clips().size(), 1u) << f.logs();
  EXPECT_TRUE(a.running()) << "the worker rode out the outage";
  EXPECT_NE(a.output().find("unavailable"), std::string::npos)
      << "the outage reached the worker:\n" << a.output();
}

}  // namespace
}  // namespace booth
