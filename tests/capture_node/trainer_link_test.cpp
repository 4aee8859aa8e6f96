// TrainerLink with several trainer endpoints: two real trainer ingests in
// process on loopback; the first is stopped and the link moves to the
// second, where the node is introduced again and its records are taken.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "capture_node/link/trainer_link.h"
#include "common/transport/wire.h"
#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/session_store.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// One trainer's ingest with its own job store and session folder.
struct Trainer {
  explicit Trainer(const fs::path& dir, const std::string& id) {
    fs::create_directories(dir);
    store = std::move(JobStore::open((dir / "jobs.sqlite").string()).value());
    queue = std::make_unique<EmbeddedJobQueue>(*store);
    sessions = std::make_unique<SessionStore>(dir, /*fsync=*/false);
    IngestConfig config;
    config.endpoint = "tcp://127.0.0.1:*";
    config.insecure = true;
    config.trainer_id = id;
    config.node_timeout = 60s;
    ingest = std::make_unique<IngestServer>(config, *queue, *sessions);
  }
  std::unique_ptr<JobStore> store;
  std::unique_ptr<EmbeddedJobQueue> queue;
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<IngestServer> ingest;
};

// What the link delivered, from its thread.
class Heard {
 public:
  void add(v2::Envelope&& env) {
    std::lock_guard lock(mutex_);
    if (env.body_case() == v2::Envelope::kHelloAck) acks_.push_back(env.hello_ack().trainer_id());
  }
  void switched(const std::string& endpoint) {
    std::lock_guard lock(mutex_);
    switches_.push_back(endpoint);
  }
  std::vector<std::string> acks() {
    std::lock_guard lock(mutex_);
    return acks_;
  }
  std::vector<std::string> switches() {
    std::lock_guard lock(mutex_);
    return switches_;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> acks_;      // trainer ids of HelloAcks
  std::vector<std::string> switches_;  // endpoints moved to
};

v2::Envelope hello(const std::string& node_id) {
  v2::Envelope env;
  env.set_version(kProtocolVersion);
  env.mutable_hello()->set_node_id(node_id);
  env.mutable_hello()->add_cameras()->set_camera_id("cam0");
  return env;
}

// Says Hello every 100 ms (as the node's heartbeat does) until `done`, at most 15 s.
template <class Done>
bool helloUntil(TrainerLink& link, Done done) {
  for (int i = 0; i < 150 && !done(); ++i) {
    link.send(hello("booth-1"));
    std::this_thread::sleep_for(100ms);
  }
  return done();
}

class TrainerLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_link_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TrainerLinkTest, ASilentTrainerIsLeftForTheNextEndpoint) {
  Trainer a(dir_ / "a", "trainer-a");
  Trainer b(dir_ / "b", "trainer-b");
  ASSERT_TRUE(a.ingest->start().ok());
  ASSERT_TRUE(b.ingest->start().ok());
  TrainerLinkConfig config;
  config.endpoints = {a.ingest->endpoint(), b.ingest->endpoint()};
  config.insecure = true;
  config.failover_after = 600ms;
  TrainerLink link(config);
  Heard heard;
  ASSERT_TRUE(link.start([&](v2::Envelope&& env) { heard.add(std::move(env)); },
                         [&](const std::string& e) { heard.switched(e); })
                  .ok());
  ASSERT_TRUE(helloUntil(link, [&] { return !heard.acks().empty(); }));
  EXPECT_EQ(heard.acks().front(), "trainer-a");
  EXPECT_EQ(link.endpoint(), a.ingest->endpoint());
  EXPECT_EQ(link.switches(), 0u) << "an answering trainer is kept";

  a.ingest->stop();  // the first trainer goes away
  ASSERT_TRUE(helloUntil(link, [&] {
    const auto acks = heard.acks();
    return !acks.empty() && acks.back() == "trainer-b";
  })) << "the link never reached the second trainer";
  EXPECT_EQ(link.endpoint(), b.ingest->endpoint());
  ASSERT_EQ(heard.switches().size(), 1u);
  EXPECT_EQ(heard.switches().front(), b.ingest->endpoint());
  bool listed = false;
  for (const auto& n : b.ingest->nodes()) listed = listed || n.node_id == "booth-1";
  EXPECT_TRUE(listed) << "the second trainer knows the node";
  link.stop();
}

TEST_F(TrainerLinkTest, OneEndpointIsNeverLeft) {
  Trainer a(dir_ / "a", "trainer-a");
  ASSERT_TRUE(a.ingest->start().ok());
  TrainerLinkConfig config;
  config.endpoints = {a.ingest->endpoint()};
  config.insecure = true;
  config.failover_after = 200ms;
  TrainerLink link(config);
  ASSERT_TRUE(link.start([](v2::Envelope&&) {}).ok());
  a.ingest->stop();
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(link.switches(), 0u);
  EXPECT_EQ(link.endpoint(), config.endpoints.front());
}

}  // namespace
}  // namespace booth
