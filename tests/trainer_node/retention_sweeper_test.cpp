// Retention: visitors' data goes when its time is up (injected clock), and
// nothing of a job still in progress is touched.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>

#include "job_fixtures.h"
#include "trainer_node/http/clip_poster.h"
#include "trainer_node/retention/retention_sweeper.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::int64_t kHour = 3600 * 1000;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_retention_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "clips");
    auto s = JobStore::open((dir_ / "jobs.sqlite").string());
    ASSERT_TRUE(s.ok()) << s.error();
    store_ = std::move(s.value());
    sessions_ = std::make_unique<SessionStore>(dir_, false);
    config_.keep_done = 72h;
    config_.keep_failed = 1h;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  // A job whose session folder and (when done) clip and poster exist, all
  // written `age_ms` before now_.
  // `consent`: the visitor agreed to improve the booth. The session
  // started `age_ms` before now_ too.
  JobRecord addJob(const std::string& id, JobState state, std::int64_t age_ms,
                   bool consent = false) {
    JobRecord j;
    j.id = id;
    j.session_id = "s-" + id;
    j.state = state;
    j.may_improve_booth = consent;
    j.created_ms = now_ - age_ms;
    const fs::path session = sessions_->sessionDir(j.session_id);
    fs::create_directories(session / "node" / "cam0");
    touch(session / "node" / "cam0" / "1.rec", age_ms);
    touch(session / "generator.pt", age_ms);
    if (state == JobState::kDone) {
      j.clip_token = "0123456789abcdef0123456789ab" + id.substr(0, 4);
      j.clip_path = (dir_ / "clips" / (j.clip_token + ".mp4")).string();
      touch(j.clip_path, age_ms);
      touch(posterPath(j.clip_path), age_ms);
    }
    EXPECT_TRUE(test::insertInState(*store_, j).ok());
    setUpdated(id, now_ - age_ms);
    return *store_->get(id);
  }
  void touch(const fs::path& p, std::int64_t age_ms) {
    std::ofstream(p) << "x";
    const time_t t = static_cast<time_t>((now_ - age_ms) / 1000);
    utimbuf times{t, t};
    ::utime(p.c_str(), &times);
  }
  void setUpdated(const std::string& id, std::int64_t ms) {
    JobRecord j = *store_->get(id);
    ASSERT_TRUE(store_->update(j).ok());  // update() stamps updated_ms with the real clock,
    // so the test rewinds it through a second handle on the same file.
    sqlite3Exec("UPDATE jobs SET updated_ms = " + std::to_string(ms) + " WHERE id = '" + id + "'");
  }
  void sqlite3Exec(const std::string& sql);
  fs::path framesOf(const JobRecord& j) const {
    return sessions_->sessionDir(j.session_id) / "node" / "cam0" / "1.rec";
  }
  RetentionSweeper sweeper() {
    return RetentionSweeper(config_, *store_, *sessions_, dir_ / "clips", [this] { return now_; });
  }

  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<SessionStore> sessions_;
  RetentionConfig config_;
  std::int64_t now_ = 1'900'000'000'000;  // wall-clock ms, injected
};

}  // namespace
}  // namespace booth

#include <sqlite3.h>

namespace booth {
namespace {

void RetentionTest::sqlite3Exec(const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "jobs.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

TEST_F(RetentionTest, DoneJobsLoseFramesModelClipAndPosterAfterTheRetentionTime) {
  const JobRecord old_job = addJob("old1", JobState::kDone, 73 * kHour);
  const JobRecord young = addJob("young", JobState::kDone, 71 * kHour);
  auto r = sweeper().sweepOnce();
  EXPECT_EQ(r.done_purged, 1);
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(old_job.session_id)));
  EXPECT_FALSE(fs::exists(old_job.clip_path));
  EXPECT_FALSE(fs::exists(posterPath(old_job.clip_path)));
  EXPECT_EQ(store_->get("old1")->purged_ms, now_);
  EXPECT_EQ(store_->get("old1")->state, JobState::kExpired);
  EXPECT_TRUE(fs::exists(sessions_->sessionDir(young.session_id)));
  EXPECT_TRUE(fs::exists(young.clip_path));
  EXPECT_EQ(store_->get("young")->purged_ms, 0);
  EXPECT_EQ(sweeper().sweepOnce().done_purged, 0) << "a purged job is not purged again";
}

TEST_F(RetentionTest, ZeroRetentionKeepsDoneJobsUntilDeletedByHand) {
  config_.keep_done = 0s;
  const JobRecord j = addJob("ancient", JobState::kDone, 1000 * kHour);
  EXPECT_EQ(sweeper().sweepOnce().done_purged, 0);
  EXPECT_TRUE(fs::exists(j.clip_path));
  ASSERT_TRUE(sweeper().purge(j).ok());
  EXPECT_FALSE(fs::exists(j.clip_path));
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(j.session_id)));
  EXPECT_NE(store_->get("ancient")->purged_ms, 0);
}

