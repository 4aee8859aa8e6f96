// End to end on loopback: a visitor's data is private on disk, reachable
// only through its unguessable link, and gone when the operator deletes it.
// trainer_node and capture_node as real processes, synthetic camera.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/child_process.h"
#include "support/poll_json.h"

namespace booth {
namespace {

using nlohmann::json;
using testing::ChildProcess;
using testing::pollJson;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(HttpPrivacy, VisitorDataIsPrivateLinkedOnlyToTheOperatorAndDeletedOnRequest) {
  const fs::path dir = fs::temp_directory_path() / ("booth_privacy_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "data");
  fs::permissions(dir / "data", fs::perms::all);  // an existing, open data folder
  ChildProcess trainer(BOOTH_TRAINER_BIN, {"--data-dir",  (dir / "data").string(),
                                           "--http-port", "0",
                                           "--ingest",    "tcp://127.0.0.1:*",
                                           "--insecure",  "--threads", "1", "--fsync",
                                           "false",       "--train-budget",
                                           "8",           "--resolution",
                                           "64",          "--ngf",
                                           "8",           "--ndf",
                                           "8",           "--blocks",
                                           "1",           "--clip-seconds",
                                           "1",           "--clip-fps",
                                           "10",          "--panel-size",
                                           "64"},
                       (dir / "trainer.log").string());
  auto url = trainer.waitForLine("HTTP_URL=", 30s);
  auto ingest = trainer.waitForLine("INGEST_ENDPOINT=", 5s);
  auto token_file = trainer.waitForLine("OPERATOR_TOKEN_FILE=", 5s);
  ASSERT_TRUE(url && ingest && token_file) << trainer.output();
  // No token configured: the trainer made one, readable by its user only.
  EXPECT_EQ(*token_file, (dir / "data" / "operator_token").string());
  std::string token;
  std::getline(std::ifstream(*token_file), token);
  EXPECT_EQ(token.size(), 32u);

  ChildProcess capture(
      BOOTH_CAPTURE_BIN,
      {"--insecure", "--trainer", *ingest, "--camera", "synthetic", "--width", "160", "--height",
       "120", "--fps", "10", "--spool-dir", (dir / "spool").string()},
      (dir / "capture.log").string());
  httplib::Client anonymous(*url);
  httplib::Client op(*url);
  op.set_bearer_token_auth(token);
  ASSERT_TRUE(pollJson(
      op, "/api/nodes", [](const json& j) { return j.size() == 1; }, 30s))
      << trainer.output() << capture.output();
  auto refused = anonymous.Post("/api/sessions", R"({"seconds": 2})", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  auto started = op.Post("/api/sessions", R"({"seconds": 2})", "application/json");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 201) << started->body;
  const std::string id = json::parse(started->body)["id"];
  auto done = pollJson(
      op, "/api/jobs/" + id,
      [](const json& j) { return j["state"] == "done" || j["state"] == "failed"; }, 180s);
  ASSERT_TRUE(done) << trainer.output();
  ASSERT_EQ((*done)["state"], "done") << done->dump(2);

  // Only the operator sees the link; the link alone opens the clip.
  auto listing = anonymous.Get("/api/jobs");
  ASSERT_TRUE(listing);
  EXPECT_EQ(listing->status, 401);
  const std::string page = (*done)["page_url"];
  const std::string clip = (*done)["clip_url"];
  auto visitor = anonymous.Get(page.substr(url->size()).c_str());
  ASSERT_TRUE(visitor);
  EXPECT_EQ(visitor->status, 200);
  auto poster = anonymous.Get((page.substr(url->size()) + "/poster.jpg").c_str());
  ASSERT_TRUE(poster);
  EXPECT_EQ(poster->status, 200);

  // Everything the trainer wrote is its user's alone.
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir / "data")) {
    struct stat st {};
    ASSERT_EQ(::lstat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u) << e.path() << " is open to others";
    ++files;
  }
  struct stat root {};
  ASSERT_EQ(::stat((dir / "data").c_str(), &root), 0);
  EXPECT_EQ(root.st_mode & 0777, 0700u);
  EXPECT_GT(files, 5);

  // Deleting the visitor's data removes frames, model, clip and poster.
  auto deleted = op.Delete(("/api/jobs/" + id + "/data").c_str());
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 200) << deleted->body;
  const std::string session = (*done)["session_id"];
  EXPECT_FALSE(fs::exists(dir / "data" / "sessions" / session));
  for (const auto& e : fs::directory_iterator(dir / "data" / "clips")) {
    ADD_FAILURE() << "left behind: " << e.path();
  }
  auto gone = anonymous.Get(clip.substr(url->size()).c_str());
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  auto expired = anonymous.Get(page.substr(url->size()).c_str());
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->status, 404);
  EXPECT_NE(expired->body.find("This dance is not here"), std::string::npos);

  capture.signal(SIGINT);
  trainer.signal(SIGINT);
  EXPECT_EQ(capture.wait(15s), std::optional<int>(0)) << capture.output();
  EXPECT_EQ(trainer.wait(15s), std::optional<int>(0)) << trainer.output();
  if (!::testing::Test::HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace booth
