// transport_bench: how fast frames get from capture nodes into the
// trainer's store, durably acked, over CURVE on loopback.
//
// The trainer's real IngestServer runs in this process, with the embedded
// stores (SQLite job store, session store on disk with fsync) and, given
// --database URL, with the shared ones (PostgreSQL job queue, the session's
// records as segment blobs: BlobSessionSink); each "node" is a thread with its own
// ZeroMQ context and CURVE key that says Hello, takes the credit the trainer
// grants and streams 640x480 JPEG frames (a synthetic performer, ~40 KB)
// each followed by its pose record, as a capture node does, counting acks.
// The baseline sends one frame and waits for its ack before the next (one
// blocking request/reply per frame), with everything else the same.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <spdlog/spdlog.h>

#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "common/transport/curve_keys.h"
#include "common/transport/wire.h"
#include "trainer_node/ingest/ingest_server.h"
#include "trainer_node/store/blob_session_sink.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/pg/shared_stores.h"
#include "trainer_node/store/session_store.h"

namespace {

using namespace booth;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Corpus {
  std::vector<std::string> jpegs;  // a few distinct frames, reused
  std::vector<Pose> poses;
  double mean_bytes = 0;
};

Corpus makeCorpus() {
  Corpus c;
  const PerformerLook& look = builtinPerformers()[0];
  Choreography dance(*findChoreography("warmup"), look.body, Stage{cv::Size(640, 480)}, 1);
  cv::RNG rng(7);
  for (int i = 0; i < 16; ++i) {
    const Pose pose = dance.poseAt(i / 30.0);
    // A rendered frame is cleaner than a camera's: sensor-like noise brings
    // the JPEG to a USB camera's size at 640x480 (about 40 KB).
    cv::Mat image = renderPerformer(look, pose, cv::Size(640, 480));
    cv::Mat noise(image.size(), CV_16SC3);
    rng.fill(noise, cv::RNG::NORMAL, 0, 3);
    image.convertTo(image, CV_16SC3);
    image += noise;
    image.convertTo(image, CV_8UC3);
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
    c.jpegs.emplace_back(jpeg.begin(), jpeg.end());
    c.poses.push_back(pose);
    c.mean_bytes += static_cast<double>(jpeg.size()) / 16;
  }
  return c;
}

class Node {
 public:
  Node(const std::string& endpoint, const std::string& id, const CurveKeyPair& keys,
       const std::string& server_key)
      : id_(id), socket_(context_, zmq::socket_type::dealer) {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.set(zmq::sockopt::sndhwm, 0);
    socket_.set(zmq::sockopt::curve_serverkey, server_key);
    socket_.set(zmq::sockopt::curve_publickey, keys.public_key);
    socket_.set(zmq::sockopt::curve_secretkey, keys.secret_key);
    socket_.connect(endpoint);
  }
  // Says Hello until the trainer answers; returns the granted credit.
  std::uint32_t hello() {
    for (int attempt = 0; attempt < 100; ++attempt) {
      v2::Envelope env;
      env.mutable_hello()->set_node_id(id_);
      env.mutable_hello()->add_cameras()->set_camera_id("cam0");
      sendEnvelope(socket_, env);
      if (auto ack = await(v2::Envelope::kHelloAck, 100ms)) return ack->hello_ack().credit_frames();
    }
    return 0;
  }
  void awaitStart() { session_ = await(v2::Envelope::kSessionStart, 10s)->session_start().session_id(); }
  // Streams `frames` frames (+ their poses) with at most `window` records
  // unacked. Returns the number of acked frames.
  std::uint64_t stream(const Corpus& corpus, std::uint64_t frames, std::uint32_t window) {
    std::uint64_t next = 0, acked_frames = 0, acked_records = 0, sent_records = 0;
    while (acked_frames < frames) {
      while (next < frames && sent_records - acked_records + 2 <= window) {
        const std::size_t k = next % corpus.jpegs.size();
        v2::Envelope f;
        auto* frame = f.mutable_frame();
        frame->set_session_id(session_);
        frame->set_camera_id("cam0");
        frame->set_sequence(next);
        frame->set_encoding(v2::ENCODING_JPEG);
        frame->set_data(corpus.jpegs[k]);
        sendEnvelope(socket_, f);
        v2::Envelope p;
        PoseRecord r;
        r.camera_id = "cam0";
        r.sequence = next;
        r.people = {{0, corpus.poses[k]}};
        r.performer_track = 0;
        r.performer = corpus.poses[k];
        poseRecordToProto(session_, r, p.mutable_pose());
        sendEnvelope(socket_, p);
        sent_records += 2;
        ++next;
      }
      auto ack = await(v2::Envelope::kAck, 5s);
      if (!ack) return acked_frames;  // the trainer stopped answering
      if (!ack->ack().ok()) {
        std::fprintf(stderr, "transport_bench: refused: %s\n", ack->ack().error().c_str());
        return acked_frames;
      }
      acked_records += static_cast<std::uint64_t>(ack->ack().sequences_size());
      if (ack->ack().kind() == v2::RECORD_FRAME) acked_frames += ack->ack().sequences_size();
    }
    return acked_frames;
  }

