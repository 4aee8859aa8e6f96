// EventHub: job writes and node changes reach subscribers; slow or excess
// subscribers are bounded.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "trainer_node/events/event_hub.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/job_store.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class EventHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_hub_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    auto s = JobStore::open((dir_ / "jobs.sqlite").string());
    ASSERT_TRUE(s.ok()) << s.error();
    store_ = std::move(s.value());
    queue_ = std::make_unique<EmbeddedJobQueue>(*store_);
  }
  void TearDown() override {
    queue_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

 public:
  static JobRecord job(const std::string& id) {
    JobRecord j;
    j.id = id;
    j.session_id = "s-" + id;
    j.state = JobState::kReceiving;
    return j;
  }

 protected:
  static NodeInfo node(const std::string& id, double fps) {
    NodeInfo n;
    n.node_id = id;
    CameraStatus c;
    c.camera_id = "cam0";
    c.measured_fps = fps;
    n.cameras.push_back(c);
    return n;
  }
  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<EmbeddedJobQueue> queue_;  // over store_
};

TEST_F(EventHubTest, AJobWriteIsPublishedOnceAsTheJobNowIs) {
  EventHub hub({}, *queue_, nullptr);
  auto sub = hub.subscribe();
  ASSERT_TRUE(sub);
  ASSERT_TRUE(store_->insert(job("a")).ok());
  JobRecord a = *store_->get("a");
  a.progress = 0.25;
  ASSERT_TRUE(store_->update(a).ok());
  ASSERT_TRUE(store_->transition(a, JobEvent::kFail, "no frames").ok());
  hub.runOnce(false);
  auto events = sub->wait(0ms);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u) << "three writes of one job before the hub looked: one event";
  EXPECT_EQ((*events)[0].kind, BoothEvent::Kind::kJob);
  EXPECT_EQ((*events)[0].job.id, "a");
  EXPECT_EQ((*events)[0].job.state, JobState::kFailed);
  EXPECT_DOUBLE_EQ((*events)[0].job.progress, 0.25);
}

TEST_F(EventHubTest, NodesArePublishedWhenTheyChangeOnly) {
  std::vector<NodeInfo> nodes = {node("n1", 30)};
  EventHub hub({}, *queue_, [&] { return nodes; });
  auto sub = hub.subscribe();
  hub.runOnce(true);
  auto first = sub->wait(0ms);
  ASSERT_TRUE(first && first->size() == 1);
  EXPECT_EQ((*first)[0].kind, BoothEvent::Kind::kNodes);
  EXPECT_EQ((*first)[0].nodes.at(0).node_id, "n1");

  nodes[0].seconds_since_seen = 0.7;  // not news
  hub.runOnce(true);
  auto none = sub->wait(0ms);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  nodes[0].cameras[0].measured_fps = 29.5;
  hub.runOnce(true);
  auto changed = sub->wait(0ms);
  ASSERT_TRUE(changed && changed->size() == 1);
  EXPECT_DOUBLE_EQ((*changed)[0].nodes.at(0).cameras.at(0).measured_fps, 29.5);
  EXPECT_EQ(hub.nodes().at(0).cameras.at(0).measured_fps, 29.5);
}

TEST_F(EventHubTest, AMovedPerformerBoxIsNews) {
  std::vector<NodeInfo> nodes = {node("n1", 30)};
  nodes[0].cameras[0].performer = CameraPerformer{"cam0", 5, true, {0.4f, 0.2f, 0.2f, 0.7f}, {}};
  EventHub hub({}, *queue_, [&] { return nodes; });
  auto sub = hub.subscribe();
  hub.runOnce(true);
  ASSERT_TRUE(sub->wait(0ms));
  nodes[0].cameras[0].performer->box.x = 0.5f;  // the tracker moved the box
  hub.runOnce(true);
  auto changed = sub->wait(0ms);
  ASSERT_TRUE(changed && changed->size() == 1);
  EXPECT_FLOAT_EQ((*changed)[0].nodes.at(0).cameras.at(0).performer->box.x, 0.5f);
}

