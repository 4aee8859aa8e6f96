// Retention: visitors' data goes when its time is up (injected clock), and
// nothing of a job still in progress is touched; the same rules over both
// queues (queue_backends.h): the embedded one with blobs in the data
// folder, and PostgreSQL with blobs in the database and the ingest's frames
// in the data folder. Each job's data lies in three places the sweeper must
// clear: frames in the data folder (DATA/sessions/<s>/node/cam0/1.rec),
// frames and the model in the blob store (sessions/<s>/node/cam1/frames.dat,
// sessions/<s>/generator.pt), and the clip and poster (clips/<token>.*).
// With the embedded stores the first two are one folder.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "queue_backends.h"
#include "trainer_node/retention/retention_sweeper.h"
#include "trainer_node/store/clip_names.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::int64_t kHour = 3600 * 1000;
constexpr std::int64_t kDay = 24 * kHour;

std::int64_t realNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// (Not "old" + std::to_string(i): GCC 12 warns falsely on that.)
std::string numbered(std::string prefix, int i) { return prefix.append(std::to_string(i)); }

template <class Backend>
class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = std::make_unique<testing::TestFolder>("booth_retention");
    // The database stamps blobs with its own clock: the test's "now"
    // starts at the real time, so fresh blobs are fresh to the sweeper.
    now_ = realNowMs();
    clock_.setWallMs(now_);
    queue_ = backend_.make(clock_, {});
    blobs_ = backend_.dataBlobs(dir());
    sessions_ = std::make_unique<SessionStore>(dir(), false);
    config_.keep_done = 72h;
    config_.keep_failed = 1h;
  }
  void TearDown() override {
    queue_.reset();
    blobs_.reset();
  }
  const fs::path& dir() const { return data_->path(); }
  JobQueue& queue() { return *queue_; }

  // A job in `state` whose last change (and session start) was `age_ms`
  // before now_, with its data in every place; `consent`: the visitor
  // agreed to improve the booth.
  JobRecord addJob(const std::string& id, JobState state, std::int64_t age_ms,
                   bool consent = false) {
    JobRecord j;
    j.id = id;
    j.session_id = "s-" + id;
    j.state = JobState::kReceiving;
    j.may_improve_booth = consent;
    j.created_ms = now_ - age_ms;
    clock_.setWallMs(now_ - age_ms);
    EXPECT_TRUE(queue().add(j).ok());
    walkTo(j, state);
    clock_.setWallMs(now_);
    const fs::path local = sessions_->sessionDir(j.session_id) / "node" / "cam0";
    fs::create_directories(local);
    std::ofstream(local / "1.rec") << "frames";
    put(blobFrames(j));
    put(modelKey(j));
    auto stored = queue().get(id);
    EXPECT_TRUE(stored.has_value());
    if (stored && stored->state == JobState::kDone) {
      put(clipBlobKey(stored->clip_token));
      put(posterBlobKey(stored->clip_token));
    }
    return stored.value_or(j);
  }
  void walkTo(const JobRecord& j, JobState state) {
    if (state == JobState::kReceiving) return;
    if (state == JobState::kFailed) {
      ASSERT_TRUE(queue().failIntake(j, "failed in a test").ok());
      return;
    }
    if (state == JobState::kCancelled) {
      ASSERT_TRUE(queue().cancel(j.id, "cancelled by the operator").ok());
      return;
    }
    ASSERT_TRUE(queue().enqueue(j).ok());
    if (state == JobState::kQueued) return;
    auto claimed = queue().claim("w-" + j.id, 30s);
    ASSERT_TRUE(claimed.ok() && claimed.value()) << "nothing to claim";
    const Claim c = claimed.value()->claim;
    const JobEvent stage =
        state == JobState::kTraining ? JobEvent::kStartTraining : JobEvent::kStartRendering;
    ASSERT_TRUE(queue().advance(c, stage, "").ok());
    if (state != JobState::kDone) return;
    JobClip clip;
    clip.clip_token = newClipToken();
    clip.clip_path = clipBlobKey(clip.clip_token);
    ASSERT_TRUE(queue().finish(c, clip).ok());
  }
  void put(const std::string& key) {
    auto st = blobs_->put(key, "bytes of " + key);
    ASSERT_TRUE(st.ok()) << st.error();
  }
  bool hasBlob(const std::string& key) {
    auto size = blobs_->size(key);
    EXPECT_TRUE(size.ok()) << size.error();
    return size.ok() && size.value().has_value();
  }
  static std::string blobFrames(const JobRecord& j) {
    return "sessions/" + j.session_id + "/node/cam1/frames.dat";
  }
  static std::string modelKey(const JobRecord& j) {
    return "sessions/" + j.session_id + "/generator.pt";
  }
  fs::path localFrames(const JobRecord& j) const {
    return sessions_->sessionDir(j.session_id) / "node" / "cam0" / "1.rec";
  }
  // 2: the frames are in both places; 0: in neither.
  int framesLeft(const JobRecord& j) {
    return (fs::exists(localFrames(j)) ? 1 : 0) + (hasBlob(blobFrames(j)) ? 1 : 0);
  }
  bool clipLeft(const JobRecord& j) {
    return hasBlob(clipBlobKey(j.clip_token)) || hasBlob(posterBlobKey(j.clip_token));
  }
  bool nothingLeft(const JobRecord& j) {
    return framesLeft(j) == 0 && !hasBlob(modelKey(j)) &&
           !fs::exists(sessions_->sessionDir(j.session_id)) &&
           (j.clip_token.empty() || !clipLeft(j));
  }
  JobRecord stored(const std::string& id) { return queue().get(id).value_or(JobRecord{}); }
  RetentionSweeper sweeper() {
    return RetentionSweeper(config_, queue(), *blobs_, *sessions_, [this] { return now_; });
  }
  // The sweeper's time moves; the queue's follows it.
  void advance(std::int64_t ms) {
    now_ += ms;
    clock_.setWallMs(now_);
  }

  std::unique_ptr<testing::TestFolder> data_;
  testing::SettableClock clock_;
  Backend backend_;
  std::unique_ptr<JobQueue> queue_;
  std::unique_ptr<BlobStore> blobs_;
  std::unique_ptr<SessionStore> sessions_;
  RetentionConfig config_;
  std::int64_t now_ = 0;  // wall-clock ms, injected
};

