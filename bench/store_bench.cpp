// The shared stores on a real PostgreSQL (bench/run.sh store starts a
// private server): how many no-op jobs the queue claims and completes per
// second with 1 and 16 workers, how long an idle worker takes to claim a
// new job when NOTIFY wakes it and when it polls, and blob throughput in
// PostgreSQL against the local folder.
//   store_bench --database URL --local-dir DIR [--quick]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"

namespace booth {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// a + b (not "literal" + std::string: GCC 12 warns falsely on that).
std::string cat(std::string a, const std::string& b) { return a.append(b); }

void figure(const std::string& name, double value, const char* unit, const char* target) {
  std::printf("%s = %.1f %s  (target %s)\n", name.c_str(), value, unit, target);
  std::fflush(stdout);
}

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "store_bench: error: %s\n", why.c_str());
  std::exit(1);
}

std::shared_ptr<PgDatabase> openDb(const std::string& url, int connections) {
  PgOptions options;
  options.url = url;
  options.max_connections = connections;
  auto db = PgDatabase::open(options);
  if (!db.ok()) die(db.error());
  return db.value();
}

void enqueue(JobQueue& q, const std::string& id, std::int64_t created_ms) {
  JobRecord j;
  j.id = id;
  j.session_id = id;
  j.created_ms = created_ms;
  if (auto st = q.add(j); !st.ok()) die(st.message());
  if (auto st = q.enqueue(j); !st.ok()) die(st.message());
}

// Claim, start rendering, finish: a job that does nothing.
bool runOne(JobQueue& q, const std::string& worker) {
  auto c = q.claim(worker, 30s);
  if (!c.ok()) die(c.error());
  if (!c.value()) return false;
  const Claim& claim = c.value()->claim;
  if (auto st = q.advance(claim, JobEvent::kStartRendering, ""); !st.ok()) die(st.message());
  JobClip clip;
  clip.clip_token = cat("t", claim.job_id);
  if (auto st = q.finish(claim, clip); !st.ok()) die(st.message());
  return true;
}

void claimsPerSecond(const std::string& url, int workers, int jobs, const std::string& prefix) {
  auto db = openDb(url, workers + 2);
  PgJobQueue q(db);
  for (int i = 0; i < jobs; ++i) enqueue(q, prefix + std::to_string(i), 1000 + i);
  std::atomic<int> done{0};
  const auto t0 = Clock::now();
  {
    std::vector<std::jthread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        const std::string name = cat("w", std::to_string(w));
        while (runOne(q, name)) ++done;
      });
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  figure(cat(cat("scale.queue_claims_per_s[workers=", std::to_string(workers)), "]"),
         done / seconds, "jobs/s", workers >= 16 ? ">= 100" : "report");
}

// From the moment a job is queued until an idle worker holds it. The worker
// (its own thread) sleeps until NOTIFY wakes it (notify=on) or polls every
// 500 ms (notify=off: the fallback without LISTEN).
void claimLatency(const std::string& url, bool notify, int samples, const std::string& prefix) {
  auto db = openDb(url, 4);
  PgJobQueue producer(db);
  PgJobQueue worker_queue(db);
  std::mutex mutex;
  std::condition_variable changed;
  bool woken = false;
  int claimed = 0;
  Clock::time_point queued_at;
  std::vector<double> ms;
  if (notify) {
    worker_queue.addObserver([&](const std::string&) {
      std::lock_guard lock(mutex);
      woken = true;
      changed.notify_all();
    });
    for (int i = 0; i < 200 && !worker_queue.listening(); ++i) std::this_thread::sleep_for(50ms);
  }
  std::jthread worker([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      if (runOne(worker_queue, "idle")) {
        std::lock_guard lock(mutex);
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - queued_at).count());
        ++claimed;
        changed.notify_all();
        continue;
      }
      std::unique_lock lock(mutex);
      if (notify) {
        changed.wait_for(lock, 1s, [&] { return woken || stop.stop_requested(); });
        woken = false;
      } else {
        changed.wait_for(lock, 500ms, [&] { return stop.stop_requested(); });
      }
    }
  });
  std::mt19937 rng(7);
  for (int i = 0; i < samples; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 200));  // the worker idles
    {
      std::lock_guard lock(mutex);
      queued_at = Clock::now();
    }
    enqueue(producer, prefix + std::to_string(i), 1000 + i);
    std::unique_lock lock(mutex);
    if (!changed.wait_for(lock, 10s, [&] { return claimed == i + 1; }))
      die("a job was never claimed");
  }
  worker.request_stop();
  changed.notify_all();
  worker.join();
  std::sort(ms.begin(), ms.end());
  const std::string p = notify ? "notify=on" : "notify=off,poll=500ms";
  figure(cat(cat("scale.claim_latency_ms[", p), ",p50]"), ms[ms.size() / 2], "ms", "report");
  figure(cat(cat("scale.claim_latency_ms[", p), ",p99]"),
         ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], "ms", "report");
}

