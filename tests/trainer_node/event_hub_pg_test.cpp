// EventHub over the shared queue (PostgreSQL): another trainer process's
// write reaches the hub through LISTEN/NOTIFY, and the database going away
// and coming back is published as the queue's health. Exits 77 where
// PostgreSQL cannot run.
#include <gtest/gtest.h>

#include <thread>

#include "support/test_database.h"
#include "trainer_node/events/event_hub.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"

namespace booth {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<PgDatabase> open(const std::string& url) {
  PgOptions options;
  options.url = url;
  options.connect_timeout = 2s;
  auto db = PgDatabase::open(options);
  if (!db.ok()) throw std::runtime_error(db.error());
  return db.value();
}

PgJobQueueOptions fastReconnect() {
  PgJobQueueOptions options;
  options.reconnect_delay = 50ms;
  return options;
}

JobRecord newJob(const std::string& id) {
  JobRecord j;
  j.id = id;
  j.session_id = "s-" + id;
  return j;
}

// Events until one satisfies `match`, at most 30 s.
template <class Match>
bool awaitEvent(EventHub::Subscription& sub, Match match) {
  for (int i = 0; i < 300; ++i) {
    auto events = sub.wait(100ms);
    if (!events) return false;
    for (const BoothEvent& e : *events) {
      if (match(e)) return true;
    }
  }
  return false;
}

TEST(EventHubPgTest, AnotherProcesssWriteReachesTheHubThroughNotify) {
  testing::TestSchema schema;
  PgJobQueue mine(open(schema.url()), fastReconnect());
  PgJobQueue other(open(schema.url()), fastReconnect());  // another trainer process
  EventHubConfig config;
  config.job_poll = std::chrono::hours(1);  // the wake-up alone, no fallback listing
  EventHub hub(config, mine, nullptr);
  auto sub = hub.subscribe();
  hub.start();
  for (int i = 0; i < 200 && !mine.listening(); ++i) std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(mine.listening());
  ASSERT_TRUE(other.add(newJob("elsewhere")).ok());
  EXPECT_TRUE(awaitEvent(*sub, [](const BoothEvent& e) {
    return e.kind == BoothEvent::Kind::kJob && e.job.id == "elsewhere";
  }));
  hub.stop();
}

TEST(EventHubPgTest, TheDatabaseGoingAwayAndComingBackIsPublished) {
  testing::PrivatePgServer server;
  PgJobQueue queue(open(server.url()), fastReconnect());
  EventHubConfig config;
  config.node_poll = 100ms;
  config.job_poll = 200ms;
  EventHub hub(config, queue, nullptr);
  auto sub = hub.subscribe();
  hub.start();
  ASSERT_TRUE(queue.add(newJob("before")).ok());
  server.crash();
  EXPECT_TRUE(awaitEvent(*sub, [](const BoothEvent& e) {
    return e.kind == BoothEvent::Kind::kDatabase &&
           e.unavailable.rfind("database unavailable: ", 0) == 0;
  })) << "the hub did not say the database is unavailable";
  server.restart();
  EXPECT_TRUE(awaitEvent(*sub, [](const BoothEvent& e) {
    return e.kind == BoothEvent::Kind::kDatabase && e.unavailable.empty();
  })) << "the hub did not say the database is back";
  EXPECT_TRUE(hub.unavailable().empty());
  hub.stop();
}

}  // namespace
}  // namespace booth
