// Slow clients against the real trainer_node on loopback: more connections
// than HTTP workers, each trickling a request that never ends (a header
// line every 500 ms). The operator's API still answers at once, and the
// slow connections are closed (408) once --http-timeout has passed.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include <httplib.h>

#include "support/child_process.h"

namespace booth {
namespace {

using testing::ChildProcess;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

int connectTo(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// true once the server closed `fd` (EOF or reset), reading what it says.
bool closedByServer(int fd, std::string& said) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buf[4096];
  const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n > 0) {
    said.append(buf, static_cast<size_t>(n));
    return false;
  }
  return true;
}

TEST(HttpSlowClients, TheApiAnswersWhileMoreSlowClientsThanWorkersTrickle) {
  const fs::path dir = fs::temp_directory_path() / ("booth_slow_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  ChildProcess trainer(BOOTH_TRAINER_BIN,
                       {"--data-dir", (dir / "data").string(), "--http-port", "0", "--ingest",
                        "tcp://127.0.0.1:*", "--insecure", "--fsync", "false", "--http-threads",
                        "32", "--http-max-downloads", "8", "--http-max-streams", "4",
                        "--http-timeout", "3", "--threads", "1", "--resolution", "64", "--ngf", "8", "--ndf", "8",
                        "--blocks", "1"},
                       (dir / "trainer.log").string());
  auto url = trainer.waitForLine("HTTP_URL=", 30s);
  ASSERT_TRUE(url) << trainer.output();
  const int port = std::stoi(url->substr(url->rfind(':') + 1));

  constexpr int kSlow = 150;  // well over the 32 workers
  std::vector<int> slow;
  for (int i = 0; i < kSlow; ++i) {
    const int fd = connectTo(port);
    ASSERT_GE(fd, 0) << "connection " << i;
    const std::string line = "GET /api/health HTTP/1.1\r\nHost: x\r\n";
    ASSERT_EQ(::send(fd, line.data(), line.size(), MSG_NOSIGNAL), static_cast<ssize_t>(line.size()));
    slow.push_back(fd);
  }
  std::atomic<bool> trickling{true};
  std::thread trickle([&] {
    for (int n = 0; trickling; ++n) {
      const std::string line = "X-Slow-" + std::to_string(n) + ": still here\r\n";
      for (int fd : slow) (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      std::this_thread::sleep_for(500ms);
    }
  });
  std::this_thread::sleep_for(500ms);  // every slow client has started

  httplib::Client api("127.0.0.1", port);
  api.set_connection_timeout(5, 0);
  api.set_read_timeout(5, 0);
  auto health = api.Get("/api/health");
  EXPECT_TRUE(health && health->status == 200)
      << "GET /api/health got no answer within 5 s while " << kSlow << " slow clients trickled";

  // Every slow connection is closed once the request deadline (3 s) passed.
  std::vector<bool> closed(slow.size(), false);
  std::string said;
  int open = kSlow;
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (open > 0 && std::chrono::steady_clock::now() < end) {
    for (std::size_t i = 0; i < slow.size(); ++i) {
      if (!closed[i] && closedByServer(slow[i], said)) {
        closed[i] = true;
        --open;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  trickling = false;
  trickle.join();
  for (int fd : slow) ::close(fd);
  EXPECT_EQ(open, 0) << open << " slow connections were still open 10 s after the 3 s deadline";
  EXPECT_NE(said.find("408"), std::string::npos) << said.substr(0, 200);
  trainer.signal(SIGINT);
  EXPECT_EQ(trainer.wait(15s), std::optional<int>(0)) << trainer.output();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace booth
