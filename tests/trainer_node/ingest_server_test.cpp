// IngestServer in process, over real sockets on loopback: what a capture
// node may do, and every way an intruder or a confused node is refused
// while the real session goes on.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include <opencv2/imgcodecs.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "common/transport/curve_keys.h"
#include "ingest_test_client.h"
#include "support/small_disk.h"
#include "common/transport/wire.h"
#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/session_store.h"

namespace booth {
namespace {
using test_ingest::Client;
using test_ingest::tinyJpeg;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Collects what the default logger writes while it lives (installed before
// the server starts, removed after it stopped).
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(text_)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  int linesWith(const std::string& needle) {
    sink_->flush();
    std::istringstream in(text_.str());
    int n = 0;
    for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
    return n;
  }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

// Polls `done` for up to 5 s.
template <class Done>
bool eventually(Done done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(10ms);
  return done();
}

class IngestServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("booth_ingest_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    jobs_ = std::move(JobStore::open((dir_ / "jobs.sqlite").string()).value());
    sessions_ = std::make_unique<SessionStore>(dir_, /*fsync=*/false);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  void start(IngestConfig config = {}) {
    config.endpoint = "tcp://127.0.0.1:*";
    if (!config.server_keys) config.insecure = true;
    config.node_timeout = 60s;
    queue_ = std::make_unique<EmbeddedJobQueue>(*jobs_);
    server_ = std::make_unique<IngestServer>(config, *queue_, *sessions_);
    ASSERT_TRUE(server_->start().ok());
  }
  // Waits until the trainer lists the node.
  void awaitNode(const std::string& id) {
    for (int i = 0; i < 200; ++i) {
      for (const auto& n : server_->nodes()) {
        if (n.node_id == id) return;
      }
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "node " << id << " never appeared";
  }
  std::string startSession() {
    auto job = server_->startSession(SessionRequest{2, 0, ""});
    EXPECT_TRUE(job.ok()) << job.error();
    return job.ok() ? job->session_id : std::string();
  }
  fs::path dir_;
  std::unique_ptr<JobStore> jobs_;
  std::unique_ptr<EmbeddedJobQueue> queue_;  // over jobs_, made by start()
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<IngestServer> server_;
};

TEST_F(IngestServerTest, AMemberNodesFramesAreStoredAndAcked) {
  start();
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  ASSERT_TRUE(node.await(v2::Envelope::kSessionStart));
  node.frame(session, "cam0", 0);
  auto ack = node.await(v2::Envelope::kAck);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->ack().ok()) << ack->ack().error();
  EXPECT_EQ(ack->ack().sequences(0), 0u);
  EXPECT_EQ(sessions_->totals(session, "booth-1", "cam0").value().frames, 1u);
  EXPECT_EQ(server_->stats().frames_received, 1u);
}

TEST_F(IngestServerTest, AClientThatNeverSaidHelloIsRefused) {
  start();
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  Client stranger(server_->endpoint());
  stranger.frame(session, "cam0", 0);
  auto error = stranger.await(v2::Envelope::kProtocolError);
  ASSERT_TRUE(error);
  EXPECT_NE(error->protocol_error().error().find("Hello"), std::string::npos);
  EXPECT_EQ(sessions_->totals(session, "booth-1", "cam0").value().frames, 0u);
}

TEST_F(IngestServerTest, ANodeThatIsNotAMemberCannotAddFramesOrFailTheSession) {
  start();
  Client member(server_->endpoint());
  member.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  // Connected after the session started: not a member.
  Client intruder(server_->endpoint());
  intruder.hello("booth-9");
  awaitNode("booth-9");
  intruder.frame(session, "cam0", 0);
  auto ack = intruder.await(v2::Envelope::kAck);
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->ack().ok());
  EXPECT_NE(ack->ack().error().find("not a member"), std::string::npos) << ack->ack().error();
  v2::Envelope manifest;
  manifest.mutable_manifest()->set_session_id(session);
  manifest.mutable_manifest()->set_error("I say it failed");
  intruder.send(manifest);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(jobs_->bySession(session)->state, JobState::kReceiving);
  EXPECT_EQ(server_->stats().frames_rejected, 1u);
}

TEST_F(IngestServerTest, CamerasTheNodeDidNotAnnounceAreRefused) {
  start();
  Client node(server_->endpoint());
  node.hello("booth-1", {"cam0"});
  awaitNode("booth-1");
  const std::string session = startSession();
  node.frame(session, "cam7", 0);
  auto ack = node.await(v2::Envelope::kAck);
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->ack().ok());
  EXPECT_NE(ack->ack().error().find("cam7"), std::string::npos) << ack->ack().error();
}

TEST_F(IngestServerTest, OversizedOrHugeOrFakeFramesAreRefusedWithTheReason) {
  IngestConfig config;
  config.max_frame_bytes = 50000;
  config.max_frame_pixels = 100 * 100;
  start(config);
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  node.frame(session, "cam0", 0, std::string(60000, 'x'));
  auto big = node.await(v2::Envelope::kAck);
  ASSERT_TRUE(big);
  EXPECT_NE(big->ack().error().find("larger than"), std::string::npos) << big->ack().error();
  node.frame(session, "cam0", 1, tinyJpeg(400, 300));  // small file, many pixels
  auto pixels = node.await(v2::Envelope::kAck);
  ASSERT_TRUE(pixels);
  EXPECT_NE(pixels->ack().error().find("pixels"), std::string::npos) << pixels->ack().error();
  node.frame(session, "cam0", 2, "not a jpeg");
  auto fake = node.await(v2::Envelope::kAck);
  ASSERT_TRUE(fake);
  EXPECT_NE(fake->ack().error().find("not a JPEG"), std::string::npos) << fake->ack().error();
  EXPECT_EQ(sessions_->totals(session, "booth-1", "cam0").value().frames, 0u);
}

TEST_F(IngestServerTest, TheFramesPerSessionLimitHolds) {
  IngestConfig config;
  config.max_frames_per_session = 2;
  start(config);
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  for (std::uint64_t i = 0; i < 3; ++i) node.frame(session, "cam0", i);
  int acked = 0, refused = 0;
  while (acked + refused < 3) {
    auto ack = node.await(v2::Envelope::kAck);
    ASSERT_TRUE(ack);
    (ack->ack().ok() ? acked : refused) += ack->ack().sequences_size();
  }
  EXPECT_EQ(acked, 2);
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(sessions_->totals(session, "booth-1", "cam0").value().frames, 2u);
}

TEST_F(IngestServerTest, AnInvalidNodeIdIsRefusedOnceNotInALoop) {
  start();
  Client node(server_->endpoint());
  node.hello("booth 1");
  auto error = node.await(v2::Envelope::kProtocolError);
  ASSERT_TRUE(error);
  EXPECT_NE(error->protocol_error().error().find("booth 1"), std::string::npos);
  EXPECT_TRUE(server_->nodes().empty());
  // A flood gets at most one answer a second.
  for (int i = 0; i < 50; ++i) node.hello("booth 1");
  int answers = 0;
  while (node.await(v2::Envelope::kProtocolError, 300ms)) ++answers;
  EXPECT_LE(answers, 1);
}

TEST_F(IngestServerTest, AFloodOfBadHellosIsCountedAndLoggedOnceAPeriod) {
  LogCapture log;
  start();
  Client node(server_->endpoint());
  for (int i = 0; i < 200; ++i) node.hello("booth 1");
  ASSERT_TRUE(eventually([&] { return server_->stats().hellos_refused == 200; }))
      << server_->stats().hellos_refused;
  server_.reset();  // stopped: nothing more is logged
  // The first one at once; the rest within the period held back (their
  // count is logged when the period ends).
  EXPECT_EQ(log.linesWith("invalid node id"), 1);
}

TEST_F(IngestServerTest, AFloodOfMalformedMessagesIsCountedAndLoggedOnceAPeriod) {
  LogCapture log;
  start();
  Client node(server_->endpoint());
  for (int i = 0; i < 500; ++i) node.sendBytes("\xff\xff not an envelope");
  ASSERT_TRUE(eventually([&] { return server_->stats().messages_refused == 500; }))
      << server_->stats().messages_refused;
  server_.reset();
  EXPECT_EQ(log.linesWith("dropping malformed message"), 1);
}

TEST_F(IngestServerTest, AMessageOverThePartLimitIsDroppedBeforeItIsRead) {
  IngestConfig config;
  config.max_frame_bytes = 100000;  // the outer max_message_bytes stays 16 MB
  start(config);
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  // 1 MB: over a frame and its envelope, far under max_message_bytes.
  // ZeroMQ drops the connection at the part's size field: the body is
  // never allocated, and the ingest never sees the message.
  node.frame(session, "cam0", 0, std::string(1 << 20, 'x'));
  EXPECT_FALSE(node.await(v2::Envelope::kAck, 1s));
  EXPECT_EQ(server_->stats().frames_rejected, 0u);
  EXPECT_EQ(server_->stats().messages_refused, 0u);
}

TEST_F(IngestServerTest, AnEmptyRawFrameIsRefused) {
  start();
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  v2::Envelope env;
  auto* f = env.mutable_frame();
  f->set_session_id(session);
  f->set_camera_id("cam0");
  f->set_sequence(0);
  f->set_encoding(v2::ENCODING_RAW_BGR);
  f->set_width(0);
  f->set_height(0);
  node.send(env);
  auto ack = node.await(v2::Envelope::kAck);
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->ack().ok());
  EXPECT_NE(ack->ack().error().find("0x0"), std::string::npos) << ack->ack().error();
  EXPECT_EQ(sessions_->totals(session, "booth-1", "cam0").value().frames, 0u);
}