 private:
  std::optional<v2::Envelope> await(v2::Envelope::BodyCase kind, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, 5ms);
      while (true) {
        auto in = receiveEnvelope(socket_, false);
        if (!in.ok() || !in.value()) break;
        if (in.value()->envelope.body_case() == kind) return in.value()->envelope;
      }
    }
    return std::nullopt;
  }

  std::string id_;
  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::string session_;
};

struct Run {
  double fps = 0;
  double mb_per_s = 0;
  std::uint64_t frames = 0;
  std::uint64_t segments = 0;  // blob segments published (PostgreSQL)
  double sync_share = 0;       // of the run's wall time spent making batches durable
};

// The sink the ingest writes to, timing its sync() (the commit before the
// acks: an fsync, or a PostgreSQL transaction).
class TimedSink final : public SessionSink {
 public:
  explicit TimedSink(SessionSink& inner) : inner_(inner) {}
  Result<bool> writeFrame(const std::string& s, const std::string& n, const std::string& c,
                          const FrameToAppend& f) override {
    return inner_.writeFrame(s, n, c, f);
  }
  Result<bool> writePose(const std::string& s, const std::string& n, const PoseRecord& p) override {
    return inner_.writePose(s, n, p);
  }
  Status sync() override {
    const auto t0 = Clock::now();
    Status st = inner_.sync();
    sync_seconds_ += std::chrono::duration<double>(Clock::now() - t0).count();
    return st;
  }
  void close(const std::string& s) override { inner_.close(s); }
  Result<CameraTotals> totals(const std::string& s, const std::string& n, const std::string& c) override {
    return inner_.totals(s, n, c);
  }
  std::string location() const override { return inner_.location(); }
  double syncSeconds() const { return sync_seconds_; }  // the ingest thread's; read after stop

 private:
  SessionSink& inner_;
  double sync_seconds_ = 0;
};

// Where the ingest stores: the embedded trainer's (a fresh SQLite job store
// and session folder), or a shared database's (PostgreSQL queue and segment
// blobs of at most max_segment_bytes).
struct StoreChoice {
  std::string database_url;  // empty: embedded
  std::size_t max_segment_bytes = BlobSessionSink::kDefaultMaxSegmentBytes;
};