TEST_F(EventHubTest, TheHubThreadPublishesWithoutBeingAsked) {
  EventHub hub({}, *queue_, nullptr);
  auto sub = hub.subscribe();
  hub.start();
  ASSERT_TRUE(store_->insert(job("live")).ok());
  std::optional<std::vector<BoothEvent>> events;
  for (int i = 0; i < 100 && !(events && !events->empty()); ++i) events = sub->wait(100ms);
  ASSERT_TRUE(events && !events->empty());
  EXPECT_EQ(events->front().job.id, "live");
  hub.stop();
}

TEST_F(EventHubTest, ASubscriberThatFallsBehindIsToldToResync) {
  EventHubConfig config;
  config.subscriber_queue = 3;
  EventHub hub(config, *queue_, nullptr);
  auto slow = hub.subscribe();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->insert(job("j" + std::to_string(i))).ok());
    hub.runOnce(false);
  }
  EXPECT_TRUE(slow->lagged());
  EXPECT_FALSE(slow->wait(0ms)) << "a lagged subscription yields nothing but the resync signal";
}

TEST_F(EventHubTest, SubscribersAreCappedAndFreedOnDestruction) {
  EventHubConfig config;
  config.max_subscribers = 2;
  EventHub hub(config, *queue_, nullptr);
  auto a = hub.subscribe();
  auto b = hub.subscribe();
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(hub.subscribe());
  a.reset();
  EXPECT_EQ(hub.subscribers(), 1u);
  EXPECT_TRUE(hub.subscribe());
}

TEST_F(EventHubTest, ClosingWakesWaitingSubscribers) {
  EventHub hub({}, *queue_, nullptr);
  auto sub = hub.subscribe();
  std::thread closer([&] {
    std::this_thread::sleep_for(50ms);
    hub.closeSubscriptions();
  });
  EXPECT_FALSE(sub->wait(std::chrono::hours(1)));  // returns when closed, not after an hour
  closer.join();
  EXPECT_FALSE(hub.subscribe());
}

TEST_F(EventHubTest, StoppedHubNoLongerObservesTheStore) {
  auto hub = std::make_unique<EventHub>(EventHubConfig{}, *queue_, nullptr);
  hub.reset();
  EXPECT_TRUE(store_->insert(job("after")).ok());  // no observer left to call
}

// --- Last-Event-ID resume ---

// A hub with `n` published job events (jobs j0..j{n-1}); returns the id of
// the last one.
std::string publishJobs(EventHub& hub, JobStore& store, int n, int first = 0) {
  for (int i = first; i < first + n; ++i) {
    // (Not "j" + std::to_string(i): GCC 12 warns falsely on that.)
    EXPECT_TRUE(store.insert(EventHubTest::job(std::string("j").append(std::to_string(i)))).ok());
    hub.runOnce(false);
  }
  return hub.eventId(hub.published());
}

TEST_F(EventHubTest, AReconnectWithALastEventIdGetsWhatItMissedInOrder) {
  EventHub hub({}, *queue_, nullptr);
  const std::string seen = publishJobs(hub, *store_, 2);
  publishJobs(hub, *store_, 3, 2);  // j2, j3, j4 happen while the page is away
  auto sub = hub.subscribe(seen);
  ASSERT_TRUE(sub);
  EXPECT_TRUE(sub->resumed());
  auto events = sub->wait(0ms);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].job.id, "j2");
  EXPECT_EQ((*events)[2].job.id, "j4");
  EXPECT_EQ(hub.eventId((*events)[2].sequence), hub.eventId(hub.published()));
}

TEST_F(EventHubTest, ALastEventIdOlderThanTheHubKeepsNeedsASnapshot) {
  EventHubConfig config;
  config.replay_events = 3;
  EventHub hub(config, *queue_, nullptr);
  const std::string seen = publishJobs(hub, *store_, 1);
  publishJobs(hub, *store_, 4, 1);  // more than the hub keeps
  auto sub = hub.subscribe(seen);
  ASSERT_TRUE(sub);
  EXPECT_FALSE(sub->resumed());
  EXPECT_EQ(sub->startSequence(), hub.published());
  auto events = sub->wait(0ms);
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty()) << "nothing is replayed: the caller sends a snapshot";
}