TEST_F(IngestServerTest, ThePoseOfARefusedFrameIsRefused) {
  start();
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  node.frame(session, "cam0", 7, "not a jpeg");
  auto frame_ack = node.await(v2::Envelope::kAck);
  ASSERT_TRUE(frame_ack);
  ASSERT_FALSE(frame_ack->ack().ok());
  v2::Envelope env;
  env.mutable_pose()->set_session_id(session);
  env.mutable_pose()->set_camera_id("cam0");
  env.mutable_pose()->set_sequence(7);
  node.send(env);
  auto pose_ack = node.await(v2::Envelope::kAck);
  ASSERT_TRUE(pose_ack);
  EXPECT_EQ(pose_ack->ack().kind(), v2::RECORD_POSE);
  EXPECT_FALSE(pose_ack->ack().ok());
  EXPECT_NE(pose_ack->ack().error().find("refused"), std::string::npos) << pose_ack->ack().error();
  EXPECT_EQ(sessions_->totals(session, "booth-1", "cam0").value().poses, 0u);
}

TEST_F(IngestServerTest, AnotherProtocolVersionIsToldWhatIsWrong) {
  start();
  Client node(server_->endpoint());
  v2::Envelope env;
  env.mutable_hello()->set_node_id("booth-1");
  node.sendRaw(env, 1);
  auto error = node.await(v2::Envelope::kProtocolError);
  ASSERT_TRUE(error);
  EXPECT_NE(error->protocol_error().error().find("protocol version 1"), std::string::npos)
      << error->protocol_error().error();
  EXPECT_TRUE(server_->nodes().empty());
}

