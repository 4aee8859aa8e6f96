// libFuzzer target over the trainer's message handling: everything a
// capture node (or anyone who reaches the ingest port) can send, through
// IngestServer's handler exactly as the ingest thread runs it, against a
// trainer with a connected node and an open session.
//
// Each input is a script of messages. Every message is either raw bytes
// parsed as a booth.v2 Envelope (so the decoder and every field are
// reached), or one built from the input's bytes with ids chosen among the
// real ones and junk (so membership, limits, resume and manifest checks
// are reached, which random protobuf rarely would). State starts afresh
// for every input, so a finding replays from its file alone.
#include <fuzzer/FuzzedDataProvider.h>

#include <filesystem>
#include <string>

#include <spdlog/spdlog.h>

#include "common/transport/wire.h"
#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/session_store.h"

namespace {

using namespace booth;
namespace fs = std::filesystem;

std::string pick(FuzzedDataProvider& in, const std::string& real) {
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
    case 1:
      return real;
    case 2:
      return in.ConsumeRandomLengthString(80);
    default:
      return "";
  }
}

void fillKeypoints(FuzzedDataProvider& in, v2::Keypoints* kp) {
  const int n = in.ConsumeBool() ? kCoco17Count : in.ConsumeIntegralInRange<int>(0, 20);
  for (int i = 0; i < n; ++i) {
    kp->add_x(in.ConsumeFloatingPoint<float>());
    kp->add_y(in.ConsumeFloatingPoint<float>());
    kp->add_confidence(in.ConsumeFloatingPointInRange<float>(-1.f, 2.f));
    if (in.ConsumeBool()) kp->add_imputed(in.ConsumeBool());
  }
}

v2::Envelope build(FuzzedDataProvider& in, const std::string& session) {
  v2::Envelope env;
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0: {
      auto* h = env.mutable_hello();
      h->set_node_id(pick(in, "booth-1"));
      const int cams = in.ConsumeIntegralInRange<int>(0, 3);
      for (int i = 0; i < cams; ++i) h->add_cameras()->set_camera_id(pick(in, "cam0"));
      if (in.ConsumeBool()) h->add_unfinished()->set_session_id(pick(in, session));
      break;
    }
    case 1: {
      auto* f = env.mutable_frame();
      f->set_session_id(pick(in, session));
      f->set_camera_id(pick(in, "cam0"));
      f->set_sequence(in.ConsumeIntegralInRange<std::uint64_t>(0, 64));
      f->set_encoding(static_cast<v2::Encoding>(in.ConsumeIntegralInRange<int>(0, 3)));
      f->set_width(in.ConsumeIntegral<std::uint32_t>());
      f->set_height(in.ConsumeIntegral<std::uint32_t>());
      std::string data = in.ConsumeRandomLengthString(4096);
      if (in.ConsumeBool()) data = std::string("\xff\xd8\xff\xc0\x00\x11\x08", 7) + data;
      f->set_data(data);
      break;
    }
    case 2: {
      auto* p = env.mutable_pose();
      p->set_session_id(pick(in, session));
      p->set_camera_id(pick(in, "cam0"));
      p->set_sequence(in.ConsumeIntegralInRange<std::uint64_t>(0, 64));
      const int people = in.ConsumeIntegralInRange<int>(0, 3);
      for (int i = 0; i < people; ++i) {
        auto* person = p->add_people();
        person->set_track_id(in.ConsumeIntegral<int>());
        fillKeypoints(in, person->mutable_keypoints());
      }
      if (in.ConsumeBool()) fillKeypoints(in, p->mutable_performer());
      p->set_error(in.ConsumeRandomLengthString(40));
      break;
    }
    case 3: {
      auto* m = env.mutable_manifest();
      m->set_session_id(pick(in, session));
      m->set_node_id(pick(in, "booth-1"));
      const int cams = in.ConsumeIntegralInRange<int>(0, 3);
      for (int i = 0; i < cams; ++i) {
        auto* c = m->add_cameras();
        c->set_camera_id(pick(in, "cam0"));
        c->set_frame_count(in.ConsumeIntegralInRange<std::uint64_t>(0, 70));
        c->set_checksum(in.ConsumeIntegral<std::uint64_t>());
        c->set_pose_count(in.ConsumeIntegralInRange<std::uint64_t>(0, 70));
      }
      if (in.ConsumeBool()) m->set_error(in.ConsumeRandomLengthString(40));
      if (in.ConsumeBool()) m->set_incomplete_reason(in.ConsumeRandomLengthString(40));
      break;
    }
    default:
      env.mutable_protocol_error()->set_error(in.ConsumeRandomLengthString(100));
  }
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)quiet;
  static const fs::path dir =
      fs::temp_directory_path() / ("booth_ingest_fuzz_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);

  auto jobs = JobStore::open(":memory:");
  if (!jobs.ok()) return 0;
  SessionStore sessions(dir, /*fsync=*/false);
  IngestConfig config;
  config.insecure = true;
  config.max_frame_bytes = 2048;
  config.max_frames_per_session = 32;
  EmbeddedJobQueue queue(*jobs.value());
  IngestServer server(config, queue, sessions);

  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::router);  // replies go nowhere
  socket.set(zmq::sockopt::linger, 0);
  socket.bind("inproc://fuzz");

  // A connected node with one camera and an open session it is a member of.
  v2::Envelope hello;
  hello.set_version(kProtocolVersion);
  hello.mutable_hello()->set_node_id("booth-1");
  hello.mutable_hello()->add_cameras()->set_camera_id("cam0");
  server.handleForTest(socket, "peer-1", "", hello);
  auto job = server.startSessionForTest(socket, SessionRequest{2, 0, ""});
  if (!job.ok()) return 0;

  FuzzedDataProvider in(data, size);
  const char* peers[] = {"peer-1", "peer-2", "peer-3"};
  while (in.remaining_bytes() > 0) {
    const std::string peer = peers[in.ConsumeIntegralInRange<int>(0, 2)];
    v2::Envelope env;
    if (in.ConsumeBool()) {
      const std::string raw = in.ConsumeRandomLengthString(8192);
      if (!env.ParseFromString(raw)) continue;  // receiveEnvelope refuses these
    } else {
      env = build(in, job->session_id);
    }
    if (in.ConsumeIntegralInRange<int>(0, 9) != 0) env.set_version(kProtocolVersion);
    server.handleForTest(socket, peer, "", env);
    if (in.ConsumeBool()) server.flushForTest(socket);
  }
  server.flushForTest(socket);
  return 0;
}
