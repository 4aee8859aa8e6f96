// Load for bench/http_slow_bench.sh and the slow-client test: N slow
// clients (slowloris) hold connections to the trainer's HTTP port, each
// sending a request line and then one header line every INTERVAL seconds,
// never finishing; a client the server closes comes back a second later.
// Meanwhile one more client asks GET /api/health (a new connection each
// time, as a page that was away would) every 50 ms and times the answers.
// Prints one JSON object:
//   {"slow_clients", "seconds", "probes", "probe_failed", "p50_ms", "p99_ms",
//    "max_ms", "slow_connects", "slow_closed_by_server",
//    "slowest_probes_at_s_ms": [[seconds since start, ms], ...] (the 5 slowest)}
// A probe that gets no 200 within 5 s counts as failed and as 5000 ms.
//
//   http_slow_clients HOST PORT CLIENTS SECONDS [INTERVAL_S]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "latency_percentile.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Slow {
  int fd = -1;
  int lines = 0;
  Clock::time_point next;  // next header line, or reconnect when fd < 0
};

int connectTo(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void sendAll(int fd, const std::string& s) {
  (void)::send(fd, s.data(), s.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

using booth::bench::percentile;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: http_slow_clients HOST PORT CLIENTS SECONDS [INTERVAL_S]\n");
    return 2;
  }
  const std::string host = argv[1];
  const int port = std::atoi(argv[2]);
  const int clients = std::atoi(argv[3]);
  const double seconds = std::atof(argv[4]);
  const double interval = argc == 6 ? std::atof(argv[5]) : 2.0;
  if (port <= 0 || clients < 1 || !(seconds > 0) || !(interval > 0)) {
    std::fprintf(stderr, "http_slow_clients: bad arguments\n");
    return 2;
  }
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  const auto every = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(interval));
  long connects = 0, closed_by_server = 0;
  std::atomic<bool> ready{false};

  // The probe starts once every slow client is connected.
  std::vector<double> latencies;
  std::vector<std::pair<double, double>> slowest;  // (seconds since start, ms), the 5 slowest
  long failed = 0;
  std::thread probe([&] {
    while (!ready && Clock::now() < end) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    while (Clock::now() < end) {
      httplib::Client c(host, port);
      c.set_connection_timeout(5, 0);
      c.set_read_timeout(5, 0);
      c.set_write_timeout(5, 0);
      const auto t0 = Clock::now();
      auto res = c.Get("/api/health");
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      const double took = res && res->status == 200 ? ms : 5000;
      if (took == 5000) ++failed;
      latencies.push_back(took);
      slowest.emplace_back(std::chrono::duration<double>(t0 - start).count(), took);
      std::sort(slowest.begin(), slowest.end(),
                [](const auto& a, const auto& b) { return a.second > b.second; });
      if (slowest.size() > 5) slowest.pop_back();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  std::vector<Slow> slow(static_cast<std::size_t>(clients));
  auto open = [&](Slow& s) {
    s.fd = connectTo(host, port);
    s.lines = 0;
    if (s.fd < 0) {
      s.next = Clock::now() + std::chrono::seconds(1);
      return;
    }
    ++connects;
    sendAll(s.fd, "GET /api/health HTTP/1.1\r\nHost: " + host + "\r\n");
    s.next = Clock::now() + every;
  };
  for (auto& s : slow) open(s);
  ready = true;
  std::vector<pollfd> fds;
  while (Clock::now() < end) {
    fds.clear();
    for (const auto& s : slow) fds.push_back(pollfd{s.fd, POLLIN, 0});  // fd -1 is ignored
    ::poll(fds.data(), fds.size(), 50);
    const auto now = Clock::now();
    for (std::size_t i = 0; i < slow.size(); ++i) {
      Slow& s = slow[i];
      if (s.fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        char buf[4096];
        const ssize_t n = ::recv(s.fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) {  // closed (after a 408 or 503, or cut off): come back in a second
          ::close(s.fd);
          s.fd = -1;
          ++closed_by_server;
          s.next = now + std::chrono::seconds(1);
          continue;
        }
      }
      if (now < s.next) continue;
      if (s.fd < 0) {
        open(s);
      } else {
        sendAll(s.fd, "X-Slow-" + std::to_string(s.lines++) + ": still here\r\n");
        s.next = now + every;
      }
    }
  }
  probe.join();
  for (auto& s : slow) {
    if (s.fd >= 0) ::close(s.fd);
  }
  nlohmann::json out = {{"slow_clients", clients},
                        {"seconds", seconds},
                        {"probes", latencies.size()},
                        {"probe_failed", failed},
                        {"p50_ms", percentile(latencies, 0.5)},
                        {"p99_ms", percentile(latencies, 0.99)},
                        {"max_ms", percentile(latencies, 1.0)},
                        {"slow_connects", connects},
                        {"slow_closed_by_server", closed_by_server},
                        {"slowest_probes_at_s_ms", slowest}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