TEST_F(IngestServerTest, AManifestMustCoverEveryAnnouncedCamera) {
  start();
  Client node(server_->endpoint());
  node.hello("booth-1", {"cam0", "cam1"});
  awaitNode("booth-1");
  const std::string session = startSession();
  v2::Envelope env;
  auto* m = env.mutable_manifest();
  m->set_session_id(session);
  m->set_node_id("booth-1");
  m->add_cameras()->set_camera_id("cam0");  // cam1 left out
  node.send(env);
  auto ack = node.await(v2::Envelope::kManifestAck);
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->manifest_ack().ok());
  EXPECT_NE(ack->manifest_ack().error().find("cam1"), std::string::npos);
  for (int i = 0; i < 100 && jobs_->bySession(session)->state != JobState::kFailed; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(jobs_->bySession(session)->state, JobState::kFailed);
}

TEST_F(IngestServerTest, AVerifiedManifestQueuesTheJob) {
  start();
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  const std::string data = tinyJpeg();
  node.frame(session, "cam0", 0, data);
  ASSERT_TRUE(node.await(v2::Envelope::kAck));
  v2::Envelope env;
  auto* m = env.mutable_manifest();
  m->set_session_id(session);
  auto* c = m->add_cameras();
  c->set_camera_id("cam0");
  c->set_frame_count(1);
  c->set_checksum(sessions_->totals(session, "booth-1", "cam0").value().checksum);
  node.send(env);
  auto ack = node.await(v2::Envelope::kManifestAck);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->manifest_ack().ok()) << ack->manifest_ack().error();
  // The ack goes out first, the job row right after.
  for (int i = 0; i < 100 && jobs_->bySession(session)->state != JobState::kQueued; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(jobs_->bySession(session)->state, JobState::kQueued);
}