TYPED_TEST_SUITE(RetentionTest, testing::QueueBackends, testing::QueueBackendNames);

TYPED_TEST(RetentionTest, DoneJobsLoseFramesModelClipAndPosterAfterTheRetentionTime) {
  const JobRecord old_job = this->addJob("old1", JobState::kDone, 73 * kHour);
  const JobRecord young = this->addJob("young", JobState::kDone, 71 * kHour);
  auto r = this->sweeper().sweepOnce();
  EXPECT_FALSE(r.jobs_skipped);
  EXPECT_EQ(r.done_purged, 1);
  EXPECT_EQ(r.orphan_sessions + r.orphan_clips, 0) << "each deletion is counted once";
  EXPECT_TRUE(this->nothingLeft(old_job));
  EXPECT_EQ(this->stored("old1").purged_ms, this->now_);
  EXPECT_EQ(this->stored("old1").state, JobState::kExpired);
  EXPECT_EQ(this->framesLeft(young), 2);
  EXPECT_TRUE(this->hasBlob(TestFixture::modelKey(young)));
  EXPECT_TRUE(this->clipLeft(young));
  EXPECT_EQ(this->stored("young").purged_ms, 0);
  EXPECT_EQ(this->sweeper().sweepOnce().done_purged, 0) << "a purged job is not purged again";
}

