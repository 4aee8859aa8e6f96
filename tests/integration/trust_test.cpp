// Trust and faults with real processes on loopback: trainer_node and
// capture_node with CURVE keys; an intruder, an impostor and a client of
// another protocol version knock while a visitor's session runs; the
// trainer is stalled mid-session. The session ends with exactly the real
// node's frames.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "booth.pb.h"
#include "support/child_process.h"
#include "support/poll_json.h"

namespace booth {
namespace {

using nlohmann::json;
using testing::ChildProcess;
using testing::pollJson;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string readKey(const fs::path& path) {
  std::ifstream in(path);
  std::string key;
  in >> key;
  return key;
}

// Sends raw envelopes as some other client would.
class Knocker {
 public:
  Knocker(const std::string& endpoint, const std::string& server_key, const fs::path& secret,
          const std::string& routing_id = {})
      : socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    if (!routing_id.empty()) socket_.set(zmq::sockopt::routing_id, routing_id);
    if (!secret.empty()) {
      char pub[41];
      const std::string sec = readKey(secret);
      zmq_curve_public(pub, sec.c_str());
      socket_.set(zmq::sockopt::curve_serverkey, server_key);
      socket_.set(zmq::sockopt::curve_publickey, std::string(pub));
      socket_.set(zmq::sockopt::curve_secretkey, sec);
    }
    socket_.connect(endpoint);
  }
  void send(const v2::Envelope& env, std::uint32_t version = 3) {
    v2::Envelope copy = env;
    copy.set_version(version);
    std::string bytes;
    copy.SerializeToString(&bytes);
    socket_.send(zmq::buffer(bytes), zmq::send_flags::dontwait);
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

class TrustTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("booth_trust_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    keys_ = dir_ / "keys";
    ASSERT_EQ(std::system(("TRAINER_BIN='" + std::string(BOOTH_TRAINER_BIN) + "' CAPTURE_BIN='" +
                           BOOTH_CAPTURE_BIN + "' '" + BOOTH_MAKE_KEYS + "' '" + keys_.string() +
                           "' booth-1 booth-2 >/dev/null")
                              .c_str()),
              0);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  fs::path dir_, keys_;
};

TEST_F(TrustTest, IntrudersAreRefusedAndAStalledTrainerLosesNothing) {
  ChildProcess trainer(BOOTH_TRAINER_BIN,
                       {"--data-dir", (dir_ / "data").string(), "--http-port", "0", "--ingest",
                        "tcp://127.0.0.1:*", "--fsync", "true", "--train-budget", "6",
                        "--threads", "1", "--resolution", "64", "--ngf", "8", "--ndf", "8", "--blocks", "1",
                        "--clip-seconds", "1", "--clip-fps", "10", "--panel-size", "64",
                        "--curve-secret-key", (keys_ / "trainer.key").string(), "--allowed-nodes",
                        (keys_ / "allowed_nodes").string()},
                       (dir_ / "trainer.log").string());
  auto url = trainer.waitForLine("HTTP_URL=", 30s);
  auto ingest = trainer.waitForLine("INGEST_ENDPOINT=", 5s);
  auto token_file = trainer.waitForLine("OPERATOR_TOKEN_FILE=", 5s);
  ASSERT_TRUE(url && ingest && token_file) << trainer.output();
  ChildProcess capture(BOOTH_CAPTURE_BIN,
                       {"--trainer", *ingest, "--node-id", "booth-1", "--camera", "synthetic",
                        "--width", "160", "--height", "120", "--fps", "10", "--resend-ms", "500",
                        "--spool-dir", (dir_ / "spool").string(), "--curve-secret-key",
                        (keys_ / "booth-1.key").string(), "--trainer-public-key",
                        (keys_ / "trainer.pub").string()},
                       (dir_ / "capture.log").string());
  httplib::Client http(*url);
  http.set_bearer_token_auth(readKey(*token_file));  // the token the trainer made (0600)
  ASSERT_TRUE(pollJson(
      http, "/api/nodes", [](const json& j) { return j.size() == 1; }, 30s))
      << trainer.output() << capture.output();
  auto started = http.Post("/api/sessions", R"({"seconds": 3})", "application/json");
  ASSERT_TRUE(started && started->status == 201) << (started ? started->body : "no answer");
  const std::string id = json::parse(started->body)["id"];
  const std::string session = json::parse(started->body)["session_id"];

  // While the visitor dances:
  const std::string server_key = readKey(keys_ / "trainer.pub");
  v2::Envelope frame;
  frame.mutable_frame()->set_session_id(session);
  frame.mutable_frame()->set_camera_id("cam0");
  frame.mutable_frame()->set_sequence(1);
  frame.mutable_frame()->set_encoding(v2::ENCODING_JPEG);
  frame.mutable_frame()->set_data(std::string("\xff\xd8\xff\xd9", 4));
  v2::Envelope failing;
  failing.mutable_manifest()->set_session_id(session);
  failing.mutable_manifest()->set_error("intruder says the session failed");
  v2::Envelope hello;
  hello.mutable_hello()->set_node_id("booth-1");
  hello.mutable_hello()->add_cameras()->set_camera_id("cam0");
  {
    // An unknown key: the handshake never completes.
    fs::create_directories(dir_ / "stranger");
    ASSERT_EQ(std::system(("'" + std::string(BOOTH_CAPTURE_BIN) + "' keygen --out '" +
                           (dir_ / "stranger" / "x").string() + "' >/dev/null")
                              .c_str()),
              0);
    Knocker stranger(*ingest, server_key, dir_ / "stranger" / "x.key");
    stranger.send(hello);
    stranger.send(frame);
    stranger.send(failing);
    // No key at all.
    Knocker plain(*ingest, "", {});
    plain.send(hello);
    plain.send(frame);
    // Another allowed node: not a member; and it borrows booth-1's name as
    // routing id and in Hello.
    Knocker other(*ingest, server_key, keys_ / "booth-2.key", "booth-1");
    other.send(hello);
    v2::Envelope own;
    own.mutable_hello()->set_node_id("booth-2");
    own.mutable_hello()->add_cameras()->set_camera_id("cam0");
    other.send(own);
    other.send(frame);
    other.send(failing);
    // Protocol version 1.
    Knocker old(*ingest, server_key, keys_ / "booth-2.key");
    old.send(own, 1);
    std::this_thread::sleep_for(1s);
  }
  // The trainer freezes for a while mid-session (a long GC, a swap storm).
  trainer.signal(SIGSTOP);
  std::this_thread::sleep_for(4s);
  trainer.signal(SIGCONT);

  auto done = pollJson(
      http, "/api/jobs/" + id,
      [](const json& j) { return j["state"] == "done" || j["state"] == "failed"; }, 180s);
  ASSERT_TRUE(done) << trainer.output() << capture.output();
  ASSERT_EQ((*done)["state"], "done") << done->dump(2);
  ASSERT_EQ((*done)["cameras"].size(), 1u) << done->dump(2);
  EXPECT_EQ((*done)["cameras"][0]["node"], "booth-1");
  const int frames = (*done)["cameras"][0]["frames"];
  EXPECT_GE(frames, 28);
  EXPECT_LE(frames, 31);
  // The trainer said why it refused.
  EXPECT_NE(trainer.output().find("unknown public key"), std::string::npos) << trainer.output();
  EXPECT_NE(trainer.output().find("came with a Hello naming 'booth-1'"), std::string::npos);
  EXPECT_NE(trainer.output().find("protocol version 1"), std::string::npos);
  capture.signal(SIGINT);
  trainer.signal(SIGINT);
  EXPECT_EQ(capture.wait(15s), std::optional<int>(0)) << capture.output();
  EXPECT_EQ(trainer.wait(15s), std::optional<int>(0)) << trainer.output();
}

}  // namespace
}  // namespace booth