TEST_F(IngestServerTest, AMemberThatGoesSilentFailsTheSessionWithAReason) {
  IngestConfig config;
  config.session_stall_timeout = 1s;
  start(config);
  {
    Client node(server_->endpoint());
    node.hello("booth-1");
    awaitNode("booth-1");
    startSession();
  }  // the node is gone and never comes back
  std::optional<JobRecord> job;
  for (int i = 0; i < 100; ++i) {
    job = jobs_->list(1).front();
    if (job->state == JobState::kFailed) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(job->state, JobState::kFailed);
  EXPECT_NE(job->detail.find("booth-1"), std::string::npos) << job->detail;
  // The booth is free again: the next Start is not refused for it.
  Client back(server_->endpoint());
  back.hello("booth-1");
  awaitNode("booth-1");
  EXPECT_TRUE(server_->startSession(SessionRequest{2, 0, ""}).ok());
}

TEST_F(IngestServerTest, AMemberWhoseFramesKeepBeingRefusedFailsNamingTheRefusal) {
  IngestConfig config;
  config.session_stall_timeout = 1s;
  config.max_frame_bytes = 1000;
  start(config);
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  std::optional<JobRecord> job;
  for (int i = 0; i < 100; ++i) {
    node.frame(session, "cam0", 0, std::string(5000, 'x'));  // resent, refused each time
    job = jobs_->list(1).front();
    if (job->state == JobState::kFailed) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(job->state, JobState::kFailed);
  EXPECT_NE(job->detail.find("refused"), std::string::npos) << job->detail;
  EXPECT_NE(job->detail.find("larger than"), std::string::npos) << job->detail;
  EXPECT_NE(job->detail.find("cam0"), std::string::npos) << job->detail;
}

TEST_F(IngestServerTest, NewSessionsAreRefusedWhileTheDiskIsAlmostFull) {
  IngestConfig config;
  config.min_free_bytes = 512ull << 20;
  std::uint64_t free = 100ull << 20;
  config.free_space = [&free]() -> Result<std::uint64_t> { return free; };
  start(config);
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  auto refused = server_->startSession(SessionRequest{2, 0, ""});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("almost full: only 100 MiB free, at least 512 MiB needed"),
            std::string::npos)
      << refused.error();
  EXPECT_TRUE(jobs_->list(1).empty()) << "a refused session makes no job";
  free = 600ull << 20;
  EXPECT_TRUE(server_->startSession(SessionRequest{2, 0, ""}).ok());
}

// A real full disk: the session's frames and the job database on a 1 MiB
// tmpfs. Frames that cannot be stored fail the session "disk full" at once;
// the failure the database cannot take is shown meanwhile and written once
// space is back.
TEST_F(IngestServerTest, FramesArrivingWhileTheDiskFillsFailTheJobSayingDiskFull) {
  test::SmallDisk disk(dir_ / "small", 1 << 20);
  jobs_ = std::move(JobStore::open((disk.path() / "jobs.sqlite").string()).value());
  sessions_ = std::make_unique<SessionStore>(disk.path(), /*fsync=*/false);
  start();
  Client node(server_->endpoint());
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  cv::Mat noise(240, 320, CV_8UC3);
  cv::randu(noise, 0, 255);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", noise, jpeg, {cv::IMWRITE_JPEG_QUALITY, 100});
  const std::string big(jpeg.begin(), jpeg.end());  // about 150 KB of incompressible bytes
  std::optional<JobRecord> job;
  for (std::uint64_t seq = 0; seq < 400; ++seq) {
    node.frame(session, "cam0", seq, big);
    job = jobs_->bySession(session);
    if (job && job->state == JobState::kFailed) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(job);
  ASSERT_EQ(job->state, JobState::kFailed) << job->detail;
  EXPECT_EQ(job->detail.rfind("disk full: ", 0), 0u) << job->detail;
  server_.reset();
  // Space comes back (the operator deletes something): the failure is written.
  sessions_.reset();
  fs::remove_all(disk.path() / "sessions");
  jobs_->retryPending();
  EXPECT_EQ(jobs_->pendingWrites(), 0);
  jobs_.reset();
  auto reopened = JobStore::open((disk.path() / "jobs.sqlite").string());
  ASSERT_TRUE(reopened.ok()) << reopened.error();
  auto stored = reopened.value()->bySession(session);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->state, JobState::kFailed);
  EXPECT_EQ(stored->detail.rfind("disk full: ", 0), 0u) << stored->detail;
}

TEST_F(IngestServerTest, ARestartedNodeIsToldToResumeItsOpenSession) {
  start();
  std::string session;
  {
    Client node(server_->endpoint());
    node.hello("booth-1");
    awaitNode("booth-1");
    session = startSession();
  }
  Client restarted(server_->endpoint());
  v2::Envelope env;
  env.mutable_hello()->set_node_id("booth-1");
  env.mutable_hello()->add_cameras()->set_camera_id("cam0");
  env.mutable_hello()->add_unfinished()->set_session_id(session);
  env.mutable_hello()->add_unfinished()->set_session_id("s-someone-elses");
  restarted.send(env);
  auto resume = restarted.await(v2::Envelope::kSessionResume);
  ASSERT_TRUE(resume);
  EXPECT_EQ(resume->session_resume().session_id(), session);
  auto stop = restarted.await(v2::Envelope::kSessionStop);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->session_stop().session_id(), "s-someone-elses");
}

