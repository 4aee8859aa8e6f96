// The database goes away (pg_ctl -m immediate) under a running queue and
// blob store, and comes back: every call meanwhile is a returned error
// (nothing throws, no thread dies), the listener reports it is cut off, and
// after the restart everything works again with nothing lost. Runs its own
// server (it stops it), not the shared fixture's.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "heard_jobs.h"
#include "support/test_database.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"

namespace booth {
namespace {

using namespace std::chrono_literals;

template <class Pred>
bool waitFor(Pred pred) {
  for (int i = 0; i < 600 && !pred(); ++i) std::this_thread::sleep_for(50ms);
  return pred();
}

JobRecord newJob(const std::string& id) {
  JobRecord j;
  j.id = id;
  j.session_id = "s-" + id;
  return j;
}

TEST(PgOutageTest, CallsReturnErrorsWhileTheServerIsDownAndWorkAgainAfter) {
  testing::PrivatePgServer server;
  testing::HeardJobs heard;  // outlives the queue, whose listener calls it
  PgOptions options;
  options.url = server.url();
  options.connect_timeout = 2s;
  auto db = PgDatabase::open(options);
  ASSERT_TRUE(db.ok()) << db.error();
  PgJobQueueOptions queue_options;
  queue_options.reconnect_delay = 50ms;
  PgJobQueue queue(db.value(), queue_options);
  PgBlobStore blobs(db.value());
  queue.addObserver(heard.observer());
  ASSERT_TRUE(waitFor([&] { return queue.listening(); }));
  ASSERT_TRUE(queue.add(newJob("before")).ok());
  ASSERT_TRUE(blobs.put("clips/before.mp4", "clip bytes").ok());

  server.crash();

  auto added = queue.add(newJob("during"));
  ASSERT_FALSE(added.ok());
  EXPECT_EQ(added.error(), JobQueueError::kUnavailable) << added.message();
  EXPECT_NE(added.message().find("PostgreSQL unavailable"), std::string::npos) << added.message();
  auto claimed = queue.claim("w1", 30s);
  EXPECT_FALSE(claimed.ok());
  auto put = blobs.put("clips/during.mp4", "x");
  ASSERT_FALSE(put.ok());
  EXPECT_NE(put.error().find("PostgreSQL unavailable"), std::string::npos) << put.error();
  EXPECT_FALSE(blobs.size("clips/before.mp4").ok());
  EXPECT_FALSE(queue.get("before").has_value());
  EXPECT_TRUE(waitFor([&] { return !queue.listening(); })) << "the listener did not notice";
  auto why = queue.unavailable();
  ASSERT_TRUE(why.has_value()) << "the queue should say the database is unavailable";
  EXPECT_EQ(why->rfind("database unavailable: ", 0), 0u) << *why;

  server.restart();

  auto again = queue.add(newJob("after"));
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_TRUE(queue.get("before").has_value());
  auto clip = blobs.read("clips/before.mp4");
  ASSERT_TRUE(clip.ok()) << clip.error();
  EXPECT_EQ(clip.value(), "clip bytes");
  EXPECT_TRUE(waitFor([&] { return queue.listening(); })) << "the listener did not come back";
  EXPECT_TRUE(heard.waitFor("after"));
  EXPECT_TRUE(queue.get("before").has_value());
  EXPECT_FALSE(queue.unavailable().has_value()) << *queue.unavailable();
}

}  // namespace
}  // namespace booth
