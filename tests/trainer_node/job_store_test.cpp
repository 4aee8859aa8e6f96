// JobStore: the SQLite job queue.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>
#include <tuple>

#include <sqlite3.h>

#include "job_fixtures.h"
#include "trainer_node/store/job_store.h"

namespace booth {
namespace {

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("booth_jobs_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    auto s = JobStore::open((dir_ / "jobs.sqlite").string());
    ASSERT_TRUE(s.ok()) << s.error();
    store_ = std::move(s.value());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  static JobRecord job(const std::string& id, JobState state, std::int64_t created) {
    JobRecord j;
    j.id = id;
    j.session_id = "s-" + id;
    j.state = state;
    j.created_ms = created;
    if (state == JobState::kDone) j.clip_token = "clip-" + id;
    return j;
  }
  Status add(const JobRecord& j) { return test::insertInState(*store_, j); }
  std::filesystem::path dir_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(JobStoreTest, InsertThenGetKeepsEveryField) {
  JobRecord j = job("a", JobState::kReceiving, 1000);
  j.generator_steps = 900;
  j.face_steps = 2350;
  j.generator_steps_per_second = 4.5;
  j.face_steps_per_second = 101.5;
  j.loss_g = 1.5f;
  j.eta_seconds = 42.5;
  j.cameras = {{"n", "cam0", 450}, {"n", "cam1", 0}};
  j.nodes = {"n"};
  j.clip_token = "abc";
  j.train_seconds = 99.5;
  ASSERT_TRUE(add(j).ok());
  auto back = store_->get("a");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->session_id, "s-a");
  EXPECT_EQ(back->state, JobState::kReceiving);
  EXPECT_EQ(back->generator_steps, 900);
  EXPECT_EQ(back->face_steps, 2350);
  EXPECT_DOUBLE_EQ(back->generator_steps_per_second, 4.5);
  EXPECT_DOUBLE_EQ(back->face_steps_per_second, 101.5);
  EXPECT_FLOAT_EQ(back->loss_g, 1.5f);
  EXPECT_DOUBLE_EQ(back->eta_seconds, 42.5);
  EXPECT_EQ(back->cameras, j.cameras);
  EXPECT_EQ(back->nodes, j.nodes);
  EXPECT_DOUBLE_EQ(back->train_seconds, 99.5);
  EXPECT_EQ(store_->byClipToken("abc")->id, "a");
  EXPECT_EQ(store_->bySession("s-a")->id, "a");
  EXPECT_FALSE(store_->get("missing").has_value());
}

TEST_F(JobStoreTest, ClaimNextTakesTheOldestQueuedAndCountsAnAttempt) {
  ASSERT_TRUE(add(job("new", JobState::kQueued, 3000)).ok());
  ASSERT_TRUE(add(job("old", JobState::kQueued, 1000)).ok());
  ASSERT_TRUE(add(job("busy", JobState::kTraining, 500)).ok());
  auto claimed = store_->claimNext();
  ASSERT_TRUE(claimed.ok()) << claimed.error();
  ASSERT_TRUE(claimed.value());
  EXPECT_EQ(claimed.value()->id, "old");
  EXPECT_EQ(claimed.value()->state, JobState::kClaimed);
  EXPECT_EQ(store_->get("old")->attempts, 1);
  EXPECT_EQ(store_->queuePosition("new"), 1);
  EXPECT_EQ(store_->claimNext().value()->id, "new");
  EXPECT_FALSE(store_->claimNext().value());
}

TEST_F(JobStoreTest, AWorkerThatLostItsClaimCannotWriteAnyMore) {
  ASSERT_TRUE(add(job("a", JobState::kQueued, 1)).ok());
  JobRecord lost = *store_->claimNext().value();  // fence 1
  EXPECT_EQ(lost.fence, 1u);
  // Its worker is gone; the job is recovered and claimed again.
  ASSERT_TRUE(store_->transition("a", JobEvent::kRecover).ok());
  JobRecord winner = *store_->claimNext().value();
  EXPECT_EQ(winner.fence, 2u);
  lost.progress = 0.9;
  auto st = store_->update(lost);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("claimed again since this copy was read (fence 1, now 2)"),
            std::string::npos)
      << st.error();
  EXPECT_FALSE(store_->transition(lost, JobEvent::kStartTraining).ok());
  EXPECT_DOUBLE_EQ(store_->get("a")->progress, 0);
  EXPECT_EQ(store_->get("a")->state, JobState::kClaimed);
  winner.progress = 0.1;
  EXPECT_TRUE(store_->update(winner).ok());
  EXPECT_TRUE(store_->transition(winner, JobEvent::kStartTraining).ok());
}

TEST_F(JobStoreTest, InsertTakesOnlyNewJobs) {
  auto st = store_->insert(job("a", JobState::kDone, 1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("starts receiving, not done"), std::string::npos) << st.error();
  EXPECT_FALSE(store_->get("a"));
}

TEST_F(JobStoreTest, UpdateNeverChangesTheStateAndUnknownIdFails) {
  ASSERT_TRUE(add(job("a", JobState::kQueued, 1)).ok());
  JobRecord j = *store_->get("a");
  j.state = JobState::kDone;
  auto st = store_->update(j);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("it is queued now, not done"), std::string::npos) << st.error();
  EXPECT_EQ(store_->get("a")->state, JobState::kQueued);
  j.id = "ghost";
  EXPECT_FALSE(store_->update(j).ok());
}

TEST_F(JobStoreTest, TransitionAppliesTheStateMachineToTheStoredState) {
  ASSERT_TRUE(add(job("a", JobState::kQueued, 1)).ok());
  JobRecord stale = *store_->get("a");
  ASSERT_TRUE(store_->transition("a", JobEvent::kCancel).ok());
  // The caller's copy still says queued; the store knows better.
  stale.progress = 0.5;
  auto st = store_->transition(stale, JobEvent::kClaim);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("is cancelled: cannot claim"), std::string::npos) << st.error();
  EXPECT_EQ(stale.state, JobState::kQueued);  // unchanged on refusal
  auto now = store_->get("a");
  EXPECT_EQ(now->state, JobState::kCancelled);
  EXPECT_EQ(now->detail, "cancelled by the operator");
  EXPECT_DOUBLE_EQ(now->progress, 0);
}

