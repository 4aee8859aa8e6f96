// PgJobQueue beyond the shared contract (job_queue_conformance_test.cpp):
// blob writes fenced in the publishing transaction, NOTIFY between
// processes, and the listener coming back after its connection is cut.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "common/core/clock.h"
#include "heard_jobs.h"
#include "support/test_database.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"
#include "trainer_node/store/pg/shared_stores.h"

namespace booth {
namespace {

using namespace std::chrono_literals;

class PgJobQueueTest : public ::testing::Test {
 protected:
  std::shared_ptr<PgDatabase> open(const std::string& application_name = "") {
    PgOptions options;
    options.url = schema_.url();
    if (!application_name.empty()) options.url += "&application_name=" + application_name;
    auto db = PgDatabase::open(options);
    EXPECT_TRUE(db.ok()) << db.error();
    return db.ok() ? db.value() : nullptr;
  }
  std::unique_ptr<PgJobQueue> queue(std::shared_ptr<PgDatabase> db) {
    PgJobQueueOptions options;
    options.clock = &clock_;
    options.reconnect_delay = 50ms;
    return std::make_unique<PgJobQueue>(std::move(db), options);
  }
  static void addQueued(JobQueue& q, const std::string& id) {
    JobRecord j;
    j.id = id;
    j.session_id = "s-" + id;
    j.created_ms = 1000;
    ASSERT_TRUE(q.add(j).ok());
    ASSERT_TRUE(q.enqueue(j).ok());
  }
  static Claim claim(JobQueue& q, const std::string& worker) {
    auto c = q.claim(worker, 30s);
    EXPECT_TRUE(c.ok() && c.value().has_value());
    return c.ok() && c.value() ? c.value()->claim : Claim{};
  }
  static void waitListening(const PgJobQueue& q) {
    for (int i = 0; i < 400 && !q.listening(); ++i) std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(q.listening()) << "the listener did not connect";
  }

  testing::TestSchema schema_;
  ManualClock clock_;
};

TEST_F(PgJobQueueTest, ClipIsPublishedOnlyWhileTheClaimHolds) {
  auto db = open();
  auto q = queue(db);
  PgBlobStore blobs(db, 1000);
  addQueued(*q, "j1");
  const Claim first = claim(*q, "w1");
  auto ok = blobs.put("clips/a.mp4", "first worker's clip", q->fenceCheck(first));
  ASSERT_TRUE(ok.ok()) << ok.error();

  clock_.advance(31s);
  ASSERT_EQ(q->recoverExpired().value(), 1);
  const Claim second = claim(*q, "w2");
  ASSERT_GT(second.fence, first.fence);

  auto late = blobs.put("clips/a.mp4", "late bytes", q->fenceCheck(first));
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.error().find("fenced"), std::string::npos) << late.error();
  EXPECT_EQ(blobs.read("clips/a.mp4").value(), "first worker's clip");
  EXPECT_TRUE(blobs.put("clips/a.mp4", "second worker's clip", q->fenceCheck(second)).ok());
}

TEST_F(PgJobQueueTest, LargeCheckpointIsFencedAtItsCommit) {
  auto db = open();
  auto q = queue(db);
  PgBlobStore blobs(db, 1000);
  addQueued(*q, "j1");
  const Claim c = claim(*q, "w1");
  auto writer = blobs.openWriter("checkpoints/j1/state.pt");
  ASSERT_TRUE(writer.ok()) << writer.error();
  ASSERT_TRUE(writer.value()->write(std::string(5500, 'x')).ok());  // chunks staged
  ASSERT_TRUE(q->cancel("j1", "cancelled by the operator").ok());
  auto st = writer.value()->commit(q->fenceCheck(c));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("not running"), std::string::npos) << st.error();
  EXPECT_EQ(blobs.size("checkpoints/j1/state.pt").value(), std::nullopt);
  EXPECT_EQ(blobs.removeAbandonedWrites(0s).value(), 0u) << "the refused write left chunks";
}

TEST_F(PgJobQueueTest, FenceCheckRefusesTheLocalFolder) {
  auto db = open();
  auto q = queue(db);
  addQueued(*q, "j1");
  const Claim c = claim(*q, "w1");
  const auto dir = std::filesystem::temp_directory_path() / ("pg_job_queue_test_" + schema_.name());
  LocalBlobStore local(dir, false);
  auto st = local.put("clips/a.mp4", "x", q->fenceCheck(c));
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("PostgreSQL blob store"), std::string::npos) << st.error();
}

TEST_F(PgJobQueueTest, AnotherProcessHearsTheChange) {
  testing::HeardJobs heard;  // outlives the queues, whose listeners call it
  auto gateway = queue(open());
  auto front_end = queue(open());
  front_end->addObserver(heard.observer());
  waitListening(*front_end);
  addQueued(*gateway, "j1");
  EXPECT_TRUE(heard.waitFor("j1"));
}

TEST_F(PgJobQueueTest, ListenerReconnectsAndAnnouncesWhatItMissed) {
  const std::string app = "listener_" + schema_.name();
  testing::HeardJobs heard;  // outlives the queues, whose listeners call it
  auto q = queue(open(app));
  auto writer = queue(open());
  q->addObserver(heard.observer());
  waitListening(*q);
  {
    pqxx::connection admin(schema_.url());
    pqxx::nontransaction tx(admin);
    tx.exec_params(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = $1",
        app);
  }
  addQueued(*writer, "missed");  // possibly while the listener is away
  EXPECT_TRUE(heard.waitFor("missed"))
      << "the change made while the listener was cut off was never announced";
  waitListening(*q);
}

TEST_F(PgJobQueueTest, SharedStoresOpenTheQueueAndTheBlobsOnOneDatabase) {
  PgJobQueueOptions options;
  options.clock = &clock_;
  auto stores = openSharedStores(schema_.url(), options);
  ASSERT_TRUE(stores.ok()) << stores.error();
  addQueued(*stores->queue, "j1");
  const Claim c = claim(*stores->queue, "w1");
  auto put = stores->blobs->put("clips/j1.mp4", "clip", stores->queue->fenceCheck(c));
  EXPECT_TRUE(put.ok()) << put.error();
}

TEST(SharedStores, RefuseANonPostgresUrlWithoutShowingThePassword) {
  auto stores = openSharedStores("mysql://u:hunter2@db/x", {});
  ASSERT_FALSE(stores.ok());
  EXPECT_NE(stores.error().find("not a postgresql:// URL"), std::string::npos) << stores.error();
  EXPECT_EQ(stores.error().find("hunter2"), std::string::npos) << stores.error();
}

}  // namespace
}  // namespace booth
