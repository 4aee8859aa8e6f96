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

#include <spdlog/spdlog.h>

#include "trainer_node/http/head_reader.h"
#include "trainer_node/http/worker_pool.h"

namespace booth {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kListenBacklog = 1024;

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

// One TCP connection as a cpp-httplib Stream, with the limits of HttpLimits,
// starting with the bytes the HeadReader read (a whole request, usually).
class ConnectionStream : public httplib::Stream {
 public:
  ConnectionStream(int fd, const HttpLimits& limits, std::string preloaded)
      : fd_(fd), limits_(limits), buffer_(std::move(preloaded)), end_(buffer_.size()) {
    deadline_ = SteadyClock::now() + limits_.request_deadline;
  }
  void endHead() { in_head_ = false; }
  // Bytes read past the request served (the next, pipelined one).
  std::string leftover() const { return buffer_.substr(begin_, end_ - begin_); }

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
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - SteadyClock::now());
    return std::clamp(left, std::chrono::milliseconds(0), limits_.read_timeout);
  }
  // Only for what the reader did not collect (a body of unknown length,
  // Expect: 100-continue): bounded by the request deadline.
  bool fill() {
    begin_ = end_ = 0;
    if (SteadyClock::now() >= deadline_) return false;  // the request took too long
    if (in_head_) return false;  // the reader hands over whole heads only
    if (pollOnce(fd_, POLLIN, readWait()) <= 0) return false;
    buffer_.resize(4096);
    ssize_t n;
    do {
      n = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    end_ = static_cast<size_t>(n);
    return true;
  }

  int fd_;
  const HttpLimits& limits_;
  std::string buffer_;
  size_t begin_ = 0, end_ = 0;
  SteadyClock::time_point deadline_;
  bool in_head_ = true;
};

std::string peerAddress(int fd) {
  std::string ip;
  int port = 0;
  addressOf(fd, true, ip, port);
  return ip.empty() ? "unknown" : ip;
}

}  // namespace

// cpp-httplib's task queue, as this server uses it: the listen thread runs
// each accepted socket's task at once (admission, which never blocks); the
// workers and the reader live in the server.
class AcceptQueue : public httplib::TaskQueue {
 public:
  explicit AcceptQueue(HttpServer& server) : server_(server) { server_.startServing(); }
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override { server_.stopServing(); }

 private:
  HttpServer& server_;
};

HttpServer::HttpServer(HttpLimits limits)
    : limits_(limits),
      table_(ConnectionLimits{std::max<std::size_t>(1, limits.max_connections),
                              std::max<std::size_t>(1, limits.max_connections_per_address),
                              limits.evict_after}) {
  new_task_queue = [this] { return new AcceptQueue(*this); };
  set_payload_max_length(limits_.max_body_bytes);
  set_keep_alive_max_count(static_cast<size_t>(std::max(1, limits_.keep_alive_max)));
}

HttpServer::~HttpServer() { stopServing(); }

void HttpServer::startServing() {
  // cpp-httplib listens with a backlog of 5: a burst of connections (clients
  // coming back together) would have their SYNs dropped and retried a
  // second later, the operator's among them. Listening again on the bound
  // socket only widens the queue (the kernel caps it at somaxconn).
  if (svr_sock_ != INVALID_SOCKET) ::listen(svr_sock_, kListenBacklog);
  workers_ = std::make_unique<WorkerPool>(std::max<std::size_t>(1, limits_.threads),
                                          limits_.worker_nice);
  reader_ = std::make_unique<HeadReader>(limits_, table_, [this](PendingConnection c) {
    auto shared = std::make_shared<PendingConnection>(std::move(c));
    workers_->enqueue([this, shared] { serveOne(std::move(*shared)); });
  });
}

void HttpServer::stopServing() {
  if (reader_) reader_->stop();  // waiting connections are closed
  table_.shutdownAll();           // busy ones fail their next read or write
  if (workers_) workers_->shutdown();
  workers_.reset();
  reader_.reset();
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
  const auto now = SteadyClock::now();
  const std::string address = peerAddress(sock);
  const auto admission = table_.admit(sock, address, now);
  if (admission.id == 0) {
    sendRefusal(sock, 503, admission.refusal + "; try again later");
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return false;
  }
  PendingConnection c;
  c.id = admission.id;
  c.fd = sock;
  c.since = now;
  reader_->add(std::move(c));
  return true;
}

void HttpServer::serveOne(PendingConnection c) {
  bool keep = false;
  try {
    ConnectionStream stream(c.fd, limits_, std::move(c.buffered));
    bool closed = false;
    const bool last = c.served + 1 >= std::max(1, limits_.keep_alive_max);
    const bool ok = serveStream(stream, last, closed);
    keep = ok && !closed && !last && svr_sock_ != INVALID_SOCKET;
    if (keep) {
      c.buffered = stream.leftover();
      ++c.served;
      c.since = SteadyClock::now();
      c.first_byte = c.since;
    }
  } catch (const std::exception& e) {
    // Last resort: this connection is lost, the worker is not.
    spdlog::error("http: serving a request failed: {}", e.what());
    keep = false;
  }
  if (!keep) {
    table_.release(c.id);
    return;
  }
  table_.waiting(c.id, c.since);
  reader_->add(std::move(c));
}

void HttpServer::closeConnections() { table_.shutdownAll(); }

}  // namespace booth
