#pragma once
// HttpServer: cpp-httplib's Server with the trainer's own connection loop,
// so that no client can hold the server's resources without bound:
//   - a request (line, headers and body) must arrive within
//     `request_deadline` of its first byte; a slow sender is cut off then,
//     not when it stops sending altogether (slowloris);
//   - the request line and headers together are at most `max_head_bytes`
//     (the library itself bounds each line but not their number);
//   - each read and write waits at most `read_timeout` / `write_timeout`;
//   - idle keep-alive connections close after `keep_alive_timeout`, and
//     after `keep_alive_max` requests;
//   - Range headers are never applied by the library: handlers that serve
//     ranges (clips) parse and bound them themselves (see byte_ranges.h).
//     The library's own range code has no limit on the number of ranges
//     and builds multipart answers in memory.
// Stopping shuts every open connection down, so stop() does not wait for
// slow clients.
//
// Threading: connections are served on the WorkerPool's threads (one
// connection per thread at a time); stop() may be called from any thread.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <set>

#include <httplib.h>

namespace booth {

struct HttpLimits {
  std::size_t threads = 128;
  int worker_nice = 10;
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{10000};
  std::chrono::milliseconds request_deadline{15000};
  std::chrono::milliseconds keep_alive_timeout{5000};
  int keep_alive_max = 100;
  std::size_t max_head_bytes = 32 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
};

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(HttpLimits limits);
  // Processes the requests in `stream` as one connection would (used by the
  // connection loop and by the fuzzer). false when the connection should
  // close.
  bool serveStream(httplib::Stream& stream, bool close_connection, bool& connection_closed);
  // Shuts down every open connection (their reads and writes fail at once).
  void closeConnections();
  const HttpLimits& limits() const { return limits_; }

 private:
  bool process_and_close_socket(socket_t sock) override;

  HttpLimits limits_;
  std::mutex connections_mutex_;  // guards connections_
  std::set<socket_t> connections_;
};

}  // namespace booth