TEST_F(JobStoreTest, ListIsNewestFirst) {
  ASSERT_TRUE(add(job("a", JobState::kDone, 1)).ok());
  ASSERT_TRUE(add(job("b", JobState::kDone, 2)).ok());
  auto all = store_->list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, "b");
}

TEST_F(JobStoreTest, AChangeTheDiskCannotTakeIsShownAndWrittenLater) {
  ASSERT_TRUE(add(job("a", JobState::kTraining, 1)).ok());
  std::vector<std::string> heard;
  store_->addObserver([&](const std::string& id) { heard.push_back(id); });
  store_->simulateFullDiskForTest(true);
  JobRecord a = *store_->get("a");
  ASSERT_TRUE(store_->transition(a, JobEvent::kFail, "disk full: no space").ok());
  EXPECT_EQ(store_->pendingWrites(), 1);
  EXPECT_EQ(store_->get("a")->state, JobState::kFailed);  // shown as it will be
  EXPECT_EQ(store_->withState(JobState::kTraining).size(), 0u);
  EXPECT_EQ(store_->retryPending(), 1);  // still full
  store_->simulateFullDiskForTest(false);
  EXPECT_EQ(store_->retryPending(), 0);
  store_.reset();  // what is on disk now, without the memory
  auto again = JobStore::open((dir_ / "jobs.sqlite").string());
  ASSERT_TRUE(again.ok()) << again.error();
  auto back = again.value()->get("a");
  EXPECT_EQ(back->state, JobState::kFailed);
  EXPECT_EQ(back->detail, "disk full: no space");
  EXPECT_EQ(heard.back(), "a");
}

TEST_F(JobStoreTest, SurvivesReopen) {
  ASSERT_TRUE(add(job("a", JobState::kQueued, 1)).ok());
  store_.reset();
  auto again = JobStore::open((dir_ / "jobs.sqlite").string());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again.value()->get("a").has_value());
}

TEST_F(JobStoreTest, CancelSurvivesARunnerSavingProgress) {
  ASSERT_TRUE(add(job("a", JobState::kTraining, 1000)).ok());
  JobRecord j = *store_->get("a");
  EXPECT_FALSE(store_->cancelRequested("a"));
  ASSERT_TRUE(store_->requestCancel("a").ok());
  j.progress = 0.5;
  ASSERT_TRUE(store_->update(j).ok());  // the runner's next save
  EXPECT_TRUE(store_->cancelRequested("a"));
  EXPECT_FALSE(store_->requestCancel("nope").ok());
}

// --- the visitor's consent to improve the booth ---

TEST_F(JobStoreTest, ConsentIsOffUnlessGiven) {
  ASSERT_TRUE(add(job("plain", JobState::kReceiving, 1000)).ok());
  EXPECT_FALSE(store_->get("plain")->may_improve_booth);
  EXPECT_FALSE(consentHolds(*store_->get("plain")));
  JobRecord agreed = job("agreed", JobState::kReceiving, 1000);
  agreed.may_improve_booth = true;
  ASSERT_TRUE(add(agreed).ok());
  EXPECT_TRUE(consentHolds(*store_->get("agreed")));
}

