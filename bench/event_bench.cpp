// How long a job's change takes to reach the operator page: a write through
// the JobQueue, until an /api/events stream (HttpApi + EventHub over real
// HTTP on loopback) shows it. Embedded queue (SQLite: the hub's observer
// runs on the writer's thread) and the shared one (PostgreSQL: NOTIFY, the
// queue's listener thread, then the hub), each with the fallback poll
// running as in the trainer.
//   event_bench --database URL [--quick]
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "latency_percentile.h"
#include "trainer_node/events/event_hub.h"
#include "trainer_node/http/booth_control.h"
#include "trainer_node/http/http_api.h"
#include "trainer_node/retention/retention_sweeper.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"
#include "trainer_node/store/session_store.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kToken = "event-bench-operator-token";

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "event_bench: error: %s\n", why.c_str());
  std::exit(1);
}

// No capture side: the bench changes jobs directly.
class NoBooth final : public BoothControl {
 public:
  Result<JobRecord> startSession(const SessionRequest&) override { return fail("no booth"); }
  std::vector<NodeInfo> nodes() override { return {}; }
  bool cancelSession(const std::string&, const std::string&) override { return false; }
  IngestStats stats() override { return {}; }
};

// The text of one event stream, read on its own thread.
class StreamReader {
 public:
  explicit StreamReader(int port) : client_("127.0.0.1", port) {
    client_.set_read_timeout(60, 0);
    thread_ = std::thread([this] {
      client_.Get("/api/events", {{"Authorization", std::string("Bearer ") + kToken}},
                  [this](const char* data, std::size_t n) {
                    {
                      std::lock_guard lock(mutex_);
                      text_.append(data, n);
                    }
                    cv_.notify_all();
                    return !stop_;
                  });
    });
  }
  ~StreamReader() {
    stop_ = true;
    client_.stop();
    thread_.join();
  }
  // Waits (at most 10 s) until `needle` is in the stream; false on timeout.
  bool waitFor(const std::string& needle) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, 10s, [&] { return text_.find(needle) != std::string::npos; });
  }

 private:
  httplib::Client client_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string text_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// p50 and p99 of `rounds` changes of one job, each until the page shows it.
void measure(JobQueue& queue, const std::string& name, int rounds, const fs::path& dir) {
  SessionStore sessions(dir, false);
  LocalBlobStore blobs(dir, false);
  RetentionSweeper retention(RetentionConfig{}, queue, blobs, sessions);
  NoBooth booth;
  EventHub hub(EventHubConfig{}, queue, [&booth] { return booth.nodes(); });
  hub.start();
  HttpConfig config;
  config.port = 0;
  config.operator_token = kToken;
  config.event_keepalive = 1s;
  HttpApi api(config, queue, booth, hub, blobs, retention);
  if (auto st = api.start(); !st.ok()) die(st.error());

  JobRecord job;
  job.id = "bench-" + name;
  job.session_id = job.id;
  job.state = JobState::kReceiving;
  if (auto st = queue.add(job); !st.ok()) die(st.message());
  StreamReader stream(api.port());
  if (!stream.waitFor("event: snapshot")) die("no snapshot on the event stream");
  std::vector<double> ms;
  for (int i = 1; i <= rounds; ++i) {
    job.frames_received = 100000 + i;
    const auto t0 = Steady::now();
    if (auto st = queue.updateIntake(job); !st.ok()) die(st.message());
    if (!stream.waitFor("\"frames_received\":" + std::to_string(job.frames_received))) {
      die("change " + std::to_string(i) + " never reached the event stream (" + name + ")");
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    std::this_thread::sleep_for(20ms);  // changes apart, as a training job's progress is
  }
  for (int p : {50, 99}) {
    std::printf("scale.event_latency_ms[queue=%s,p=%d] = %.1f ms  (target <= 1000)\n",
                name.c_str(), p, bench::percentile(ms, p / 100.0));
  }
  std::fflush(stdout);
  api.stop();
  hub.stop();
}

}  // namespace
}  // namespace booth

int main(int argc, char** argv) {
  std::string url;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--database" && i + 1 < argc) {
      url = argv[++i];
    } else if (a == "--quick") {
      quick = true;
    } else {
      booth::die("unknown argument '" + a + "' (use --database URL [--quick])");
    }
  }
  if (url.empty()) booth::die("--database is required");
  const int rounds = quick ? 30 : 200;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("booth_event_bench_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "clips");
  {
    auto store = booth::JobStore::open((dir / "jobs.sqlite").string());
    if (!store.ok()) booth::die(store.error());
    booth::EmbeddedJobQueue queue(*store.value());
    booth::measure(queue, "embedded", rounds, dir);
  }
  {
    booth::PgOptions options;
    options.url = url;
    auto db = booth::PgDatabase::open(options);
    if (!db.ok()) booth::die(db.error());
    booth::PgJobQueue queue(db.value());
    booth::measure(queue, "postgres", rounds, dir);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
