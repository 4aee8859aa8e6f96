// NodeRegistry and SessionIntake on their own, without sockets: a manual
// clock, an embedded job queue in a temporary folder and a recording
// messenger stand in for the transport.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <vector>

#include "intake_fixtures.h"
#include "trainer_node/ingest/node_registry.h"
#include "trainer_node/ingest/session_intake.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/session_store.h"
#include "trainer_node/store/job_store.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::oneNode;
using test::rawFrame;
using test::RecordingMessenger;

v2::Hello hello(const std::string& node_id, const std::vector<std::string>& cameras = {"cam0"}) {
  v2::Hello h;
  h.set_node_id(node_id);
  for (const auto& c : cameras) h.add_cameras()->set_camera_id(c);
  return h;
}

TEST(NodeRegistry, AHelloRegistersTheNodeWithItsCameras) {
  ManualClock clock;
  NodeRegistry registry(clock);
  EXPECT_FALSE(registry.hello("r1", "", false, hello("booth-1", {"cam0", "cam1"})));
  ASSERT_NE(registry.find("r1"), nullptr);
  EXPECT_EQ(registry.find("r1")->node_id, "booth-1");
  ASSERT_EQ(registry.snapshot().size(), 1u);
  EXPECT_EQ(registry.snapshot()[0].cameras.size(), 2u);
  EXPECT_TRUE(registry.connected("booth-1"));
}

TEST(NodeRegistry, BadHellosAreRefusedWithTheReasonAndCounted) {
  ManualClock clock;
  NodeRegistry registry(clock);
  auto bad_id = registry.hello("r1", "", false, hello("booth 1"));
  ASSERT_TRUE(bad_id);
  EXPECT_NE(bad_id->answer.find("'booth 1'"), std::string::npos) << bad_id->answer;
  auto bad_camera = registry.hello("r1", "", false, hello("booth-1", {"../cam"}));
  ASSERT_TRUE(bad_camera);
  EXPECT_NE(bad_camera->answer.find("camera id"), std::string::npos) << bad_camera->answer;
  auto other_key = registry.hello("r1", "booth-2", true, hello("booth-1"));
  ASSERT_TRUE(other_key);
  EXPECT_NE(other_key->answer.find("--node-id booth-2"), std::string::npos) << other_key->answer;
  EXPECT_EQ(registry.refusedHellos(), 3u);
  EXPECT_TRUE(registry.empty()) << "a refused Hello registers nothing";
}

TEST(NodeRegistry, ARestartedNodeReplacesItsOldConnection) {
  ManualClock clock;
  NodeRegistry registry(clock);
  ASSERT_FALSE(registry.hello("old", "", false, hello("booth-1")));
  ASSERT_FALSE(registry.hello("new", "", false, hello("booth-1")));
  EXPECT_EQ(registry.find("old"), nullptr);
  EXPECT_EQ(registry.routesOf("booth-1"), std::vector<std::string>{"new"});
}

TEST(NodeRegistry, SilentNodesAreDropped) {
  ManualClock clock;
  NodeRegistry registry(clock);
  ASSERT_FALSE(registry.hello("r1", "", false, hello("quiet")));
  ASSERT_FALSE(registry.hello("r2", "", false, hello("chatty")));
  clock.advance(4s);
  registry.touch(*registry.find("r2"));
  clock.advance(2s);
  registry.dropSilent(5s);
  EXPECT_FALSE(registry.connected("quiet"));
  EXPECT_TRUE(registry.connected("chatty"));
}

// A session store that can be made to fail like a database that went away:
// totals() and/or sync() answer "PostgreSQL unavailable while ..." while set.
class OutageSink final : public SessionSink {
 public:
  explicit OutageSink(SessionSink& inner) : inner_(inner) {}
  bool totals_fail = false;
  bool sync_fail = false;
  int syncs = 0;
  Result<bool> writeFrame(const std::string& s, const std::string& n, const std::string& c,
                          const FrameToAppend& f) override {
    return inner_.writeFrame(s, n, c, f);
  }
  Result<bool> writePose(const std::string& s, const std::string& n, const PoseRecord& p) override {
    return inner_.writePose(s, n, p);
  }
  Status sync() override {
    ++syncs;
    if (sync_fail) return fail("PostgreSQL unavailable while publishing segments: test outage");
    return inner_.sync();
  }
  void close(const std::string& s) override { inner_.close(s); }
  Result<CameraTotals> totals(const std::string& s, const std::string& n,
                              const std::string& c) override {
    if (totals_fail) return fail("PostgreSQL unavailable while listing segments: test outage");
    return inner_.totals(s, n, c);
  }
  std::string location() const override { return "the blob store (test)"; }

 private:
  SessionSink& inner_;
};

class SessionIntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_intake_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(JobStore::open((dir_ / "jobs.sqlite").string()).value());
    queue_ = std::make_unique<EmbeddedJobQueue>(*store_);
    sessions_ = std::make_unique<SessionStore>(dir_, /*fsync=*/false);
    outage_ = std::make_unique<OutageSink>(*sessions_);
    config_.session_stall_timeout = 10s;
    intake_ = std::make_unique<SessionIntake>(config_, *queue_, *outage_, clock_);
  }
  void TearDown() override {
    intake_.reset();
    fs::remove_all(dir_);
  }
  // The manifest of what the session store holds for booth-1's cam0.
  v2::SessionManifest manifestOf(const std::string& session) {
    const CameraTotals totals = sessions_->totals(session, "booth-1", "cam0").value();
    v2::SessionManifest m;
    m.set_session_id(session);
    auto* cam = m.add_cameras();
    cam->set_camera_id("cam0");
    cam->set_frame_count(totals.frames);
    cam->set_checksum(totals.checksum);
    cam->set_pose_count(totals.poses);
    return m;
  }

  fs::path dir_;
  ManualClock clock_;
  IngestConfig config_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<EmbeddedJobQueue> queue_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<OutageSink> outage_;  // over sessions_; the intake's sink
  std::unique_ptr<SessionIntake> intake_;
  RecordingMessenger out_;
};

TEST_F(SessionIntakeTest, AVerifiedSessionIsQueuedThroughTheJobQueue) {
  auto job = intake_->open(SessionRequest{2, 0, ""}, oneNode(), out_);
  ASSERT_TRUE(job.ok()) << job.error();
  ASSERT_EQ(out_.sent["booth-1"].size(), 1u);
  EXPECT_TRUE(out_.sent["booth-1"][0].has_session_start());
  EXPECT_EQ(queue_->get(job->id)->state, JobState::kReceiving);
  for (std::uint64_t s = 0; s < 3; ++s) {
    const RecordAnswer a = intake_->frame("booth-1", rawFrame(job->session_id, s));
    EXPECT_TRUE(a.ok) << a.error;
  }
  ASSERT_TRUE(intake_->sync().ok());
  v2::Envelope reply;
  intake_->manifest("booth-1", manifestOf(job->session_id),
                    [&](const v2::Envelope& env) { reply = env; }, out_);
  ASSERT_TRUE(reply.has_manifest_ack());
  EXPECT_TRUE(reply.manifest_ack().ok()) << reply.manifest_ack().error();
  const auto queued = queue_->get(job->id);
  EXPECT_EQ(queued->state, JobState::kQueued);
  EXPECT_EQ(queued->frames_received, 3);
  EXPECT_EQ(intake_->framesReceived(), 3u);
}

TEST_F(SessionIntakeTest, AStalledMemberFailsTheJobThroughTheQueueAndIsToldToStop) {
  auto job = intake_->open(SessionRequest{2, 0, ""}, oneNode(), out_);
  ASSERT_TRUE(job.ok()) << job.error();
  clock_.advance(11s);
  intake_->checkStalls(out_, [](const std::string&) { return false; });
  const auto failed = queue_->get(job->id);
  EXPECT_EQ(failed->state, JobState::kFailed);
  EXPECT_NE(failed->detail.find("went away"), std::string::npos) << failed->detail;
  ASSERT_EQ(out_.sent["booth-1"].size(), 2u);
  EXPECT_TRUE(out_.sent["booth-1"][1].has_session_stop());
  const RecordAnswer late = intake_->frame("booth-1", rawFrame(job->session_id, 0));
  EXPECT_FALSE(late.ok) << "records of an ended session are refused";
}

TEST_F(SessionIntakeTest, OnlyOneSessionIsOpenAtATime) {
  ASSERT_TRUE(intake_->open(SessionRequest{2, 0, ""}, oneNode(), out_).ok());
  auto second = intake_->open(SessionRequest{2, 0, ""}, oneNode(), out_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().find("still being captured"), std::string::npos) << second.error();
}

TEST_F(SessionIntakeTest, ARestartedTrainerReopensTheSessionsTheQueueSaysAreReceiving) {
  auto job = intake_->open(SessionRequest{2, 0, ""}, oneNode(), out_);
  ASSERT_TRUE(job.ok()) << job.error();
  ASSERT_TRUE(intake_->frame("booth-1", rawFrame(job->session_id, 0)).ok);
  ASSERT_TRUE(intake_->sync().ok());
  intake_ = std::make_unique<SessionIntake>(config_, *queue_, *outage_, clock_);  // restart
  intake_->reopenReceiving();
  v2::UnfinishedSession unfinished;
  unfinished.set_session_id(job->session_id);
  EXPECT_TRUE(intake_->resume("booth-1", unfinished).has_session_resume());
  EXPECT_TRUE(intake_->frame("booth-1", rawFrame(job->session_id, 1)).ok);
}

