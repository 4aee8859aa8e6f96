// End to end on loopback: trainer_node and capture_node as real processes,
// one short session with the synthetic performer and a tiny training
// budget, through the operator's HTTP API, down to the clip.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/child_process.h"
#include "support/poll_json.h"
#include "support/mp4_probe.h"

namespace booth {
namespace {

using nlohmann::json;
using testing::ChildProcess;
using testing::pollJson;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

class NodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_it_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // The operator token the trainers of a test use (a file only its user
    // may read, as the trainer demands).
    token_file_ = dir_ / "operator_token";
    std::ofstream(token_file_) << kOperatorToken << "\n";
    fs::permissions(token_file_, fs::perms::owner_read | fs::perms::owner_write);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  std::string log(const std::string& name) const { return (dir_ / name).string(); }

  // ingest: the endpoint to bind; by default any free port. Each trainer of
  // a test needs its own log, or one could read the other's start-up lines.
  std::unique_ptr<ChildProcess> startTrainer(const std::string& ingest = "tcp://127.0.0.1:*",
                                             const std::string& log_name = "trainer.log") {
    std::vector<std::string> args = {"--data-dir",     (dir_ / "data").string(),
                                     "--http-port",    "0",
                                     "--ingest",       ingest,
                                     "--fsync",        "false",
                                     "--insecure",
                                     "--train-budget", "8",
                                     "--threads",      "1",
                                     "--resolution",   "64",
                                     "--ngf",          "8",
                                     "--ndf",          "8",
                                     "--blocks",       "1",
                                     "--clip-seconds", "2",
                                     "--clip-fps",     "10",
                                     "--panel-size",   "64",
                                     "--operator-token-file", token_file_.string()};
    return std::make_unique<ChildProcess>(BOOTH_TRAINER_BIN, args, log(log_name));
  }
  static constexpr const char* kOperatorToken = "integration-test-operator-token";
  fs::path dir_;
  fs::path token_file_;
};

TEST_F(NodesTest, OneSessionEndsWithADownloadableClip) {
  auto trainer = startTrainer();
  auto url = trainer->waitForLine("HTTP_URL=", 30s);
  auto ingest = trainer->waitForLine("INGEST_ENDPOINT=", 5s);
  ASSERT_TRUE(url && ingest) << trainer->output();

  ChildProcess capture(BOOTH_CAPTURE_BIN,
                       {"--insecure", "--trainer", *ingest, "--camera", "synthetic:cleo:warmup", "--width", "320",
                        "--height", "240", "--fps", "15", "--node-id", "it-node", "--spool-dir",
                        (dir_ / "spool").string()},
                       log("capture.log"));
  httplib::Client http(*url);
  http.set_bearer_token_auth(kOperatorToken);
  http.set_read_timeout(10, 0);
  auto nodes = pollJson(
      http, "/api/nodes", [](const json& j) { return j.size() == 1; }, 30s);
  ASSERT_TRUE(nodes) << trainer->output() << capture.output();
  EXPECT_EQ((*nodes)[0]["node_id"], "it-node");

  auto started = http.Post("/api/sessions", R"({"seconds": 2})", "application/json");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 201) << started->body;
  const std::string id = json::parse(started->body)["id"];

  auto done = pollJson(
      http, "/api/jobs/" + id,
      [](const json& j) { return j["state"] == "done" || j["state"] == "failed"; }, 240s);
  ASSERT_TRUE(done) << trainer->output() << capture.output();
  ASSERT_EQ((*done)["state"], "done") << done->dump(2);
  EXPECT_GE((*done)["frames_received"].get<int>(), 25);  // 2 s at 15 fps
  EXPECT_GT((*done)["generator_steps"].get<int>(), 0);

  const std::string clip_url = (*done)["clip_url"];
  ASSERT_EQ(clip_url.rfind(*url, 0), 0u) << clip_url;
  auto clip = http.Get(clip_url.substr(url->size()).c_str());
  ASSERT_TRUE(clip);
  ASSERT_EQ(clip->status, 200);
  EXPECT_EQ(clip->get_header_value("Content-Type"), "video/mp4");
  const fs::path saved = dir_ / "clip.mp4";
  std::ofstream(saved, std::ios::binary) << clip->body;
  const auto probe = testing::probeMp4(saved.string());
  ASSERT_TRUE(probe.ok) << probe.error;
  EXPECT_EQ(probe.codec, "h264");
  EXPECT_EQ(probe.pixel_format, "yuv420p");
  EXPECT_EQ(probe.frames, 20);  // 2 s at 10 fps
  EXPECT_EQ(probe.width, 3 * 64);
  EXPECT_EQ(probe.height, 64);

  // A wrong token is not found.
  auto missing = http.Get("/clips/00000000000000000000000000000000.mp4");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);

  // Ctrl-C stops both cleanly.
  capture.signal(SIGINT);
  trainer->signal(SIGINT);
  EXPECT_EQ(capture.wait(15s), std::optional<int>(0)) << capture.output();
  EXPECT_EQ(trainer->wait(15s), std::optional<int>(0)) << trainer->output();
}

