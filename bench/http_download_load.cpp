// Load for bench/http_bench.sh: N clients download one clip over and over
// for a given time (as visitors' phones would, each with its own
// connection), while one more client asks GET /api/health every 100 ms to
// see whether the API still answers. Prints one JSON object:
//   {"clients", "seconds", "downloads", "bytes", "refused", "errors",
//    "health_p50_ms", "health_p99_ms", "health_failed"}
//
//   http_download_load URL PATH CLIENTS SECONDS
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "latency_percentile.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Totals {
  std::atomic<long> downloads{0};
  std::atomic<long long> bytes{0};
  std::atomic<long> refused{0};  // 503: over the server's download cap
  std::atomic<long> errors{0};
};

using booth::bench::percentile;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: http_download_load URL PATH CLIENTS SECONDS\n");
    return 2;
  }
  const std::string url = argv[1], path = argv[2];
  const int clients = std::atoi(argv[3]);
  const double seconds = std::atof(argv[4]);
  if (clients < 1 || !(seconds > 0)) {
    std::fprintf(stderr, "http_download_load: CLIENTS must be >= 1 and SECONDS > 0\n");
    return 2;
  }
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  Totals totals;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&] {
      httplib::Client c(url);
      c.set_keep_alive(true);
      c.set_read_timeout(60, 0);
      while (Clock::now() < end) {
        long long got = 0;
        auto res = c.Get(path.c_str(), [&](const char*, size_t n) {
          got += static_cast<long long>(n);
          totals.bytes += static_cast<long long>(n);
          return Clock::now() < end;  // stop mid-clip when the time is up
        });
        if (res && res->status == 200) {
          ++totals.downloads;
        } else if (res && res->status == 503) {
          ++totals.refused;
          std::this_thread::sleep_for(std::chrono::seconds(1));
        } else if (Clock::now() < end) {
          ++totals.errors;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }
  std::vector<double> health_ms;
  long health_failed = 0;
  {
    httplib::Client c(url);
    c.set_read_timeout(30, 0);
    while (Clock::now() < end) {
      const auto t0 = Clock::now();
      auto res = c.Get("/api/health");
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      if (res && res->status == 200) {
        health_ms.push_back(ms);
      } else {
        ++health_failed;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  for (auto& t : threads) t.join();
  const nlohmann::json out = {{"clients", clients},
                              {"seconds", seconds},
                              {"downloads", totals.downloads.load()},
                              {"bytes", totals.bytes.load()},
                              {"refused", totals.refused.load()},
                              {"errors", totals.errors.load()},
                              {"health_p50_ms", percentile(health_ms, 0.5)},
                              {"health_p99_ms", percentile(health_ms, 0.99)},
                              {"health_failed", health_failed}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