TEST_F(JobStoreTest, AWriterHoldingAnOldCopyCannotChangeTheConsent) {
  JobRecord j = job("a", JobState::kTraining, 1000);
  j.may_improve_booth = true;
  ASSERT_TRUE(add(j).ok());
  JobRecord copy = *store_->get("a");
  ASSERT_TRUE(store_->withdrawConsent("a", 5000).ok());
  copy.progress = 0.5;
  ASSERT_TRUE(store_->update(copy).ok());  // the runner's save from its old copy
  ASSERT_TRUE(store_->transition(copy, JobEvent::kStartRendering).ok());
  const JobRecord now = *store_->get("a");
  EXPECT_FALSE(now.may_improve_booth);
  EXPECT_EQ(now.consent_withdrawn_ms, 5000);
  EXPECT_DOUBLE_EQ(now.progress, 0.5);
  EXPECT_FALSE(store_->withdrawConsent("missing", 1).ok());
}

TEST_F(JobStoreTest, ExpiringKeepsTheFramesOnlyWhenAsked) {
  ASSERT_TRUE(add(job("all", JobState::kDone, 1000)).ok());
  ASSERT_TRUE(add(job("kept", JobState::kDone, 2000)).ok());
  ASSERT_TRUE(store_->expire("all", 7000).ok());
  ASSERT_TRUE(store_->expire("kept", 7000, /*frames_kept=*/true).ok());
  EXPECT_EQ(store_->get("all")->frames_purged_ms, 7000);
  EXPECT_EQ(store_->get("kept")->frames_purged_ms, 0);
  EXPECT_EQ(store_->get("kept")->purged_ms, 7000);
  auto kept = store_->framesKept();
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].id, "kept");
  ASSERT_TRUE(store_->markFramesPurged("kept", 9000).ok());
  EXPECT_EQ(store_->get("kept")->frames_purged_ms, 9000);
  EXPECT_TRUE(store_->framesKept().empty());
}

TEST(JobStore, JobsPurgedBeforeConsentExistedLostTheirFrames) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("booth_jobs_consent_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "jobs.sqlite").string();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE jobs (id TEXT PRIMARY KEY, session_id TEXT, state TEXT, "
                           "purged_ms INTEGER);"
                           "INSERT INTO jobs VALUES ('gone', 's-gone', 'expired', 500);"
                           "INSERT INTO jobs VALUES ('live', 's-live', 'done', 0);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = JobStore::open(path);
  ASSERT_TRUE(store.ok()) << store.error();
  EXPECT_EQ(store.value()->get("gone")->frames_purged_ms, 500);
  EXPECT_EQ(store.value()->get("live")->frames_purged_ms, 0);
  EXPECT_FALSE(store.value()->get("live")->may_improve_booth);
  EXPECT_TRUE(store.value()->framesKept().empty());
  store.value().reset();
  std::filesystem::remove_all(dir);
}

TEST(JobStore, OlderDatabaseGainsNewColumns) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("booth_jobs_old_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "jobs.sqlite").string();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE jobs (id TEXT PRIMARY KEY, session_id TEXT, state TEXT);"
                           "INSERT INTO jobs VALUES ('old', 's-old', 'done');"
                           "ALTER TABLE jobs ADD COLUMN detail TEXT;"
                           "INSERT INTO jobs VALUES ('c', 's-c', 'failed', "
                           "'cancelled by the operator');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = JobStore::open(path);
  ASSERT_TRUE(store.ok()) << store.error();
  auto old = store.value()->get("old");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->state, JobState::kDone);
  EXPECT_EQ(old->clip_token, "");
  EXPECT_FALSE(store.value()->cancelRequested("old"));
  EXPECT_EQ(store.value()->get("c")->state, JobState::kCancelled);
  store.value().reset();
  std::filesystem::remove_all(dir);
}

TEST(JobStore, UnopenablePathIsAClearError) {
  auto s = JobStore::open("/nonexistent-dir/jobs.sqlite");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("/nonexistent-dir/jobs.sqlite"), std::string::npos) << s.error();
}


// --- observer hook, cancel of queued jobs, purge, counts (HTTP and retention) ---