TEST_F(NodesTest, StartWithoutCaptureNodeIsRefusedClearly) {
  auto trainer = startTrainer();
  auto url = trainer->waitForLine("HTTP_URL=", 30s);
  ASSERT_TRUE(url) << trainer->output();
  httplib::Client http(*url);
  http.set_bearer_token_auth(kOperatorToken);
  auto res = http.Post("/api/sessions", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  EXPECT_NE(res->body.find("no capture node"), std::string::npos) << res->body;
  trainer->signal(SIGTERM);
  EXPECT_EQ(trainer->wait(15s), std::optional<int>(0));
}

// Bad input: one clear line, a non-zero exit, no hang.
void expectCleanFailure(ChildProcess& p, const std::string& needle) {
  auto code = p.wait(30s);
  ASSERT_TRUE(code.has_value()) << "did not exit: " << p.output();
  EXPECT_EQ(*code, 2) << p.output();
  EXPECT_NE(p.output().find(needle), std::string::npos) << p.output();
  EXPECT_NE(p.output().find("error:"), std::string::npos) << p.output();
}

TEST_F(NodesTest, HttpPortInUseIsAClearError) {
  auto first = startTrainer();
  auto url = first->waitForLine("HTTP_URL=", 30s);
  ASSERT_TRUE(url) << first->output();
  const std::string port = url->substr(url->rfind(':') + 1);
  ChildProcess second(BOOTH_TRAINER_BIN,
                      {"--data-dir", (dir_ / "data2").string(), "--http-port", port, "--ingest",
                       "tcp://127.0.0.1:*", "--insecure"},
                      log("second.log"));
  expectCleanFailure(second, "127.0.0.1:" + port);
}

TEST_F(NodesTest, IngestPortInUseIsAClearError) {
  auto first = startTrainer();
  auto ingest = first->waitForLine("INGEST_ENDPOINT=", 30s);
  ASSERT_TRUE(ingest) << first->output();
  ChildProcess second(
      BOOTH_TRAINER_BIN,
      {"--data-dir", (dir_ / "data2").string(), "--http-port", "0", "--ingest", *ingest,
       "--insecure"},
      log("second.log"));
  expectCleanFailure(second, *ingest);
}

TEST_F(NodesTest, UnreachableTrainerIsAClearError) {
  ChildProcess capture(
      BOOTH_CAPTURE_BIN,
      {"--insecure", "--trainer", "tcp://127.0.0.1:9", "--camera", "synthetic",
       "--connect-timeout", "1",
       "--spool-dir", (dir_ / "spool").string()},
      log("capture.log"));
  expectCleanFailure(capture, "tcp://127.0.0.1:9");
}

TEST_F(NodesTest, MissingCameraIsAClearError) {
  ChildProcess capture(
      BOOTH_CAPTURE_BIN,
      {"--insecure", "--camera", "v4l2:/dev/video-booth-missing", "--pose-model",
       "/nonexistent.pb"},
      log("capture.log"));
  expectCleanFailure(capture, "/dev/video-booth-missing");
}

TEST_F(NodesTest, WrongConfigValueIsAClearError) {
  ChildProcess trainer(BOOTH_TRAINER_BIN, {"--train-budget", "-5"}, log("trainer.log"));
  expectCleanFailure(trainer, "--train-budget");
  ChildProcess capture(BOOTH_CAPTURE_BIN, {"--fps", "many"}, log("capture.log"));
  expectCleanFailure(capture, "fps");
}

TEST_F(NodesTest, BothBinariesAnswerHelp) {
  for (const char* bin : {BOOTH_TRAINER_BIN, BOOTH_CAPTURE_BIN}) {
    ChildProcess p(bin, {"--help"}, log("help.log"));
    EXPECT_EQ(p.wait(10s), std::optional<int>(0));
    EXPECT_NE(p.output().find("--config"), std::string::npos) << p.output();
  }
}

}  // namespace
}  // namespace booth

