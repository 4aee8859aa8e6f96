// The scaled-out trainer end to end, every part a real process on loopback
// sharing one PostgreSQL schema (the `postgres` fixture's server): one
// gateway (`--roles ingest,http`: the capture nodes and the operator API
// that starts sessions), three workers (`--roles worker`), two HTTP
// front-ends (`--roles http`, each with a data folder of its own, so what
// they serve comes from the shared blob store), and two capture nodes with
// two synthetic cameras each. Six sessions are started through the
// operator API, one after another as an operator would, and one worker is
// killed with SIGKILL while it trains a job (short leases: its job resumes
// on another within seconds); every session must end with exactly one
// clip, served by both front-ends. Tiny capture, model and budgets
// (support/worker_fleet.h's tinyJobOptions).
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/child_process.h"
#include "support/mp4_probe.h"
#include "support/poll_json.h"
#include "support/test_database.h"
#include "support/worker_fleet.h"

namespace booth {
namespace {

using nlohmann::json;
using testing::ChildProcess;
using testing::pollJson;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kToken = "scale-out-test-operator-token";
constexpr int kSessions = 6;

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("booth_scale_out_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    token_file_ = dir_ / "operator_token";
    std::ofstream(token_file_) << kToken << "\n";
    fs::permissions(token_file_, fs::perms::owner_read | fs::perms::owner_write);
  }
  void TearDown() override {
    processes_.clear();  // stops them all (SIGKILL) before the folder goes
    if (!HasFailure()) fs::remove_all(dir_);
  }

  ChildProcess& start(const std::string& name, std::vector<std::string> args) {
    processes_.push_back(
        std::make_unique<ChildProcess>(BOOTH_TRAINER_BIN, args, (dir_ / (name + ".log")).string()));
    names_.push_back(name);
    return *processes_.back();
  }
  // A trainer process with these roles on the shared database; `data` is
  // its data folder.
  ChildProcess& startTrainer(const std::string& name, const std::string& roles,
                             const std::string& data, std::vector<std::string> more) {
    std::vector<std::string> args = {"--roles", roles,        "--database",
                                     url_,      "--data-dir", (dir_ / data).string()};
    const auto tiny = testing::tinyJobOptions();
    args.insert(args.end(), tiny.begin(), tiny.end());
    args.insert(args.end(), more.begin(), more.end());
    return start(name, args);
  }
  ChildProcess& startHttp(const std::string& name, const std::string& roles,
                          const std::string& data, std::vector<std::string> more = {}) {
    more.insert(more.end(), {"--http-port", "0", "--operator-token-file", token_file_.string()});
    return startTrainer(name, roles, data, more);
  }
  ChildProcess& startCapture(const std::string& node, const std::string& ingest) {
    processes_.push_back(std::make_unique<ChildProcess>(
        BOOTH_CAPTURE_BIN,
        std::vector<std::string>{"--insecure", "--trainer", ingest, "--node-id", node, "--camera",
                                 "synthetic:cleo:warmup", "--camera", "synthetic:ada:warmup",
                                 "--width", "160", "--height", "120", "--fps", "10", "--spool-dir",
                                 (dir_ / ("spool-" + node)).string()},
        (dir_ / ("capture-" + node + ".log")).string()));
    names_.push_back("capture-" + node);
    return *processes_.back();
  }
  std::string logs() const {
    std::string out;
    for (std::size_t i = 0; i < processes_.size(); ++i)
      out += "----- " + names_[i] + "\n" + processes_[i]->output() + "\n";
    return out;
  }
  static std::unique_ptr<httplib::Client> client(const std::string& url) {
    auto http = std::make_unique<httplib::Client>(url);
    http->set_bearer_token_auth(kToken);
    http->set_read_timeout(15, 0);
    return http;
  }