TEST_F(EventHubTest, AnIdFromAnotherHubOrNoIdNeedsASnapshot) {
  EventHub first({}, *queue_, nullptr);
  const std::string foreign = publishJobs(first, *store_, 2);
  EventHub hub({}, *queue_, nullptr);
  publishJobs(hub, *store_, 2, 2);
  for (const std::string& id : {foreign, std::string(), std::string("garbage"),
                                hub.eventId(hub.published() + 5)}) {
    auto sub = hub.subscribe(id);
    ASSERT_TRUE(sub);
    EXPECT_FALSE(sub->resumed()) << "'" << id << "'";
  }
}

TEST_F(EventHubTest, AnUpToDateLastEventIdResumesWithNothingToReplay) {
  EventHub hub({}, *queue_, nullptr);
  const std::string seen = publishJobs(hub, *store_, 2);
  auto sub = hub.subscribe(seen);
  ASSERT_TRUE(sub);
  EXPECT_TRUE(sub->resumed());
  auto events = sub->wait(0ms);
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
}

// --- the fallback poll and the database's health ---

// A change the hub was never told about (another process's write whose
// wake-up was lost) is published by the next fallback listing.
TEST_F(EventHubTest, TheFallbackPollPublishesAChangeWhoseWakeUpWasLost) {
  EventHub hub({}, *queue_, nullptr);
  ASSERT_TRUE(store_->insert(job("a")).ok());
  hub.runOnce(false);
  hub.pollJobs();
  auto sub = hub.subscribe();
  {
    auto other = JobStore::open((dir_ / "jobs.sqlite").string());  // another writer
    ASSERT_TRUE(other.ok()) << other.error();
    JobRecord a = *other.value()->get("a");
    a.updated_ms += 1000;
    ASSERT_TRUE(other.value()->transition(a, JobEvent::kFail, "stalled").ok());
  }
  hub.runOnce(false);
  auto before = sub->wait(0ms);
  ASSERT_TRUE(before);
  EXPECT_TRUE(before->empty()) << "no wake-up came for that write";
  hub.pollJobs();
  auto after = sub->wait(0ms);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].job.state, JobState::kFailed);
  hub.pollJobs();
  auto again = sub->wait(0ms);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty()) << "a change is published once";
}

TEST_F(EventHubTest, TheQueuesStoreBecomingUnavailableAndBackIsPublished) {
  EventHub hub({}, *queue_, nullptr);
  ASSERT_TRUE(store_->insert(job("a")).ok());
  hub.runOnce(true);
  auto sub = hub.subscribe();
  hub.runOnce(true);
  EXPECT_TRUE(sub->wait(0ms)->empty()) << "available from the start: nothing to say";
  store_->simulateFullDiskForTest(true);
  JobRecord a = *store_->get("a");
  ASSERT_TRUE(store_->transition(a, JobEvent::kFail, "x").ok());  // held in memory: disk "full"
  hub.runOnce(true);
  auto down = sub->wait(0ms);
  ASSERT_TRUE(down);
  bool said = false;
  for (const BoothEvent& e : *down) {
    if (e.kind == BoothEvent::Kind::kDatabase) said = !e.unavailable.empty();
  }
  EXPECT_TRUE(said);
  EXPECT_FALSE(hub.unavailable().empty());
  store_->simulateFullDiskForTest(false);
  store_->retryPending();
  hub.runOnce(true);
  auto up = sub->wait(0ms);
  ASSERT_TRUE(up && !up->empty());
  EXPECT_EQ(up->back().kind, BoothEvent::Kind::kDatabase);
  EXPECT_TRUE(up->back().unavailable.empty());
  EXPECT_TRUE(hub.unavailable().empty());
}

}  // namespace
}  // namespace booth
