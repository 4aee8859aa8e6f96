// The ingest gateway with a shared database: a capture node's session goes
// into PostgreSQL as segment blobs (no data folder), acked only after the
// commit, and a worker elsewhere materializes exactly the files an embedded
// trainer's ingest would have written for the same stream. Over real
// sockets on loopback and the fixture's PostgreSQL (the outage case runs a
// server of its own, which it crashes).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "../capture_node/temp_dir.h"
#include "common/core/checksum.h"
#include "ingest_test_client.h"
#include "support/test_database.h"
#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/store/blob_session_frames.h"
#include "trainer_node/store/blob_session_sink.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/pg/shared_stores.h"
#include "trainer_node/store/session_segment.h"
#include "trainer_node/store/session_store.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test_ingest::Client;
using test_ingest::tinyJpeg;

const std::vector<std::string> kCameras = {"cam0", "cam1"};
constexpr std::uint64_t kFrames = 12;

std::string fileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

IngestConfig gatewayConfig() {
  IngestConfig config;
  config.endpoint = "tcp://127.0.0.1:*";
  config.insecure = true;
  config.node_timeout = 60s;
  return config;
}

v2::Envelope poseEnvelope(const std::string& session, const std::string& camera,
                          std::uint64_t sequence) {
  PoseRecord r;
  r.camera_id = camera;
  r.sequence = sequence;
  r.capture_time_us = 1000 + static_cast<std::int64_t>(sequence);
  r.error = "no person in frame " + std::to_string(sequence);
  v2::Envelope env;
  poseRecordToProto(session, r, env.mutable_pose());
  return env;
}

// A frame's bytes: JPEGs of a few sizes, so the frames differ.
std::string frameBytes(std::uint64_t sequence) {
  return tinyJpeg(32 + static_cast<int>(sequence % 5) * 8, 24);
}

// Counts positive acks per (kind, camera) until `want` of each arrived;
// false on a refusal or when none came within `timeout`.
bool awaitAcks(Client& node, std::map<std::pair<int, std::string>, std::uint64_t>& acked,
               std::uint64_t want, std::string* refusal = nullptr,
               std::chrono::milliseconds timeout = 10s) {
  auto done = [&] {
    for (const auto& camera : kCameras) {
      if (acked[{v2::RECORD_FRAME, camera}] < want || acked[{v2::RECORD_POSE, camera}] < want) {
        return false;
      }
    }
    return true;
  };
  while (!done()) {
    auto ack = node.await(v2::Envelope::kAck, timeout);
    if (!ack) return false;
    if (!ack->ack().ok()) {
      if (refusal) *refusal = ack->ack().error();
      return false;
    }
    acked[{ack->ack().kind(), ack->ack().camera_id()}] += ack->ack().sequences_size();
  }
  return true;
}

// One node, two cameras, kFrames frames and poses each (a few resent),
// closed with its manifest. Returns the job's session id.
std::string captureSession(IngestServer& gateway) {
  Client node(gateway.endpoint());
  node.hello("booth-1", kCameras);
  for (int i = 0; i < 200 && gateway.nodes().empty(); ++i) std::this_thread::sleep_for(10ms);
  auto job = gateway.startSession(SessionRequest{2, 0, ""});
  EXPECT_TRUE(job.ok()) << job.error();
  if (!job.ok()) return {};
  const std::string session = job->session_id;
  EXPECT_TRUE(node.await(v2::Envelope::kSessionStart));
  std::map<std::pair<int, std::string>, std::uint64_t> acked;
  for (std::uint64_t seq = 0; seq < kFrames; ++seq) {
    for (const auto& camera : kCameras) {
      node.frame(session, camera, seq, frameBytes(seq));
      node.send(poseEnvelope(session, camera, seq));
    }
    if (seq % 4 == 3) EXPECT_TRUE(awaitAcks(node, acked, seq + 1));
  }
  // Resends (their acks were "lost"): taken as no-ops.
  node.frame(session, "cam0", 2, frameBytes(2));
  node.send(poseEnvelope(session, "cam1", 5));
  v2::Envelope manifest;
  manifest.mutable_manifest()->set_session_id(session);
  manifest.mutable_manifest()->set_node_id("booth-1");
  for (const auto& camera : kCameras) {
    auto* c = manifest.mutable_manifest()->add_cameras();
    c->set_camera_id(camera);
    c->set_frame_count(kFrames);
    c->set_pose_count(kFrames);
    std::uint64_t checksum = 0;
    for (std::uint64_t seq = 0; seq < kFrames; ++seq) checksum += fnv1a64(frameBytes(seq));
    c->set_checksum(checksum);
  }
  node.send(manifest);
  auto verdict = node.await(v2::Envelope::kManifestAck, 10s);
  EXPECT_TRUE(verdict && verdict->manifest_ack().ok())
      << (verdict ? verdict->manifest_ack().error() : "no ManifestAck");
  return session;
}