namespace booth {
namespace {

// Frames per camera that a capture of `seconds` at `fps` stores (the last
// frame may or may not fall inside the deadline).
void expectFramesOfOneCapture(const json& job, int seconds, int fps) {
  ASSERT_EQ(job["cameras"].size(), 1u) << job.dump(2);
  const int frames = job["cameras"][0]["frames"].get<int>();
  EXPECT_GE(frames, seconds * fps - 2) << job.dump(2);
  EXPECT_LE(frames, seconds * fps + 1) << job.dump(2);
  EXPECT_EQ(job["frames_received"].get<int>(), frames) << job.dump(2);
}

// The trainer is killed mid-capture and comes back on the same endpoint and
// data directory: it reopens the session, the node keeps streaming from its
// spool, every frame arrives exactly once (the manifest's count and
// checksum match what is stored) and the job runs to a clip.
TEST_F(NodesTest, TrainerKilledMidStreamComesBackAndTheJobRuns) {
  auto trainer = startTrainer();
  auto url = trainer->waitForLine("HTTP_URL=", 30s);
  auto ingest = trainer->waitForLine("INGEST_ENDPOINT=", 5s);
  ASSERT_TRUE(url && ingest) << trainer->output();
  ChildProcess capture(BOOTH_CAPTURE_BIN,
                       {"--insecure", "--trainer", *ingest, "--camera", "synthetic", "--width",
                        "160", "--height", "120", "--fps", "10", "--resend-ms", "300", "--spool-dir",
                        (dir_ / "spool").string()},
                       log("capture.log"));
  {
    httplib::Client http(*url);
    http.set_bearer_token_auth(kOperatorToken);
    ASSERT_TRUE(pollJson(
        http, "/api/nodes", [](const json& j) { return j.size() == 1; }, 30s));
    auto started = http.Post("/api/sessions", R"({"seconds": 3})", "application/json");
    ASSERT_TRUE(started && started->status == 201);
  }
  std::this_thread::sleep_for(1500ms);  // mid-capture, frames streaming
  trainer->signal(SIGKILL);
  trainer->wait(10s);

  auto again = startTrainer(*ingest, "trainer-restarted.log");
  auto url2 = again->waitForLine("HTTP_URL=", 30s);
  ASSERT_TRUE(url2) << again->output();
  httplib::Client http(*url2);
  http.set_bearer_token_auth(kOperatorToken);
  auto jobs = pollJson(
      http, "/api/jobs", [](const json& j) { return j.size() == 1; }, 30s);
  ASSERT_TRUE(jobs) << again->output();
  const std::string id = (*jobs)[0]["id"];
  auto done = pollJson(
      http, "/api/jobs/" + id,
      [](const json& j) { return j["state"] == "done" || j["state"] == "failed"; }, 180s);
  ASSERT_TRUE(done) << again->output() << capture.output();
  ASSERT_EQ((*done)["state"], "done") << done->dump(2) << capture.output();
  expectFramesOfOneCapture(*done, 3, 10);
  // The node deleted its spool once the trainer verified the manifest.
  EXPECT_TRUE(fs::is_empty(dir_ / "spool")) << capture.output();
  capture.signal(SIGINT);
  again->signal(SIGINT);
  EXPECT_EQ(capture.wait(15s), std::optional<int>(0)) << capture.output();
  EXPECT_EQ(again->wait(15s), std::optional<int>(0)) << again->output();
}

// The capture node is killed after capture, before streaming ends (the
// trainer is stalled meanwhile, so nothing is acked), and restarted: it
// finds the session in its spool, offers it in Hello, the trainer resumes
// it, and every frame arrives exactly once.
TEST_F(NodesTest, CaptureNodeKilledAfterCaptureResumesFromItsSpool) {
  auto trainer = startTrainer();
  auto url = trainer->waitForLine("HTTP_URL=", 30s);
  auto ingest = trainer->waitForLine("INGEST_ENDPOINT=", 5s);
  ASSERT_TRUE(url && ingest) << trainer->output();
  const std::vector<std::string> node_args = {
      "--insecure", "--trainer", *ingest,  "--camera", "synthetic", "--width",     "160", "--height", "120",
      "--fps",     "10",     "--resend-ms", "300",    "--node-id", "booth-7", "--spool-dir",
      (dir_ / "spool").string()};
  auto capture = std::make_unique<ChildProcess>(BOOTH_CAPTURE_BIN, node_args, log("capture.log"));
  httplib::Client http(*url);
  http.set_bearer_token_auth(kOperatorToken);
  ASSERT_TRUE(pollJson(
      http, "/api/nodes", [](const json& j) { return j.size() == 1; }, 30s));
  auto started = http.Post("/api/sessions", R"({"seconds": 2})", "application/json");
  ASSERT_TRUE(started && started->status == 201);
  const std::string id = json::parse(started->body)["id"];
  trainer->signal(SIGSTOP);  // nothing is acked from here on
  auto captured = [&] { return capture->output().find("capture done") != std::string::npos; };
  for (int i = 0; i < 100 && !captured(); ++i) std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(captured()) << capture->output();
  capture->signal(SIGKILL);
  capture->wait(10s);
  trainer->signal(SIGCONT);

  capture = std::make_unique<ChildProcess>(BOOTH_CAPTURE_BIN, node_args, log("capture2.log"));
  auto done = pollJson(
      http, "/api/jobs/" + id,
      [](const json& j) { return j["state"] == "done" || j["state"] == "failed"; }, 180s);
  ASSERT_TRUE(done) << trainer->output() << capture->output();
  ASSERT_EQ((*done)["state"], "done") << done->dump(2) << capture->output();
  expectFramesOfOneCapture(*done, 2, 10);
  EXPECT_NE(capture->output().find("left by a previous run"), std::string::npos)
      << capture->output();
  capture->signal(SIGINT);
  trainer->signal(SIGINT);
  EXPECT_EQ(capture->wait(15s), std::optional<int>(0)) << capture->output();
  EXPECT_EQ(trainer->wait(15s), std::optional<int>(0)) << trainer->output();
}

}  // namespace
}  // namespace booth