  fs::path dir_;
  fs::path token_file_;
  std::string url_;
  std::vector<std::unique_ptr<ChildProcess>> processes_;
  std::vector<std::string> names_;
};

TEST_F(ScaleOutTest, SixSessionsWithAWorkerKilledEachEndWithOneClipServedByBothFrontEnds) {
  testing::TestSchema schema;
  url_ = schema.url();
  PgOptions options;
  options.url = url_;
  auto db = PgDatabase::open(options);
  ASSERT_TRUE(db.ok()) << db.error();
  PgJobQueue queue(db.value());
  PgBlobStore blobs(db.value());

  ChildProcess& gateway =
      startHttp("gateway", "ingest,http", "data", {"--ingest", "tcp://127.0.0.1:*", "--insecure"});
  const auto gateway_url = gateway.waitForLine("HTTP_URL=", 60s);
  const auto ingest = gateway.waitForLine("INGEST_ENDPOINT=", 10s);
  ASSERT_TRUE(gateway_url && ingest) << logs();
  // Each worker has a data folder of its own: it reads the sessions' frames
  // from the segment blobs the gateway stored in the database.
  std::vector<ChildProcess*> workers;
  for (int w = 1; w <= 3; ++w) {
    const std::string name = "worker-" + std::to_string(w);
    workers.push_back(&startTrainer(
        name, "worker", name + "-data", {"--worker-id", name, "--lease", "3", "--checkpoint-every", "1"}));
  }
  std::vector<std::string> front_urls;
  for (int f = 1; f <= 2; ++f) {
    const std::string name = "front-" + std::to_string(f);
    ChildProcess& front = startHttp(name, "http", name + "-data");
    const auto front_url = front.waitForLine("HTTP_URL=", 60s);
    ASSERT_TRUE(front_url) << logs();
    front_urls.push_back(*front_url);
  }
  for (ChildProcess* w : workers) ASSERT_TRUE(w->waitForLine("WORKER_ID=", 60s)) << logs();
  startCapture("booth-a", *ingest);
  startCapture("booth-b", *ingest);

  auto operator_api = client(*gateway_url);
  ASSERT_TRUE(pollJson(
      *operator_api, "/api/nodes", [](const json& j) { return j.size() == 2; }, 60s))
      << logs();

  // Six sessions, each as soon as the previous capture let go of the nodes
  // (409 while one is still being captured).
  std::vector<std::string> ids;
  for (int s = 0; s < kSessions; ++s) {
    std::optional<std::string> id;
    ASSERT_TRUE(testing::waitFor(
        [&] {
          auto res = operator_api->Post("/api/sessions", R"({"seconds": 1, "budget_seconds": 12})",
                                        "application/json");
          if (res && res->status == 201) id = json::parse(res->body)["id"].get<std::string>();
          EXPECT_TRUE(!res || res->status == 201 || res->status == 409)
              << (res ? std::to_string(res->status) + " " + res->body : "no answer");
          return id.has_value();
        },
        120s))
        << "session " << s << " was not started\n"
        << logs();
    ids.push_back(*id);
  }

  // The worker training a job that has a checkpoint dies.
  std::string killed_job;
  ASSERT_TRUE(testing::waitFor(
      [&] {
        for (const auto& id : ids) {
          const auto job = queue.get(id);
          if (!job || job->state != JobState::kTraining || job->checkpoint_path.empty()) continue;
          for (std::size_t w = 0; w < workers.size(); ++w) {
            const std::string started =
                "job " + id + ": worker worker-" + std::to_string(w + 1) + " starting";
            if (workers[w]->output().find(started) == std::string::npos) continue;
            workers[w]->signal(SIGKILL);
            killed_job = id;
            return true;
          }
        }
        return false;
      },
      300s))
      << "no job trained with a checkpoint\n"
      << logs();

  // Every job ends done; read through a front-end (the shared queue).
  auto front1 = client(front_urls[0]);
  std::vector<json> done;
  for (const auto& id : ids) {
    const auto job = pollJson(
        *front1, "/api/jobs/" + id,
        [](const json& j) {
          const std::string st = j.value("state", "");
          return st == "done" || st == "failed" || st == "cancelled" || st == "expired";
        },
        300s);
    ASSERT_TRUE(job) << "job " << id << " did not finish\n" << logs();
    ASSERT_EQ((*job)["state"], "done") << job->dump(2) << "\n" << logs();
    // Two nodes with two cameras each, and every camera's frames counted
    // (the worker checks the stored frames against these counts).
    EXPECT_EQ((*job)["cameras"].size(), 4u) << job->dump(2);
    for (const auto& cam : (*job)["cameras"]) {
      EXPECT_GT(cam.value("frames", std::int64_t{0}), 0)
          << "camera " << cam.value("node", "") << "/" << cam.value("camera", "") << ": "
          << job->dump(2);
    }
    done.push_back(*job);
  }

  EXPECT_GE(queue.get(killed_job)->attempts, 2) << "resumed by another worker";

  // Exactly one clip per session in the shared blob store, each its job's.
  std::set<std::string> tokens;
  for (const auto& job : done) tokens.insert(job["clip_url"].get<std::string>());
  EXPECT_EQ(tokens.size(), static_cast<std::size_t>(kSessions));
  auto listed = blobs.list("clips/");
  ASSERT_TRUE(listed.ok()) << listed.error();
  std::set<std::string> clip_blobs;
  for (const auto& b : *listed)
    if (b.key.size() > 4 && b.key.compare(b.key.size() - 4, 4, ".mp4") == 0)
      clip_blobs.insert(b.key);
  EXPECT_EQ(clip_blobs.size(), static_cast<std::size_t>(kSessions)) << logs();

  // Both front-ends serve every clip, whole and as the MP4 it should be.
  for (const auto& front_url : front_urls) {
    auto http = client(front_url);
    for (const auto& job : done) {
      const std::string clip_url = job["clip_url"];
      const std::string path = clip_url.substr(clip_url.find("/clips/"));
      EXPECT_TRUE(clip_blobs.count(path.substr(1))) << path;
      auto clip = http->Get(path.c_str());
      ASSERT_TRUE(clip) << front_url << path;
      ASSERT_EQ(clip->status, 200) << front_url << path << ": " << clip->body;
      EXPECT_EQ(clip->get_header_value("Content-Type"), "video/mp4");
      EXPECT_EQ(static_cast<std::int64_t>(clip->body.size()),
                job["clip"]["bytes"].get<std::int64_t>());
      const fs::path saved = dir_ / "clip.mp4";
      std::ofstream(saved, std::ios::binary | std::ios::trunc) << clip->body;
      const auto probe = testing::probeMp4(saved.string());
      EXPECT_TRUE(probe.ok) << probe.error;
      EXPECT_EQ(probe.codec, "h264");
    }
  }
}

}  // namespace
}  // namespace booth
