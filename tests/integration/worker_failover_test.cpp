// Several trainer workers as real processes (`trainer_node --roles worker
// --database …`) sharing one PostgreSQL queue and blob store (the private
// server of the `postgres` fixture): a worker killed with SIGKILL in the
// middle of training loses its job to another, which resumes it from its
// last checkpoint and ends it with exactly one clip; a worker stopped with
// SIGSTOP past its lease and then continued is fenced and publishes
// nothing; a database restart mid-run loses nothing. Tiny model, short
// fixed budgets, one libtorch thread per worker: seconds on a CPU.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <functional>
#include <optional>
#include <regex>
#include <thread>

#include "support/child_process.h"
#include "support/test_database.h"
#include "trainer_node/jobs/job_runner.h"
#include "trainer_node/pretrain/synthetic_corpus.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"
#include "trainer_node/store/session_store.h"

namespace booth {
namespace {

using testing::ChildProcess;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kNode = "node";
constexpr const char* kCamera = "cam0";
constexpr int kFrames = 40;

// Polls `done` every 100 ms until it holds or `timeout` passes.
bool waitFor(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return done();
}

class WorkerFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_failover_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    sessions_ = std::make_unique<SessionStore>(dir_ / "data", false);
  }
  void TearDown() override {
    workers_.clear();
    queue_.reset();
    blobs_.reset();
    db_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // The queue and blobs the workers share, in the database at `url`.
  void openDatabase(const std::string& url) {
    url_ = url;
    PgOptions options;
    options.url = url;
    auto db = PgDatabase::open(options);
    ASSERT_TRUE(db.ok()) << db.error();
    db_ = db.value();
    queue_ = std::make_unique<PgJobQueue>(db_);
    blobs_ = std::make_unique<PgBlobStore>(db_);
  }

  // A session in the shared data folder and its job, queued as the ingest
  // queues it.
  void queueJob(const std::string& id, double budget_seconds) {
    const std::string session = "session-" + id;
    PerformerLook small = *findPerformer("ada");
    const cv::Size size(160, 120);
    small.body.height_px = small.body.height_px * size.height / 480.f;
    const auto frames = syntheticSession(small, *findChoreography("warmup"), 3, kFrames / 15.0, 15,
                                         size, 90);
    ASSERT_TRUE(storeSyntheticSession(*sessions_, session, kNode, kCamera, frames).ok());
    JobRecord job;
    job.id = id;
    job.session_id = session;
    job.state = JobState::kReceiving;
    job.train_budget_seconds = budget_seconds;
    job.cameras = {{kNode, kCamera, kFrames}};
    ASSERT_TRUE(queue_->add(job).ok());
    auto queued = queue_->enqueue(job);
    ASSERT_TRUE(queued.ok()) << queued.message();
  }

  ChildProcess& startWorker(const std::string& name, int lease_seconds = 3) {
    std::vector<std::string> args = {
        "--roles", "worker", "--database", url_, "--data-dir", (dir_ / "data").string(),
        "--worker-id", name, "--lease", std::to_string(lease_seconds), "--fsync", "false",
        "--threads", "1", "--checkpoint-every", "1", "--resolution", "64", "--ngf", "8",
        "--ndf", "8", "--blocks", "1", "--clip-seconds", "1", "--clip-fps", "10",
        "--panel-size", "64"};
    workers_.push_back(std::make_unique<ChildProcess>(BOOTH_TRAINER_BIN, args,
                                                      (dir_ / (name + ".log")).string()));
    return *workers_.back();
  }

  std::optional<JobRecord> job(const std::string& id) { return queue_->get(id); }
  JobState stateOf(const std::string& id) {
    auto j = job(id);
    return j ? j->state : JobState::kReceiving;
  }
  // Training, with a checkpoint published.
  bool trainingWithCheckpoint(const std::string& id) {
    auto j = job(id);
    return j && j->state == JobState::kTraining && !j->checkpoint_path.empty() &&
           j->generator_steps > 0;
  }
  std::vector<BlobInfo> clips() {
    auto listed = blobs_->list("clips/");
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
  std::string logs() {
    std::string out;
    for (auto& w : workers_) out += w->output() + "\n-----\n";
    return out;
  }

  fs::path dir_;
  std::string url_;
  std::unique_ptr<SessionStore> sessions_;
  std::shared_ptr<PgDatabase> db_;
  std::unique_ptr<PgJobQueue> queue_;
  std::unique_ptr<PgBlobStore> blobs_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
};

TEST_F(WorkerFailoverTest, AKilledWorkersJobResumesOnAnotherAndEndsWithOneClip) {
  testing::TestSchema schema;
  openDatabase(schema.url());
  queueJob("j1", 25);
  queueJob("j2", 25);
  ChildProcess& a = startWorker("worker-a");
  ChildProcess& b = startWorker("worker-b");
  ASSERT_TRUE(a.waitForLine("WORKER_ID=", 60s) && b.waitForLine("WORKER_ID=", 60s)) << logs();
  // Both train; the one holding j1 dies once j1 has a checkpoint.
  ASSERT_TRUE(waitFor([&] { return trainingWithCheckpoint("j1"); }, 120s)) << logs();
  const JobRecord before = *job("j1");
  ChildProcess& victim = a.output().find("job j1: worker worker-a starting") != std::string::npos
                             ? a
                             : b;
  ChildProcess& survivor = &victim == &a ? b : a;
  victim.signal(SIGKILL);
  ASSERT_TRUE(victim.wait(10s).has_value());

  ASSERT_TRUE(waitFor([&] {
    return isFinished(stateOf("j1")) && isFinished(stateOf("j2"));
  }, 240s)) << logs();
  const JobRecord j1 = *job("j1");
  const JobRecord j2 = *job("j2");
  ASSERT_EQ(j1.state, JobState::kDone) << j1.detail << "\n" << logs();
  ASSERT_EQ(j2.state, JobState::kDone) << j2.detail << "\n" << logs();
  EXPECT_EQ(j1.attempts, 2) << "claimed by the dead worker, then by the survivor";
  EXPECT_GT(j1.fence, before.fence);
  EXPECT_GT(j1.generator_steps, before.generator_steps);
  EXPECT_DOUBLE_EQ(j1.train_budget_planned, before.train_budget_planned)
      << "the schedule went on where the checkpoint left it";
  EXPECT_NE(survivor.output().find("job j1: worker " +
                                   std::string(&survivor == &a ? "worker-a" : "worker-b") +
                                   " starting"),
            std::string::npos);
  EXPECT_NE(survivor.output().find("resuming training"), std::string::npos) << survivor.output();
  // Exactly one clip per job, each the job's own.
  const auto all = clips();
  ASSERT_EQ(all.size(), 2u) << logs();
  for (const JobRecord& j : {j1, j2}) {
    EXPECT_TRUE(all[0].key == "clips/" + j.clip_token + ".mp4" ||
                all[1].key == "clips/" + j.clip_token + ".mp4")
        << j.id;
  }
}

TEST_F(WorkerFailoverTest, AWorkerStoppedPastItsLeaseIsFencedAndPublishesNothing) {
  testing::TestSchema schema;
  openDatabase(schema.url());
  queueJob("j1", 25);
  ChildProcess& a = startWorker("worker-a");
  ASSERT_TRUE(a.waitForLine("WORKER_ID=", 60s)) << logs();
  ASSERT_TRUE(waitFor([&] { return trainingWithCheckpoint("j1"); }, 120s)) << logs();
  const std::uint64_t fence_a = job("j1")->fence;
  a.signal(SIGSTOP);
  // Past its lease, another worker takes the job over.
  ChildProcess& b = startWorker("worker-b");
  ASSERT_TRUE(waitFor([&] {
    auto j = job("j1");
    return j && j->fence > fence_a && j->state == JobState::kTraining;
  }, 120s)) << logs();
  a.signal(SIGCONT);
  ASSERT_TRUE(waitFor([&] { return isFinished(stateOf("j1")); }, 180s)) << logs();
  const JobRecord j1 = *job("j1");
  ASSERT_EQ(j1.state, JobState::kDone) << j1.detail << "\n" << logs();
  const auto all = clips();
  ASSERT_EQ(all.size(), 1u) << logs();
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
  openDatabase(server.url());
  queueJob("j1", 25);
  ChildProcess& a = startWorker("worker-a", /*lease_seconds=*/20);
  ASSERT_TRUE(a.waitForLine("WORKER_ID=", 60s)) << logs();
  ASSERT_TRUE(waitFor([&] { return trainingWithCheckpoint("j1"); }, 120s)) << logs();
  server.crash();
  std::this_thread::sleep_for(3s);
  server.restart();
  ASSERT_TRUE(waitFor([&] { return isFinished(stateOf("j1")); }, 180s)) << logs();
  const JobRecord j1 = *job("j1");
  ASSERT_EQ(j1.state, JobState::kDone) << j1.detail << "\n" << logs();
  EXPECT_EQ(clips().size(), 1u) << logs();
  EXPECT_TRUE(a.running()) << "the worker rode out the outage";
}

}  // namespace
}  // namespace booth