TYPED_TEST(RetentionTest, ZeroRetentionKeepsDoneJobsUntilDeletedByHand) {
  this->config_.keep_done = 0s;
  const JobRecord j = this->addJob("ancient", JobState::kDone, 1000 * kHour);
  EXPECT_EQ(this->sweeper().sweepOnce().done_purged, 0);
  EXPECT_TRUE(this->clipLeft(j));
  ASSERT_TRUE(this->sweeper().purge(j).ok());
  EXPECT_TRUE(this->nothingLeft(j));
  EXPECT_NE(this->stored("ancient").purged_ms, 0);
}

TYPED_TEST(RetentionTest, FailedSessionsLoseTheirFramesSooner) {
  const JobRecord failed = this->addJob("fail", JobState::kFailed, 2 * kHour);
  const JobRecord cancelled = this->addJob("stop", JobState::kCancelled, 2 * kHour);
  const JobRecord fresh = this->addJob("fresh", JobState::kFailed, kHour / 2);
  auto r = this->sweeper().sweepOnce();
  EXPECT_EQ(r.failed_purged, 2);
  EXPECT_TRUE(this->nothingLeft(failed));
  EXPECT_TRUE(this->nothingLeft(cancelled));
  EXPECT_EQ(this->framesLeft(fresh), 2);
}

TYPED_TEST(RetentionTest, JobsInProgressAreNeverTouched) {
  std::vector<JobRecord> busy;
  for (JobState s : {JobState::kReceiving, JobState::kQueued, JobState::kTraining}) {
    busy.push_back(this->addJob(std::string("busy") + jobStateName(s), s, 500 * kHour));
    EXPECT_FALSE(this->sweeper().purge(busy.back()).ok());
  }
  this->advance(2 * kHour);  // their data is old too
  auto r = this->sweeper().sweepOnce();
  EXPECT_EQ(r.done_purged + r.failed_purged + r.orphan_sessions + r.orphan_clips, 0);
  for (const JobRecord& j : busy) {
    EXPECT_EQ(this->framesLeft(j), 2) << j.id;
    EXPECT_TRUE(this->hasBlob(TestFixture::modelKey(j))) << j.id;
  }
}

TYPED_TEST(RetentionTest, OrphanedSessionDataAndClipFilesGoOnceUntouchedForTheFailedTime) {
  // Frames of a session no job refers to (in the data folder and in the
  // blob store), and a clip of no job (a render whose job row is lost).
  fs::create_directories(this->sessions_->sessionDir("s-orphan") / "n" / "c");
  std::ofstream(this->sessions_->sessionDir("s-orphan") / "n" / "c" / "1.rec") << "x";
  this->put("sessions/s-orphan/generator.pt");
  this->put("sessions/s-blob-orphan/n/c/frames.dat");
  const std::string stray_clip = clipBlobKey(std::string(32, 'f'));
  this->put(stray_clip);
  const JobRecord kept = this->addJob("kept", JobState::kDone, 0);

  auto young = this->sweeper().sweepOnce();
  EXPECT_EQ(young.orphan_sessions + young.orphan_clips, 0) << "young orphans stay for now";
  EXPECT_TRUE(this->hasBlob(stray_clip));

  this->advance(2 * kHour);
  auto r = this->sweeper().sweepOnce();
  EXPECT_EQ(r.orphan_sessions, 2);
  EXPECT_EQ(r.orphan_clips, 1);
  EXPECT_FALSE(fs::exists(this->sessions_->sessionDir("s-orphan")));
  EXPECT_FALSE(this->hasBlob("sessions/s-orphan/generator.pt"));
  EXPECT_FALSE(this->hasBlob("sessions/s-blob-orphan/n/c/frames.dat"));
  EXPECT_FALSE(this->hasBlob(stray_clip));
  EXPECT_TRUE(this->clipLeft(kept));
  EXPECT_EQ(this->framesLeft(kept), 2);
}

// Another process purged the job (a front-end elsewhere), or a delete
// stopped half-way: what is left of an expired job's session goes at the
// next sweep, without waiting.
TYPED_TEST(RetentionTest, DataLeftBehindByAPurgedJobGoesAtTheNextSweep) {
  const JobRecord j = this->addJob("gone", JobState::kFailed, 0);
  ASSERT_TRUE(this->queue().expire("gone").ok());
  auto r = this->sweeper().sweepOnce();
  EXPECT_EQ(r.orphan_sessions, 1);
  EXPECT_TRUE(this->nothingLeft(j));
}

