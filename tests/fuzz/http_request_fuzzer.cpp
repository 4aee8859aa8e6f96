// libFuzzer target: raw bytes from a client, as one keep-alive connection,
// through the trainer's whole HTTP stack: cpp-httplib's request parsing,
// HttpServer's limits and every route of HttpApi (operator API with and
// without the token, visitor pages, clip ranges, event streams, metrics),
// with a real JobStore, EventHub and RetentionSweeper in a temporary
// folder and a fake capture side. No sockets: requests are read from
// memory and answers discarded. A crash, a sanitizer report, a leak or an
// input that takes over the fuzzer's -timeout is a finding.
//
// Built only in a clang build with -DBOOTH_FUZZ=ON (tests/fuzz/run_fuzzer.sh).
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "trainer_node/http/http_api.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/local_blob_store.h"

namespace booth {
namespace {

namespace fs = std::filesystem;

// Tokens the seed corpus uses, so the fuzzer reaches authorised routes and
// the existing clip.
constexpr const char* kToken = "fuzz-operator-token-0000";
constexpr const char* kClipToken = "0123456789abcdef0123456789abcdef";

// The client's bytes as a Stream; answers are counted, not kept. A budget
// on written bytes ends endless answers (an event stream) like a client
// that goes away.
class MemoryStream : public httplib::Stream {
 public:
  MemoryStream(const std::uint8_t* data, std::size_t size)
      : data_(reinterpret_cast<const char*>(data)), size_(size) {}
  bool is_readable() const override { return pos_ < size_; }
  bool is_writable() const override { return written_ < kWriteBudget; }
  ssize_t read(char* ptr, std::size_t n) override {
    if (pos_ >= size_) return -1;
    n = std::min(n, size_ - pos_);
    std::memcpy(ptr, data_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char*, std::size_t n) override {
    if (written_ >= kWriteBudget) return -1;
    written_ += n;
    return static_cast<ssize_t>(n);
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 40000;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = "127.0.0.1";
    port = 8080;
  }
  socket_t socket() const override { return INVALID_SOCKET; }
  bool exhausted() const { return pos_ >= size_; }

 private:
  static constexpr std::size_t kWriteBudget = 256 << 10;
  const char* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::size_t written_ = 0;
};

class FakeBooth : public BoothControl {
 public:
  explicit FakeBooth(JobStore& jobs) : jobs_(jobs) {}
  Result<JobRecord> startSession(const SessionRequest& r) override {
    if (started_ >= 50) return fail("session refused (the fuzzer's fake booth is full)");
    JobRecord j;
    j.session_id = "fuzz-" + std::to_string(++started_);
    j.id = "job-" + j.session_id;
    j.capture_seconds_requested = r.capture_seconds;
    j.train_budget_seconds = r.train_budget_seconds;
    j.choreography = r.choreography;
    if (auto st = jobs_.insert(j); !st.ok()) return fail(st.error());
    return j;
  }
  std::vector<NodeInfo> nodes() override {
    NodeInfo n;
    n.node_id = "fuzz-node";
    n.cameras.push_back(
        CameraStatus{"cam0", "synthetic", "", "capturing", 320, 240, 15, 14.9, 100, 1, 0});
    return {n};
  }
  bool cancelSession(const std::string& session_id, const std::string& reason) override {
    auto j = jobs_.bySession(session_id);
    if (!j || j->state != JobState::kReceiving) return false;
    return jobs_.transition(*j, JobEvent::kCancel, reason).ok();
  }
  IngestStats stats() override { return {10, 1}; }

 private:
  JobStore& jobs_;
  int started_ = 0;
};

struct World {
  World() {
    spdlog::set_level(spdlog::level::off);
    dir = fs::temp_directory_path() / ("booth_http_fuzz_" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "clips");
    jobs = std::move(JobStore::open((dir / "jobs.sqlite").string()).value());
    sessions = std::make_unique<SessionStore>(dir, false);
    queue = std::make_unique<EmbeddedJobQueue>(*jobs);
    booth = std::make_unique<FakeBooth>(*jobs);
    hub = std::make_unique<EventHub>(EventHubConfig{}, *queue, [this] { return booth->nodes(); });
    blobs = std::make_unique<LocalBlobStore>(dir, false);
    retention = std::make_unique<RetentionSweeper>(RetentionConfig{}, *queue, *blobs, *sessions);
    HttpConfig config;
    config.operator_token = kToken;
    config.choreographies = {"disco", "robot"};
    config.clip_bytes_per_second = 0;
    config.event_keepalive = std::chrono::milliseconds(0);
    config.limits.max_body_bytes = 4096;
    api = std::make_unique<HttpApi>(config, *queue, *booth, *hub, *blobs, *retention);
    JobRecord running;
    running.id = "job-running";
    running.session_id = "running";
    (void)jobs->insert(running);
    for (JobEvent e : {JobEvent::kReceived, JobEvent::kClaim, JobEvent::kStartTraining}) {
      (void)jobs->transition(running, e);
    }
    addDoneJob();
  }
  // A done job with the clip; a new one (same token) after an input expired it.
  void addDoneJob() {
    clip = JobRecord{};
    clip.id = "job-done-" + std::to_string(++done_jobs);
    clip.session_id = "done-" + std::to_string(done_jobs);
    clip.clip_token = kClipToken;
    clip.clip_path = (dir / "clips" / (std::string(kClipToken) + ".mp4")).string();
    (void)jobs->insert(clip);
    for (JobEvent e : {JobEvent::kReceived, JobEvent::kClaim, JobEvent::kStartRendering,
                       JobEvent::kFinish}) {
      (void)jobs->transition(clip, e);
    }
  }
  ~World() { fs::remove_all(dir); }
  // Inputs may delete the clip's data or cancel jobs; each input starts
  // from the same clip.
  void reset() {
    if (!fs::exists(clip.clip_path)) {
      std::ofstream out(clip.clip_path, std::ios::binary);
      for (int i = 0; i < 3000; ++i) out.put(static_cast<char>(i * 7));
    }
    if (auto now = jobs->get(clip.id); now && now->purged_ms != 0) addDoneJob();
  }

  fs::path dir;
  int done_jobs = 0;
  std::unique_ptr<JobStore> jobs;
  std::unique_ptr<EmbeddedJobQueue> queue;  // over jobs
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<FakeBooth> booth;
  std::unique_ptr<EventHub> hub;
  std::unique_ptr<RetentionSweeper> retention;
  std::unique_ptr<LocalBlobStore> blobs;
  std::unique_ptr<HttpApi> api;
  JobRecord clip;
};

}  // namespace
}  // namespace booth

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static booth::World world;
  world.reset();
  booth::MemoryStream stream(data, size);
  // One connection: requests until the bytes run out or the server closes.
  for (int requests = 0; requests < 16 && !stream.exhausted(); ++requests) {
    bool closed = false;
    if (!world.api->server().serveStream(stream, false, closed) || closed) break;
  }
  return 0;
}
