#include "trainer_node/http/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "trainer_node/http/worker_pool.h"

namespace booth {
namespace {

using Clock = std::chrono::steady_clock;

int pollOnce(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, timeout.count())));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n;
    return (p.revents & (events | POLLHUP | POLLERR)) ? 1 : 0;
  }
}

void addressOf(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  const int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                      : ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (rc != 0) return;
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, text.data(), text.size());
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text.data(), text.size());
    port = ntohs(a->sin6_port);
  } else {
    return;
  }
  ip = text.data();
}

// One TCP connection as a cpp-httplib Stream, with the limits of HttpLimits.
// Reads are buffered (the library reads request lines a byte at a time).
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(int fd, const HttpLimits& limits) : fd_(fd), limits_(limits) {}

  // Waits for the first byte of the next request (or data already
  // buffered), in short slices so that `stopping` is noticed.
  template <class Stopping>
  bool waitForRequest(Stopping stopping) {
    if (begin_ < end_) return true;
    const auto deadline = Clock::now() + limits_.keep_alive_timeout;
    while (!stopping()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      const int n = pollOnce(fd_, POLLIN, std::min(left, std::chrono::milliseconds(200)));
      if (n > 0) return true;
      if (n < 0) return false;
    }
    return false;
  }
  void beginRequest() {
    deadline_ = Clock::now() + limits_.request_deadline;
    head_bytes_ = 0;
    in_head_ = true;
  }
  void endHead() { in_head_ = false; }

  bool is_readable() const override {
    if (begin_ < end_) return true;
    return pollOnce(fd_, POLLIN, readWait()) > 0;
  }
  bool is_writable() const override { return pollOnce(fd_, POLLOUT, limits_.write_timeout) > 0; }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_) {
      if (!fill()) return -1;
    }
    const size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_.data() + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    for (;;) {
      const ssize_t n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    addressOf(fd_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    addressOf(fd_, false, ip, port);
  }
  socket_t socket() const override { return fd_; }

 private:
  std::chrono::milliseconds readWait() const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
    return std::clamp(left, std::chrono::milliseconds(0), limits_.read_timeout);
  }
  bool fill() {
    begin_ = end_ = 0;
    if (Clock::now() >= deadline_) return false;  // the request took too long
    if (in_head_ && head_bytes_ >= limits_.max_head_bytes) return false;
    if (pollOnce(fd_, POLLIN, readWait()) <= 0) return false;
    // In the head, never read past the head budget.
    size_t want = buffer_.size();
    if (in_head_) want = std::min(want, limits_.max_head_bytes - head_bytes_);
    ssize_t n;
    do {
      n = ::recv(fd_, buffer_.data(), want, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    end_ = static_cast<size_t>(n);
    if (in_head_) head_bytes_ += end_;
    return true;
  }

  int fd_;
  const HttpLimits& limits_;
  std::array<char, 4096> buffer_{};
  size_t begin_ = 0, end_ = 0;
  Clock::time_point deadline_ = Clock::now();
  size_t head_bytes_ = 0;
  bool in_head_ = true;
};

}  // namespace

HttpServer::HttpServer(HttpLimits limits) : limits_(limits) {
  const std::size_t threads = std::max<std::size_t>(1, limits_.threads);
  const int nice = limits_.worker_nice;
  new_task_queue = [threads, nice] { return new WorkerPool(threads, nice); };
  set_payload_max_length(limits_.max_body_bytes);
  set_keep_alive_max_count(static_cast<size_t>(std::max(1, limits_.keep_alive_max)));
}

bool HttpServer::serveStream(httplib::Stream& stream, bool close_connection,
                             bool& connection_closed) {
  auto* conn = dynamic_cast<ConnectionStream*>(&stream);
  return process_request(stream, close_connection, connection_closed,
                         [conn](httplib::Request& req) {
                           if (conn) conn->endHead();
                           // Handlers that serve ranges read the Range
                           // header themselves, with their limits.
                           req.ranges.clear();
                         });
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  {
    std::lock_guard lock(connections_mutex_);
    connections_.insert(sock);
  }
  ConnectionStream stream(sock, limits_);
  bool ok = false;
  for (int left = std::max(1, limits_.keep_alive_max); left > 0; --left) {
    if (!stream.waitForRequest([this] { return svr_sock_ == INVALID_SOCKET; })) break;
    stream.beginRequest();
    bool closed = false;
    ok = serveStream(stream, left == 1, closed);
    if (!ok || closed) break;
  }
  {
    std::lock_guard lock(connections_mutex_);
    connections_.erase(sock);
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

void HttpServer::closeConnections() {
  std::lock_guard lock(connections_mutex_);
  for (socket_t s : connections_) ::shutdown(s, SHUT_RDWR);
}

}  // namespace booth