// One session with `nodes` nodes each streaming `frames`; window 0 = the
// trainer's credit, 2 = one frame and its pose at a time (request/reply).
Run measure(const Corpus& corpus, int nodes, std::uint64_t frames, std::uint32_t window,
            const StoreChoice& store = {}) {
  const fs::path dir = fs::temp_directory_path() / ("booth_transport_bench_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Run run;
  {
    std::unique_ptr<JobStore> job_store;
    std::unique_ptr<EmbeddedJobQueue> embedded_queue;
    std::unique_ptr<SessionStore> files;
    SharedStores shared;
    std::unique_ptr<BlobSessionSink> blobs;
    JobQueue* queue = nullptr;
    SessionSink* sink = nullptr;
    if (store.database_url.empty()) {
      job_store = std::move(JobStore::open((dir / "jobs.sqlite").string()).value());
      embedded_queue = std::make_unique<EmbeddedJobQueue>(*job_store);
      files = std::make_unique<SessionStore>(dir, /*fsync=*/true);
      queue = embedded_queue.get();
      sink = files.get();
    } else {
      auto opened = openSharedStores(store.database_url, PgJobQueueOptions{});
      if (!opened.ok()) {
        std::fprintf(stderr, "transport_bench: %s\n", opened.error().c_str());
        std::exit(1);
      }
      shared = std::move(opened.value());
      blobs = std::make_unique<BlobSessionSink>(*shared.blobs, store.max_segment_bytes);
      queue = shared.queue.get();
      sink = blobs.get();
    }
    IngestConfig config;
    config.endpoint = "tcp://127.0.0.1:*";
    config.server_keys = generateCurveKeyPair().value();
    config.max_frames_per_session = 1u << 30;
    std::vector<CurveKeyPair> keys;
    for (int i = 0; i < nodes; ++i) {
      keys.push_back(generateCurveKeyPair().value());
      config.allow.add(keys.back().public_key, "node-" + std::to_string(i));
    }
    TimedSink timed(*sink);
    IngestServer server(config, *queue, timed);
    if (auto st = server.start(); !st.ok()) {
      std::fprintf(stderr, "transport_bench: %s\n", st.error().c_str());
      std::exit(1);
    }
    std::vector<std::unique_ptr<Node>> clients;
    std::uint32_t credit = 0;
    for (int i = 0; i < nodes; ++i) {
      clients.push_back(std::make_unique<Node>(server.endpoint(), "node-" + std::to_string(i),
                                               keys[i], config.server_keys->public_key));
      credit = clients.back()->hello();
    }
    auto session = server.startSession(SessionRequest{15, 0, ""});
    if (!session.ok()) {
      std::fprintf(stderr, "transport_bench: %s\n", session.error().c_str());
      std::exit(1);
    }
    for (auto& c : clients) c->awaitStart();
    std::atomic<std::uint64_t> total{0};
    const auto t0 = Clock::now();
    {
      std::vector<std::jthread> threads;
      for (auto& c : clients) {
        threads.emplace_back([&, node = c.get()] {
          total += node->stream(corpus, frames, window ? window : credit);
        });
      }
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    run.frames = total;
    run.fps = static_cast<double>(total) / seconds;
    run.mb_per_s = run.fps * corpus.mean_bytes / 1e6;
    if (blobs) run.segments = blobs->segmentsPublished();
    // The session is never closed by a manifest: cancel it, so the next
    // run on the same database can start one.
    server.cancelSession(session->session_id, "benchmark over");
    server.stop();
    run.sync_share = timed.syncSeconds() / seconds;
  }
  fs::remove_all(dir);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::string database;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--database" && i + 1 < argc) {
      database = argv[++i];
    } else {
      std::fprintf(stderr, "usage: transport_bench [--quick] [--database postgresql://...]\n");
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  const Corpus corpus = makeCorpus();
  const std::uint64_t per_run = quick ? 600 : 3000;
  const Run one = measure(corpus, 1, per_run, 0);
  const Run four = measure(corpus, 4, per_run / 4, 0);
  const Run reqrep = measure(corpus, 1, quick ? 100 : 400, 2);
  std::printf("transport.fps[nodes=1] = %.0f frames/s  (target >= 960)\n", one.fps);
  std::printf("transport.fps[nodes=4] = %.0f frames/s  (target >= 960)\n", four.fps);
  std::printf("transport.mb_per_s[nodes=1] = %.1f MB/s  (target report)\n", one.mb_per_s);
  std::printf("transport.fps_reqrep_baseline = %.0f frames/s  (target report)\n", reqrep.fps);
  std::printf("transport.speedup_vs_reqrep = %.1f x  (target >= 10)\n", one.fps / reqrep.fps);
  std::printf("# %.0f-byte JPEG frames (640x480) each with its pose record, CURVE, fsync before "
              "every ack batch, trainer and nodes on this machine; frames acked: %llu, %llu, %llu\n",
              corpus.mean_bytes, static_cast<unsigned long long>(one.frames),
              static_cast<unsigned long long>(four.frames),
              static_cast<unsigned long long>(reqrep.frames));
  if (database.empty()) {
    std::printf("# no --database: the PostgreSQL figures (store=postgres) are not measured\n");
    return 0;
  }
  // The same 4 nodes into PostgreSQL: the gateway publishes each ack
  // batch's records as segment blobs in one transaction before it acks.
  // Segment caps compared: the default first (the figure), then others.
  StoreChoice pg{database, BlobSessionSink::kDefaultMaxSegmentBytes};
  const Run pg_four = measure(corpus, 4, per_run / 4, 0, pg);
  std::printf("transport.fps[nodes=4,store=postgres] = %.0f frames/s  (target >= 960)\n",
              pg_four.fps);
  std::printf("scale.ingest_mb_per_s[store=local] = %.1f MB/s  (target report)\n", four.mb_per_s);
  std::printf("scale.ingest_mb_per_s[store=postgres] = %.1f MB/s  (target report, against local)\n",
              pg_four.mb_per_s);
  std::printf("# postgres: %llu frames acked, %llu segments (%.0f KB each on average, cap %zu "
              "KiB); commits took %.0f%% of the run (local fsyncs: %.0f%%)\n",
              static_cast<unsigned long long>(pg_four.frames),
              static_cast<unsigned long long>(pg_four.segments),
              pg_four.segments ? pg_four.frames * corpus.mean_bytes / pg_four.segments / 1e3 : 0.0,
              pg.max_segment_bytes >> 10, 100 * pg_four.sync_share, 100 * four.sync_share);
  for (std::size_t cap_kib : {256, 1024}) {
    StoreChoice capped{database, cap_kib << 10};
    const Run r = measure(corpus, 4, per_run / 4, 0, capped);
    std::printf("scale.ingest_mb_per_s[store=postgres,segment_cap_kib=%zu] = %.1f MB/s  (target "
                "report; %llu segments)\n",
                cap_kib, r.mb_per_s, static_cast<unsigned long long>(r.segments));
  }
  return 0;
}