// Several processes share the queue: one sweeps the jobs and the blob store
// at a time; the others sweep only their own data folder meanwhile.
TYPED_TEST(RetentionTest, WhileAnotherProcessSweepsTheJobsAreLeftToIt) {
  const JobRecord j = this->addJob("old", JobState::kDone, 73 * kHour);
  {
    auto other = this->queue().tryRetentionLock();
    ASSERT_NE(other, nullptr);
    auto r = this->sweeper().sweepOnce();
    EXPECT_TRUE(r.jobs_skipped);
    EXPECT_EQ(r.done_purged, 0);
    EXPECT_TRUE(this->clipLeft(j));
  }
  auto r = this->sweeper().sweepOnce();
  EXPECT_FALSE(r.jobs_skipped);
  EXPECT_EQ(r.done_purged, 1);
  EXPECT_TRUE(this->nothingLeft(j));
}

TYPED_TEST(RetentionTest, APurgeAnotherProcessRecordedFirstIsDoneAndCountedOnce) {
  const JobRecord j = this->addJob("both", JobState::kDone, 73 * kHour);
  ASSERT_TRUE(this->sweeper().purge(j).ok());
  const std::int64_t purged = this->stored("both").purged_ms;
  this->advance(1000);
  EXPECT_TRUE(this->sweeper().purge(j).ok()) << "the same request from a stale copy";
  EXPECT_EQ(this->stored("both").purged_ms, purged);
  auto again = this->sweeper().purge(this->stored("both"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("already deleted"), std::string::npos) << again.error();
}

TYPED_TEST(RetentionTest, TwoSweepersAtOnceDeleteEachJobOnce) {
  for (int i = 0; i < 6; ++i) {
    this->addJob(numbered("old", i), JobState::kDone, 73 * kHour);
  }
  auto first = this->sweeper();
  auto second = this->sweeper();
  RetentionSweeper::Report a, b;
  std::thread one([&] { a = first.sweepOnce(); });
  std::thread two([&] { b = second.sweepOnce(); });
  one.join();
  two.join();
  EXPECT_EQ(a.done_purged + b.done_purged, 6);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(this->stored(numbered("old", i)).state, JobState::kExpired);
  }
}

// --- the visitor's consent ---

TYPED_TEST(RetentionTest, ConsentKeepsFramesAndPosesPastTheClipUntilItsTimeIsUp) {
  this->config_.keep_consented = std::chrono::hours(24 * 30);
  const JobRecord j = this->addJob("agree", JobState::kDone, 73 * kHour, /*consent=*/true);
  auto r = this->sweeper().sweepOnce();
  EXPECT_EQ(r.consent_kept, 1);
  EXPECT_EQ(r.done_purged, 0);
  EXPECT_EQ(r.orphan_sessions, 0);
  EXPECT_FALSE(this->clipLeft(j));
  EXPECT_FALSE(this->hasBlob(TestFixture::modelKey(j)));
  EXPECT_EQ(this->framesLeft(j), 2);
  JobRecord kept = this->stored("agree");
  EXPECT_EQ(kept.state, JobState::kExpired);
  EXPECT_EQ(kept.purged_ms, this->now_);
  EXPECT_EQ(kept.frames_purged_ms, 0);
  EXPECT_EQ(this->sweeper().framesKeptUntil(kept), j.created_ms + 30 * kDay);

  this->advance(j.created_ms + 30 * kDay - 1 - this->now_);
  EXPECT_EQ(this->sweeper().sweepOnce().consented_purged, 0);
  EXPECT_EQ(this->framesLeft(j), 2);
  this->advance(1);
  EXPECT_EQ(this->sweeper().sweepOnce().consented_purged, 1);
  EXPECT_TRUE(this->nothingLeft(j));
  EXPECT_EQ(this->stored("agree").frames_purged_ms, this->now_);
  EXPECT_EQ(this->sweeper().sweepOnce().consented_purged, 0) << "deleted once";
}