TEST_F(RetentionTest, FailedSessionsLoseTheirFramesSooner) {
  const JobRecord failed = addJob("fail", JobState::kFailed, 2 * kHour);
  const JobRecord fresh = addJob("fresh", JobState::kFailed, kHour / 2);
  auto r = sweeper().sweepOnce();
  EXPECT_EQ(r.failed_purged, 1);
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(failed.session_id)));
  EXPECT_TRUE(fs::exists(sessions_->sessionDir(fresh.session_id)));
}

TEST_F(RetentionTest, JobsInProgressAreNeverTouched) {
  for (JobState s :
       {JobState::kReceiving, JobState::kQueued, JobState::kTraining, JobState::kRendering}) {
    const JobRecord j = addJob(std::string("busy") + jobStateName(s), s, 500 * kHour);
    EXPECT_FALSE(sweeper().purge(j).ok());
  }
  auto r = sweeper().sweepOnce();
  EXPECT_EQ(r.done_purged + r.failed_purged + r.orphan_sessions, 0);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "sessions"), fs::directory_iterator()), 4);
}

TEST_F(RetentionTest, OrphanedSessionFoldersAndClipFilesAreCleanedUp) {
  // Frames of a session no job refers to, a half-written clip of a failed
  // render, and their younger counterparts that must stay for now.
  fs::create_directories(sessions_->sessionDir("s-orphan") / "n" / "c");
  touch(sessions_->sessionDir("s-orphan") / "n" / "c" / "1.rec", 2 * kHour);
  touch(sessions_->sessionDir("s-orphan") / "n" / "c", 2 * kHour);
  touch(sessions_->sessionDir("s-orphan") / "n", 2 * kHour);
  touch(sessions_->sessionDir("s-orphan"), 2 * kHour);
  fs::create_directories(sessions_->sessionDir("s-new-orphan"));
  touch(sessions_->sessionDir("s-new-orphan") / "1.rec", 0);
  touch(dir_ / "clips" / "ffffffffffffffffffffffffffffffff.mp4", 2 * kHour);
  touch(dir_ / "clips" / "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.mp4", 0);
  const JobRecord kept = addJob("kept", JobState::kDone, 2 * kHour);

  auto r = sweeper().sweepOnce();
  EXPECT_EQ(r.orphan_sessions, 1);
  EXPECT_EQ(r.orphan_clips, 1);
  EXPECT_FALSE(fs::exists(sessions_->sessionDir("s-orphan")));
  EXPECT_TRUE(fs::exists(sessions_->sessionDir("s-new-orphan")));
  EXPECT_FALSE(fs::exists(dir_ / "clips" / "ffffffffffffffffffffffffffffffff.mp4"));
  EXPECT_TRUE(fs::exists(dir_ / "clips" / "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee.mp4"));
  EXPECT_TRUE(fs::exists(kept.clip_path));
  EXPECT_TRUE(fs::exists(posterPath(kept.clip_path)));
}

}  // namespace
}  // namespace booth

namespace booth {
namespace {

constexpr std::int64_t kDay = 24 * kHour;

TEST_F(RetentionTest, ConsentKeepsFramesAndPosesPastTheClipUntilItsTimeIsUp) {
  config_.keep_consented = std::chrono::hours(24 * 30);
  const JobRecord j = addJob("agree", JobState::kDone, 73 * kHour, /*consent=*/true);
  auto r = sweeper().sweepOnce();
  EXPECT_EQ(r.consent_kept, 1);
  EXPECT_EQ(r.done_purged, 0);
  EXPECT_EQ(r.orphan_sessions, 0);
  EXPECT_FALSE(fs::exists(j.clip_path));
  EXPECT_FALSE(fs::exists(posterPath(j.clip_path)));
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(j.session_id) / "generator.pt"));
  EXPECT_TRUE(fs::exists(framesOf(j)));
  JobRecord kept = *store_->get("agree");
  EXPECT_EQ(kept.state, JobState::kExpired);
  EXPECT_EQ(kept.purged_ms, now_);
  EXPECT_EQ(kept.frames_purged_ms, 0);
  EXPECT_EQ(sweeper().framesKeptUntil(kept), j.created_ms + 30 * kDay);