TEST_F(SessionIntakeTest, ARestartDuringAnOutageStillCountsEveryStoredFrame) {
  auto job = intake_->open(SessionRequest{2, 0, ""}, oneNode(), out_);
  ASSERT_TRUE(job.ok()) << job.error();
  for (std::uint64_t s = 0; s < 3; ++s) {
    ASSERT_TRUE(intake_->frame("booth-1", rawFrame(job->session_id, s)).ok);
  }
  ASSERT_TRUE(intake_->sync().ok());
  outage_->totals_fail = true;  // the store is away while the trainer restarts
  intake_ = std::make_unique<SessionIntake>(config_, *queue_, *outage_, clock_);
  intake_->reopenReceiving();
  outage_->totals_fail = false;
  ASSERT_TRUE(intake_->frame("booth-1", rawFrame(job->session_id, 3)).ok);
  ASSERT_TRUE(intake_->sync().ok());
  v2::Envelope reply;
  intake_->manifest("booth-1", manifestOf(job->session_id),
                    [&](const v2::Envelope& env) { reply = env; }, out_);
  ASSERT_TRUE(reply.manifest_ack().ok()) << reply.manifest_ack().error();
  const auto queued = queue_->get(job->id);
  ASSERT_EQ(queued->state, JobState::kQueued);
  EXPECT_EQ(queued->frames_received, 4);
  ASSERT_EQ(queued->cameras.size(), 1u);
  EXPECT_EQ(queued->cameras[0].frames, 4) << "the worker checks every camera against this";
}

TEST_F(SessionIntakeTest, AManifestDuringAnOutageIsLeftUnansweredForTheNodeToResend) {
  auto job = intake_->open(SessionRequest{2, 0, ""}, oneNode(), out_);
  ASSERT_TRUE(job.ok()) << job.error();
  ASSERT_TRUE(intake_->frame("booth-1", rawFrame(job->session_id, 0)).ok);
  ASSERT_TRUE(intake_->sync().ok());
  const v2::SessionManifest manifest = manifestOf(job->session_id);
  outage_->totals_fail = true;
  bool answered = false;
  intake_->manifest("booth-1", manifest, [&](const v2::Envelope&) { answered = true; }, out_);
  EXPECT_FALSE(answered) << "an unreachable store is no verdict on the node's data";
  EXPECT_EQ(queue_->get(job->id)->state, JobState::kReceiving);
  outage_->totals_fail = false;
  v2::Envelope reply;
  intake_->manifest("booth-1", manifest, [&](const v2::Envelope& env) { reply = env; }, out_);
  EXPECT_TRUE(reply.manifest_ack().ok()) << reply.manifest_ack().error();
  EXPECT_EQ(queue_->get(job->id)->state, JobState::kQueued);
}

TEST_F(SessionIntakeTest, AManifestIsJudgedOnlyOnceTheBatchIsDurable) {
  auto job = intake_->open(SessionRequest{2, 0, ""}, oneNode(), out_);
  ASSERT_TRUE(job.ok()) << job.error();
  ASSERT_TRUE(intake_->frame("booth-1", rawFrame(job->session_id, 0)).ok);
  // No sync yet: the store cannot make the batch durable.
  outage_->sync_fail = true;
  bool answered = false;
  intake_->manifest("booth-1", manifestOf(job->session_id),
                    [&](const v2::Envelope&) { answered = true; }, out_);
  EXPECT_FALSE(answered);
  EXPECT_EQ(queue_->get(job->id)->state, JobState::kReceiving) << "queued before durable";
  outage_->sync_fail = false;
  const int syncs = outage_->syncs;
  v2::Envelope reply;
  intake_->manifest("booth-1", manifestOf(job->session_id),
                    [&](const v2::Envelope& env) { reply = env; }, out_);
  EXPECT_GT(outage_->syncs, syncs) << "the manifest makes the batch durable first";
  EXPECT_TRUE(reply.manifest_ack().ok()) << reply.manifest_ack().error();
  EXPECT_EQ(queue_->get(job->id)->state, JobState::kQueued);
}

TEST_F(SessionIntakeTest, AStallDuringAStoreOutageNamesTheStore) {
  auto job = intake_->open(SessionRequest{2, 0, ""}, oneNode(), out_);
  ASSERT_TRUE(job.ok()) << job.error();
  ASSERT_TRUE(intake_->frame("booth-1", rawFrame(job->session_id, 0)).ok);
  outage_->sync_fail = true;
  ASSERT_FALSE(intake_->sync().ok());
  clock_.advance(11s);
  intake_->checkStalls(out_, [](const std::string&) { return true; });
  const auto failed = queue_->get(job->id);
  ASSERT_EQ(failed->state, JobState::kFailed);
  EXPECT_NE(failed->detail.find("PostgreSQL unavailable"), std::string::npos) << failed->detail;
  EXPECT_EQ(failed->detail.find("stuck"), std::string::npos) << failed->detail;
}

}  // namespace
}  // namespace booth
