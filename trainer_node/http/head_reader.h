#pragma once
// HeadReader: reads HTTP requests without holding a thread per connection.
// One thread polls every connection that waits for a request (new ones and
// kept-alive ones between requests) and collects its bytes; a connection
// goes to a worker only when its request head, and its body when it has a
// Content-Length within the body limit, or a chunked body up to its last
// chunk, are complete. So a slow client
// (slowloris: a header line every few seconds), however many, costs a
// descriptor and a buffer, never a worker.
//
// Per connection, with HttpLimits:
//   - nothing at all within `keep_alive_timeout`: closed quietly;
//   - a request not complete within `request_deadline` of its first byte:
//     408 and closed;
//   - a head over `max_head_bytes`: 431 and closed;
//   - a body over `max_body_bytes` goes to a worker as soon as that is
//     clear (the library answers 413 without reading the rest).
//
// Threading: add() from any thread (the accept thread, workers handing a
// kept-alive connection back); `dispatch` runs on the reader's thread and
// must not block. stop() joins; connections still waiting are released.
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/core/clock.h"
#include "trainer_node/http/connection_table.h"

namespace booth {

struct HttpLimits;

// A connection between requests, with what it sent of the next one.
struct PendingConnection {
  std::uint64_t id = 0;  // in the ConnectionTable
  int fd = -1;           // owned by the table
  std::string buffered;  // bytes read, not yet served
  int served = 0;        // requests served on it so far
  Clock::TimePoint since;        // waiting since (connection or last response)
  Clock::TimePoint first_byte{};  // of the request being read; epoch: none yet
};

// Answers `status` with a JSON {"error"} body and Connection: close,
// without waiting on the client (MSG_DONTWAIT).
void sendRefusal(int fd, int status, const std::string& error);

class HeadReader {
 public:
  using Dispatch = std::function<void(PendingConnection)>;
  HeadReader(const HttpLimits& limits, ConnectionTable& table, Dispatch dispatch);
  ~HeadReader();
  HeadReader(const HeadReader&) = delete;
  HeadReader& operator=(const HeadReader&) = delete;

  void add(PendingConnection connection);
  void stop();

  // Where the request at the start of `bytes` ends (head and body), 0 when
  // more bytes are needed, or an HTTP status to refuse it with (431).
  // Exposed for tests.
  struct Scan {
    std::size_t request_bytes = 0;
    int refuse_status = 0;
  };
  static Scan scanRequest(const std::string& bytes, std::size_t max_head_bytes,
                          std::size_t max_body_bytes);

 private:
  void run(std::stop_token stop);
  // Reads what `c` has; false when it is finished with (released).
  bool readFrom(PendingConnection& c);
  void refuse(PendingConnection& c, int status, const char* reason);

  const HttpLimits& limits_;
  ConnectionTable& table_;
  Dispatch dispatch_;
  int wake_fd_ = -1;  // eventfd: add() and stop() wake the poll
  std::mutex mutex_;  // guards incoming_ and stopped_
  std::vector<PendingConnection> incoming_;
  bool stopped_ = false;
  std::vector<PendingConnection> waiting_;  // reader thread only
  std::jthread thread_;
};

}  // namespace booth
