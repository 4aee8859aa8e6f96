// Two ingest gateways share one PostgreSQL database (the fixture's server;
// exit 77 where it cannot run): a gateway that starts, or restarts, reopens
// only the sessions it was receiving itself, never one another live gateway
// still receives.
#include <gtest/gtest.h>

#include <deque>
#include <filesystem>

#include "intake_fixtures.h"
#include "queue_backends.h"
#include "trainer_node/ingest/session_intake.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"
#include "trainer_node/store/session_store.h"

namespace booth {
namespace {

using namespace std::chrono_literals;

class TwoGatewaysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PgOptions options;
    options.url = schema_.url();
    for (auto* queue : {&queue_a_, &queue_b_}) {  // one database, two processes' queues
      auto db = PgDatabase::open(options);
      ASSERT_TRUE(db.ok()) << db.error();
      *queue = std::make_unique<PgJobQueue>(db.value());
    }
    sessions_ = std::make_unique<SessionStore>(data_.path(), /*fsync=*/false);
  }
  // The intake keeps a reference to its config: each lives in configs_.
  std::unique_ptr<SessionIntake> gateway(const std::string& id, JobQueue& queue) {
    IngestConfig& config = configs_.emplace_back();
    config.gateway_id = id;
    config.session_stall_timeout = 10s;
    return std::make_unique<SessionIntake>(config, queue, *sessions_, clock_);
  }

  testing::TestSchema schema_;
  testing::TestFolder data_{"booth_two_gateways"};
  ManualClock clock_;
  std::unique_ptr<PgJobQueue> queue_a_, queue_b_;
  std::unique_ptr<SessionStore> sessions_;
  std::deque<IngestConfig> configs_;
  test::RecordingMessenger out_;
};

TEST_F(TwoGatewaysTest, AStartingGatewayLeavesAnotherGatewaysReceivingSessionAlone) {
  auto a = gateway("gw-a", *queue_a_);
  auto job = a->open(SessionRequest{2, 0, ""}, test::oneNode(), out_);
  ASSERT_TRUE(job.ok()) << job.error();
  const RecordAnswer first = a->frame("booth-1", test::rawFrame(job->session_id, 0));
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(queue_b_->get(job->id)->gateway_id, "gw-a") << "recorded with the job";

  auto b = gateway("gw-b", *queue_b_);
  b->reopenReceiving();
  clock_.advance(11s);  // past the stall timeout: an adopted session would fail now
  b->checkStalls(out_, [](const std::string&) { return false; });
  EXPECT_EQ(queue_b_->get(job->id)->state, JobState::kReceiving) << "still gw-a's";
  auto own = b->open(SessionRequest{2, 0, ""}, test::oneNode(), out_);
  EXPECT_TRUE(own.ok()) << "gw-b holds no session of gw-a's: " << own.error();
  ASSERT_TRUE(a->frame("booth-1", test::rawFrame(job->session_id, 1)).ok)
      << "gw-a goes on receiving";
}

TEST_F(TwoGatewaysTest, ARestartedGatewayReopensItsOwnReceivingSession) {
  auto a = gateway("gw-a", *queue_a_);
  auto job = a->open(SessionRequest{2, 0, ""}, test::oneNode(), out_);
  ASSERT_TRUE(job.ok()) << job.error();
  auto b = gateway("gw-b", *queue_b_);
  b->reopenReceiving();

  a = gateway("gw-a", *queue_a_);  // restart
  a->reopenReceiving();
  v2::UnfinishedSession unfinished;
  unfinished.set_session_id(job->session_id);
  EXPECT_TRUE(a->resume("booth-1", unfinished).has_session_resume());
  EXPECT_TRUE(a->frame("booth-1", test::rawFrame(job->session_id, 1)).ok);
  EXPECT_FALSE(b->resume("booth-1", unfinished).has_session_resume())
      << "the other gateway does not take it";
}

}  // namespace
}  // namespace booth