class CurveIngestTest : public IngestServerTest {
 protected:
  void SetUp() override {
    IngestServerTest::SetUp();
    trainer_ = generateCurveKeyPair().value();
    node_ = generateCurveKeyPair().value();
    other_ = generateCurveKeyPair().value();
    IngestConfig config;
    config.server_keys = trainer_;
    config.allow.add(node_.public_key, "booth-1");
    config.allow.add(other_.public_key, "booth-2");
    start(config);
  }
  CurveKeyPair trainer_, node_, other_;
};

TEST_F(CurveIngestTest, AnAllowedKeyGetsInUnderItsListedName) {
  Client node(server_->endpoint(), node_, trainer_.public_key);
  node.hello("booth-1");
  ASSERT_TRUE(node.await(v2::Envelope::kHelloAck));
  awaitNode("booth-1");
}

TEST_F(CurveIngestTest, AnUnknownKeyNeverGetsAnAnswer) {
  Client stranger(server_->endpoint(), generateCurveKeyPair().value(), trainer_.public_key);
  stranger.hello("booth-1");
  EXPECT_FALSE(stranger.await(v2::Envelope::kHelloAck, 1s));
  EXPECT_TRUE(server_->nodes().empty());
}

TEST_F(CurveIngestTest, RefusedHandshakesAreCountedAndLoggedOnceAPeriod) {
  // The server of SetUp logs already; a fresh one logs into the capture.
  server_.reset();
  LogCapture log;
  IngestConfig config;
  config.server_keys = trainer_;
  config.allow.add(node_.public_key, "booth-1");
  start(config);
  std::vector<std::unique_ptr<Client>> strangers;
  for (int i = 0; i < 20; ++i) {
    strangers.push_back(std::make_unique<Client>(
        server_->endpoint(), generateCurveKeyPair().value(), trainer_.public_key));
  }
  ASSERT_TRUE(eventually([&] { return server_->stats().handshakes_refused >= 20; }))
      << server_->stats().handshakes_refused;
  server_.reset();
  EXPECT_EQ(log.linesWith("unknown public key"), 1);
}

TEST_F(CurveIngestTest, APlainClientCannotTalkToACurveTrainer) {
  Client plain(server_->endpoint());
  plain.hello("booth-1");
  EXPECT_FALSE(plain.await(v2::Envelope::kHelloAck, 1s));
  EXPECT_TRUE(server_->nodes().empty());
}

TEST_F(CurveIngestTest, AnAllowedKeyCannotClaimAnotherNodesName) {
  Client impostor(server_->endpoint(), other_, trainer_.public_key, /*routing_id=*/"booth-1");
  impostor.hello("booth-1");
  auto error = impostor.await(v2::Envelope::kProtocolError);
  ASSERT_TRUE(error);
  EXPECT_NE(error->protocol_error().error().find("booth-2"), std::string::npos)
      << error->protocol_error().error();
  EXPECT_TRUE(server_->nodes().empty());
}

TEST_F(CurveIngestTest, AnotherAllowedNodeCannotWriteIntoTheSession) {
  Client node(server_->endpoint(), node_, trainer_.public_key);
  node.hello("booth-1");
  awaitNode("booth-1");
  const std::string session = startSession();
  Client other(server_->endpoint(), other_, trainer_.public_key, /*routing_id=*/"booth-1");
  other.hello("booth-2");
  awaitNode("booth-2");
  other.frame(session, "cam0", 0);
  auto ack = other.await(v2::Envelope::kAck);
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->ack().ok());
  // The real node still delivers.
  node.frame(session, "cam0", 0);
  auto real = node.await(v2::Envelope::kAck);
  ASSERT_TRUE(real);
  EXPECT_TRUE(real->ack().ok());
  EXPECT_EQ(sessions_->totals(session, "booth-1", "cam0").value().frames, 1u);
}

}  // namespace
}  // namespace booth