  now_ = j.created_ms + 30 * kDay - 1;
  EXPECT_EQ(sweeper().sweepOnce().consented_purged, 0);
  EXPECT_TRUE(fs::exists(framesOf(j)));
  now_ += 1;
  EXPECT_EQ(sweeper().sweepOnce().consented_purged, 1);
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(j.session_id)));
  EXPECT_EQ(store_->get("agree")->frames_purged_ms, now_);
  EXPECT_EQ(sweeper().sweepOnce().consented_purged, 0) << "deleted once";
}

TEST_F(RetentionTest, WithoutConsentFramesGoWithTheClip) {
  config_.keep_consented = std::chrono::hours(24 * 30);
  const JobRecord j = addJob("plain", JobState::kDone, 73 * kHour);
  EXPECT_EQ(sweeper().sweepOnce().done_purged, 1);
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(j.session_id)));
  EXPECT_EQ(store_->get("plain")->frames_purged_ms, now_);
  EXPECT_FALSE(sweeper().framesKeptUntil(*store_->get("plain")));
}

TEST_F(RetentionTest, ZeroConsentedRetentionKeepsNothingPastTheClip) {
  config_.keep_consented = std::chrono::seconds(0);
  const JobRecord j = addJob("agree0", JobState::kDone, 73 * kHour, true);
  EXPECT_EQ(sweeper().sweepOnce().done_purged, 1);
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(j.session_id)));
}

TEST_F(RetentionTest, ConsentKeepsNothingOfAFailedSession) {
  const JobRecord j = addJob("failagree", JobState::kFailed, 2 * kHour, true);
  EXPECT_EQ(sweeper().sweepOnce().failed_purged, 1);
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(j.session_id)));
  EXPECT_NE(store_->get("failagree")->frames_purged_ms, 0);
}

TEST_F(RetentionTest, WithdrawingDeletesTheFramesConsentKeptAtOnce) {
  const JobRecord j = addJob("change", JobState::kDone, 73 * kHour, true);
  ASSERT_EQ(sweeper().sweepOnce().consent_kept, 1);
  ASSERT_TRUE(fs::exists(framesOf(j)));
  now_ += kHour;
  ASSERT_TRUE(sweeper().withdrawConsent(*store_->get("change")).ok());
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(j.session_id)));
  const JobRecord after = *store_->get("change");
  EXPECT_FALSE(after.may_improve_booth);
  EXPECT_EQ(after.consent_withdrawn_ms, now_);
  EXPECT_EQ(after.frames_purged_ms, now_);
  EXPECT_FALSE(sweeper().withdrawConsent(after).ok()) << "nothing left to withdraw";
}

TEST_F(RetentionTest, WithdrawingBeforeTheClipExpiresLetsTheFramesGoWithIt) {
  const JobRecord j = addJob("early", JobState::kDone, kHour, true);
  ASSERT_TRUE(sweeper().withdrawConsent(j).ok());
  EXPECT_TRUE(fs::exists(j.clip_path)) << "the clip stays until its time";
  EXPECT_TRUE(fs::exists(framesOf(j)));
  now_ += 72 * kHour;
  auto r = sweeper().sweepOnce();
  EXPECT_EQ(r.done_purged, 1);
  EXPECT_EQ(r.consent_kept, 0);
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(j.session_id)));
}

TEST_F(RetentionTest, DeletingByHandRemovesTheFramesConsentKept) {
  const JobRecord j = addJob("erase", JobState::kDone, 73 * kHour, true);
  ASSERT_EQ(sweeper().sweepOnce().consent_kept, 1);
  ASSERT_TRUE(sweeper().purge(*store_->get("erase")).ok());
  EXPECT_FALSE(fs::exists(sessions_->sessionDir(j.session_id)));
  EXPECT_EQ(store_->get("erase")->frames_purged_ms, now_);
  auto again = sweeper().purge(*store_->get("erase"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("already deleted"), std::string::npos) << again.error();
}

}  // namespace
}  // namespace booth