TYPED_TEST(RetentionTest, WithoutConsentFramesGoWithTheClip) {
  this->config_.keep_consented = std::chrono::hours(24 * 30);
  const JobRecord j = this->addJob("plain", JobState::kDone, 73 * kHour);
  EXPECT_EQ(this->sweeper().sweepOnce().done_purged, 1);
  EXPECT_TRUE(this->nothingLeft(j));
  EXPECT_EQ(this->stored("plain").frames_purged_ms, this->now_);
  EXPECT_FALSE(this->sweeper().framesKeptUntil(this->stored("plain")));
}

TYPED_TEST(RetentionTest, ZeroConsentedRetentionKeepsNothingPastTheClip) {
  this->config_.keep_consented = std::chrono::seconds(0);
  const JobRecord j = this->addJob("agree0", JobState::kDone, 73 * kHour, true);
  EXPECT_EQ(this->sweeper().sweepOnce().done_purged, 1);
  EXPECT_TRUE(this->nothingLeft(j));
}

TYPED_TEST(RetentionTest, ConsentKeepsNothingOfAFailedSession) {
  const JobRecord j = this->addJob("failagree", JobState::kFailed, 2 * kHour, true);
  EXPECT_EQ(this->sweeper().sweepOnce().failed_purged, 1);
  EXPECT_TRUE(this->nothingLeft(j));
  EXPECT_NE(this->stored("failagree").frames_purged_ms, 0);
}

TYPED_TEST(RetentionTest, WithdrawingDeletesTheFramesConsentKeptAtOnce) {
  const JobRecord j = this->addJob("change", JobState::kDone, 73 * kHour, true);
  ASSERT_EQ(this->sweeper().sweepOnce().consent_kept, 1);
  ASSERT_EQ(this->framesLeft(j), 2);
  this->advance(kHour);
  ASSERT_TRUE(this->sweeper().withdrawConsent(this->stored("change")).ok());
  EXPECT_TRUE(this->nothingLeft(j));
  const JobRecord after = this->stored("change");
  EXPECT_FALSE(after.may_improve_booth);
  EXPECT_EQ(after.consent_withdrawn_ms, this->now_);
  EXPECT_EQ(after.frames_purged_ms, this->now_);
  EXPECT_FALSE(this->sweeper().withdrawConsent(after).ok()) << "nothing left to withdraw";
}

TYPED_TEST(RetentionTest, WithdrawingBeforeTheClipExpiresLetsTheFramesGoWithIt) {
  const JobRecord j = this->addJob("early", JobState::kDone, kHour, true);
  ASSERT_TRUE(this->sweeper().withdrawConsent(j).ok());
  EXPECT_TRUE(this->clipLeft(j)) << "the clip stays until its time";
  EXPECT_EQ(this->framesLeft(j), 2);
  this->advance(72 * kHour);
  auto r = this->sweeper().sweepOnce();
  EXPECT_EQ(r.done_purged, 1);
  EXPECT_EQ(r.consent_kept, 0);
  EXPECT_TRUE(this->nothingLeft(j));
}

TYPED_TEST(RetentionTest, DeletingByHandRemovesTheFramesConsentKept) {
  const JobRecord j = this->addJob("erase", JobState::kDone, 73 * kHour, true);
  ASSERT_EQ(this->sweeper().sweepOnce().consent_kept, 1);
  ASSERT_TRUE(this->sweeper().purge(this->stored("erase")).ok());
  EXPECT_TRUE(this->nothingLeft(j));
  EXPECT_EQ(this->stored("erase").frames_purged_ms, this->now_);
  auto again = this->sweeper().purge(this->stored("erase"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("already deleted"), std::string::npos) << again.error();
}

}  // namespace
}  // namespace booth