TEST(IngestBlobsPgTest, AWorkerMaterializesExactlyWhatTheEmbeddedIngestWouldHaveStored) {
  test::TempDir dir;
  // The embedded trainer's ingest: the session store's files.
  auto jobs = JobStore::open((dir.path() / "jobs.sqlite").string());
  ASSERT_TRUE(jobs.ok()) << jobs.error();
  EmbeddedJobQueue embedded_queue(*jobs.value());
  SessionStore files(dir.path() / "embedded", /*fsync=*/true);
  std::string embedded_session;
  {
    IngestServer embedded(gatewayConfig(), embedded_queue, files);
    ASSERT_TRUE(embedded.start().ok());
    embedded_session = captureSession(embedded);
  }
  // A gateway on PostgreSQL: no data folder at all.
  testing::TestSchema schema;
  auto shared = openSharedStores(schema.url(), PgJobQueueOptions{});
  ASSERT_TRUE(shared.ok()) << shared.error();
  BlobSessionSink sink(*shared->blobs);
  std::string session;
  {
    IngestServer gateway(gatewayConfig(), *shared->queue, sink);
    ASSERT_TRUE(gateway.start().ok());
    session = captureSession(gateway);
  }
  ASSERT_FALSE(session.empty());
  auto job = shared->queue->get(jobIdForSession(session));
  ASSERT_TRUE(job);
  EXPECT_EQ(job->state, JobState::kQueued) << job->detail;
  EXPECT_EQ(job->frames_received, static_cast<std::int64_t>(2 * kFrames));
  auto listed = shared->blobs->list("sessions/" + session + "/");
  ASSERT_TRUE(listed.ok()) << listed.error();
  EXPECT_GE(listed->size(), 2u * 3) << "a segment per camera per ack batch";

  // A worker with its own folder (a store of its own on the same database).
  auto worker_stores = openSharedStores(schema.url(), PgJobQueueOptions{});
  ASSERT_TRUE(worker_stores.ok()) << worker_stores.error();
  BlobSessionFrames source(*worker_stores->blobs);
  for (const CameraFrames& camera : job->cameras) {
    const fs::path scratch = dir.path() / ("worker-" + camera.camera);
    auto frames = source.loadCamera(*job, camera, scratch);
    ASSERT_TRUE(frames.ok()) << frames.error();
    EXPECT_EQ(frames->size(), kFrames);
    for (const char* file : {"frames.dat", "frames.idx", "poses.log"}) {
      const std::string stored =
          fileBytes(files.sessionDir(embedded_session) / camera.node / camera.camera / file);
      EXPECT_FALSE(stored.empty()) << file;
      EXPECT_EQ(fileBytes(scratch / "sessions" / session / camera.node / camera.camera / file),
                stored)
          << camera.camera << "/" << file;
    }
  }
}

TEST(IngestBlobsPgTest, RecordsAreAckedOnlyAfterTheirCommit) {
  testing::PrivatePgServer server;
  auto shared = openSharedStores(server.url(), PgJobQueueOptions{});
  ASSERT_TRUE(shared.ok()) << shared.error();
  BlobSessionSink sink(*shared->blobs);
  IngestServer gateway(gatewayConfig(), *shared->queue, sink);
  ASSERT_TRUE(gateway.start().ok());
  Client node(gateway.endpoint());
  node.hello("booth-1");
  for (int i = 0; i < 200 && gateway.nodes().empty(); ++i) std::this_thread::sleep_for(10ms);
  auto job = gateway.startSession(SessionRequest{2, 0, ""});
  ASSERT_TRUE(job.ok()) << job.error();
  ASSERT_TRUE(node.await(v2::Envelope::kSessionStart));
  node.frame(job->session_id, "cam0", 0);
  auto first = node.await(v2::Envelope::kAck, 10s);
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->ack().ok()) << first->ack().error();

  server.crash();
  node.frame(job->session_id, "cam0", 1);
  auto during = node.await(v2::Envelope::kAck, 30s);
  ASSERT_TRUE(during) << "the frame must be answered (refused), not left waiting";
  EXPECT_FALSE(during->ack().ok()) << "acked although it could not be committed";
  EXPECT_NE(during->ack().error().find("PostgreSQL unavailable"), std::string::npos)
      << during->ack().error();

  server.restart();
  node.frame(job->session_id, "cam0", 1);  // the node resends what was refused
  std::optional<v2::Envelope> after;
  for (int i = 0; i < 10; ++i) {
    after = node.await(v2::Envelope::kAck, 10s);
    if (after && after->ack().ok()) break;
    node.frame(job->session_id, "cam0", 1);  // refused again while the pool reconnects
  }
  ASSERT_TRUE(after && after->ack().ok());
  JobRecord record = *job;
  auto frames = BlobSessionFrames(*shared->blobs)
                    .loadCamera(record, CameraFrames{"booth-1", "cam0", 2},
                                fs::temp_directory_path() /
                                    ("ingest_blobs_pg_" + std::to_string(getpid())));
  ASSERT_TRUE(frames.ok()) << frames.error();
  EXPECT_EQ(frames->size(), 2u);
  gateway.stop();
  fs::remove_all(fs::temp_directory_path() / ("ingest_blobs_pg_" + std::to_string(getpid())));
}

}  // namespace
}  // namespace booth