TEST_F(JobStoreTest, ObserversHearEveryWriteUntilRemoved) {
  std::vector<std::string> heard;
  const auto id = store_->addObserver([&](const std::string& job) { heard.push_back(job); });
  ASSERT_TRUE(add(job("a", JobState::kQueued, 1)).ok());
  heard.clear();  // the walk to queued was heard too
  JobRecord a = *store_->get("a");
  a.progress = 0.5;
  ASSERT_TRUE(store_->update(a).ok());
  ASSERT_TRUE(store_->requestCancel("a").ok());
  ASSERT_TRUE(store_->transition("a", JobEvent::kCancel).ok());
  ASSERT_TRUE(store_->expire("a", 5).ok());
  EXPECT_EQ(heard, (std::vector<std::string>{"a", "a", "a", "a"}));
  EXPECT_FALSE(store_->update(job("missing", JobState::kQueued, 1)).ok());
  EXPECT_FALSE(store_->transition("a", JobEvent::kClaim).ok());
  EXPECT_EQ(heard.size(), 4u) << "a failed write is not news";
  store_->removeObserver(id);
  ASSERT_TRUE(add(job("b", JobState::kQueued, 2)).ok());
  EXPECT_EQ(heard.size(), 4u);
}

TEST_F(JobStoreTest, FinishedBeforeListsUnpurgedJobsOfOneStateOldestFirst) {
  for (auto [id, state, updated] : std::vector<std::tuple<std::string, JobState, std::int64_t>>{
           {"old-done", JobState::kDone, 100},
           {"older-done", JobState::kDone, 50},
           {"new-done", JobState::kDone, 900},
           {"old-failed", JobState::kFailed, 100},
           {"old-training", JobState::kTraining, 100}}) {
    ASSERT_TRUE(add(job(id, state, 1)).ok());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "jobs.sqlite").c_str(), &db), SQLITE_OK);
    const std::string sql =
        "UPDATE jobs SET updated_ms = " + std::to_string(updated) + " WHERE id = '" + id + "'";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto done = store_->finishedBefore(JobState::kDone, 500);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].id, "older-done");
  EXPECT_EQ(done[1].id, "old-done");
  ASSERT_TRUE(store_->expire("older-done", 600).ok());
  EXPECT_EQ(store_->get("older-done")->state, JobState::kExpired);
  done = store_->finishedBefore(JobState::kDone, 500);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, "old-done");
  EXPECT_EQ(store_->get("older-done")->purged_ms, 600);
  auto failed = store_->finishedBefore(JobState::kFailed, 500);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].id, "old-failed");
  EXPECT_FALSE(store_->expire("missing", 1).ok());
  EXPECT_FALSE(store_->expire("old-training", 1).ok());
}

TEST_F(JobStoreTest, CountByStateCountsEachState) {
  ASSERT_TRUE(add(job("a", JobState::kQueued, 1)).ok());
  ASSERT_TRUE(add(job("b", JobState::kQueued, 2)).ok());
  ASSERT_TRUE(add(job("c", JobState::kDone, 3)).ok());
  const auto counts = store_->countByState();
  EXPECT_EQ(counts.at(JobState::kQueued), 2);
  EXPECT_EQ(counts.at(JobState::kDone), 1);
  EXPECT_EQ(counts.count(JobState::kTraining), 0u);
}

TEST_F(JobStoreTest, KeepsTheResumeBookkeeping) {
  JobRecord j = job("r", JobState::kTraining, 1000);
  j.budget_spent_seconds = 42.5;
  j.train_budget_planned = 280;
  j.resume_phase = "training";
  j.checkpoint_path = "/data/sessions/s-r/train_state.pt";
  j.model_path = "/data/sessions/s-r/generator.pt";
  ASSERT_TRUE(add(j).ok());
  auto back = store_->get("r");
  ASSERT_TRUE(back);
  EXPECT_DOUBLE_EQ(back->budget_spent_seconds, 42.5);
  EXPECT_DOUBLE_EQ(back->train_budget_planned, 280);
  EXPECT_EQ(back->resume_phase, "training");
  EXPECT_EQ(back->checkpoint_path, j.checkpoint_path);
  EXPECT_EQ(back->model_path, j.model_path);
}

TEST_F(JobStoreTest, ListsJobsInOneStateOldestFirst) {
  ASSERT_TRUE(add(job("b", JobState::kTraining, 2000)).ok());
  ASSERT_TRUE(add(job("a", JobState::kTraining, 1000)).ok());
  ASSERT_TRUE(add(job("c", JobState::kRendering, 500)).ok());
  const auto training = store_->withState(JobState::kTraining);
  ASSERT_EQ(training.size(), 2u);
  EXPECT_EQ(training[0].id, "a");
  EXPECT_EQ(training[1].id, "b");
  EXPECT_EQ(store_->withState(JobState::kDone).size(), 0u);
}

}  // namespace
}  // namespace booth