void blobThroughput(BlobStore& store, const std::string& name, int blobs, std::size_t blob_bytes) {
  std::string bytes(blob_bytes, '\0');
  std::mt19937 rng(3);
  for (char& c : bytes) c = static_cast<char>(rng());
  auto t0 = Clock::now();
  for (int i = 0; i < blobs; ++i) {
    // Written in 64 KiB pieces, as frames arrive.
    auto w = store.openWriter(cat("bench/blob", std::to_string(i)));
    if (!w.ok()) die(w.error());
    for (std::size_t at = 0; at < bytes.size(); at += 65536) {
      if (auto st = w.value()->write(std::string_view(bytes).substr(at, 65536)); !st.ok()) {
        die(st.error());
      }
    }
    if (auto st = w.value()->commit({}); !st.ok()) die(st.error());
  }
  const double mb = static_cast<double>(blobs) * static_cast<double>(blob_bytes) / 1e6;
  const double write_s = std::chrono::duration<double>(Clock::now() - t0).count();
  t0 = Clock::now();
  for (int i = 0; i < blobs; ++i) {
    auto r = store.openReader(cat("bench/blob", std::to_string(i)), {});
    if (!r.ok()) die(r.error());
    while (r.value()->remaining() > 0) {
      auto part = r.value()->read(65536);
      if (!part.ok()) die(part.error());
    }
  }
  const double read_s = std::chrono::duration<double>(Clock::now() - t0).count();
  figure(cat(cat("store.blob_write_mb_per_s[store=", name), "]"), mb / write_s, "MB/s", "report");
  figure(cat(cat("store.blob_read_mb_per_s[store=", name), "]"), mb / read_s, "MB/s", "report");
  for (int i = 0; i < blobs; ++i) (void)store.remove(cat("bench/blob", std::to_string(i)));
}

}  // namespace
}  // namespace booth

int main(int argc, char** argv) {
  std::string url, local_dir;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--database" && i + 1 < argc) {
      url = argv[++i];
    } else if (a == "--local-dir" && i + 1 < argc) {
      local_dir = argv[++i];
    } else if (a == "--quick") {
      quick = true;
    } else {
      booth::die(booth::cat(booth::cat("unknown argument '", a),
                            "' (use --database URL --local-dir DIR [--quick])"));
    }
  }
  if (url.empty() || local_dir.empty()) booth::die("--database and --local-dir are required");
  booth::claimsPerSecond(url, 1, quick ? 100 : 400, "one-");
  booth::claimsPerSecond(url, 16, quick ? 400 : 2000, "many-");
  booth::claimLatency(url, true, quick ? 10 : 40, "notify-");
  booth::claimLatency(url, false, quick ? 10 : 40, "poll-");
  const int blobs = quick ? 4 : 16;
  const std::size_t blob_bytes = 4u << 20;
  booth::PgBlobStore pg(booth::openDb(url, 4));
  booth::blobThroughput(pg, "postgres", blobs, blob_bytes);
  booth::LocalBlobStore local(local_dir, true);
  booth::blobThroughput(local, "local", blobs, blob_bytes);
  std::printf(
      "# machine: %u CPUs, shared with other work; PostgreSQL with fsync off (test server)\n",
      std::thread::hardware_concurrency());
  return 0;
}
