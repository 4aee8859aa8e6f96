#pragma once
// HttpServer: cpp-httplib's Server with the trainer's own connection
// handling, so that no client, and no number of clients, can hold the
// server's resources without bound:
//   - admission (ConnectionTable): at most `max_connections` open, at most
//     `max_connections_per_address` from one address; at a limit the
//     connection that has waited longest for its request (at least
//     `evict_after`) is cut off, else the new one gets 503 with the reason;
//   - requests are read by one HeadReader thread, not by workers: a worker
//     gets a connection only with a whole request (line, headers and body)
//     in hand, so slow senders (slowloris) hold no
//     worker. A request must be whole within `request_deadline` of its
//     first byte (else 408 and the connection is closed), the head is at
//     most `max_head_bytes` (else 431 and closed);
//   - the workers are kept for requests: clip downloads and event streams
//     are capped below the worker count by HttpApi (max_downloads,
//     max_event_streams), so the rest stay free for the operator's page and
//     API whatever else is going on;
//   - each write waits at most `write_timeout`; idle keep-alive connections
//     close after `keep_alive_timeout` and after `keep_alive_max` requests;
//   - Range headers are never applied by the library: handlers that serve
//     ranges (clips) parse and bound them themselves (see byte_ranges.h).
//     The library's own range code has no limit on the number of ranges
//     and builds multipart answers in memory.
// Stopping shuts every open connection down, so stop() does not wait for
// slow clients.
//
// Threading: cpp-httplib's listen thread admits connections (it runs
// process_and_close_socket, which never blocks); the HeadReader's thread
// reads requests; the WorkerPool's threads serve them, one request at a
// time, and hand kept-alive connections back to the reader. stop() and
// closeConnections() may be called from any thread.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <httplib.h>

#include "trainer_node/http/connection_table.h"

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
  // Waiting connections cost a descriptor and a buffer, not a thread, so
  // these can be generous; per address generous too, as a venue's Wi-Fi
  // puts many phones behind one address.
  std::size_t max_connections = 2048;
  std::size_t max_connections_per_address = 512;
  std::chrono::milliseconds evict_after{1000};
};

class HeadReader;
class WorkerPool;
struct PendingConnection;

class HttpServer : public httplib::Server {
 public:
  explicit HttpServer(HttpLimits limits);
  ~HttpServer() override;
  // Processes the requests in `stream` as one connection would (used by the
  // workers and by the fuzzer). false when the connection should close.
  bool serveStream(httplib::Stream& stream, bool close_connection, bool& connection_closed);
  // Shuts down every open connection (their reads and writes fail at once).
  void closeConnections();
  const HttpLimits& limits() const { return limits_; }
  // Connections cut off to make room, and refused with 503, so far.
  std::uint64_t connectionsEvicted() const { return table_.evictedTotal(); }
  std::uint64_t connectionsRefused() const { return table_.refusedTotal(); }

 private:
  friend class AcceptQueue;
  // On the listen thread: admits the accepted socket or refuses it (503).
  bool process_and_close_socket(socket_t sock) override;
  void startServing();  // the listen loop starts
  void stopServing();   // the listen loop ended
  void serveOne(PendingConnection connection);  // on a worker

  HttpLimits limits_;
  ConnectionTable table_;
  std::unique_ptr<WorkerPool> workers_;  // while listening
  std::unique_ptr<HeadReader> reader_;   // while listening
};

}  // namespace booth
