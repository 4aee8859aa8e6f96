#include "trainer_node/http/head_reader.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "trainer_node/http/http_server.h"

namespace booth {
namespace {

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

const char* statusText(int status) {
  switch (status) {
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace

void sendRefusal(int fd, int status, const std::string& error) {
  std::string body = "{\"error\":\"";
  for (char c : error) {
    if (c == '"' || c == '\\') body += '\\';
    body += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  body += "\"}\n";
  const std::string response =
      "HTTP/1.1 " + std::to_string(status) + " " + statusText(status) +
      "\r\nContent-Type: application/json\r\nConnection: close\r\n" +
      (status == 503 ? "Retry-After: 5\r\n" : "") +
      "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  // Never waits: a client that does not read its refusal loses it.
  (void)::send(fd, response.data(), response.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  // The answer goes out before the end of the connection, and what the
  // client sent is read away, so that closing does not reset the
  // connection under the answer.
  ::shutdown(fd, SHUT_WR);
  char sink[4096];
  for (int i = 0; i < 16 && ::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
  }
}

HeadReader::Scan HeadReader::scanRequest(const std::string& bytes, std::size_t max_head_bytes,
                                         std::size_t max_body_bytes) {
  const std::size_t crlf = bytes.find("\r\n\r\n"), lf = bytes.find("\n\n");
  const std::size_t end = std::min(crlf == std::string::npos ? crlf : crlf + 4,
                                   lf == std::string::npos ? lf : lf + 2);
  if (end == std::string::npos) return {0, bytes.size() >= max_head_bytes ? 431 : 0};
  if (end > max_head_bytes) return {0, 431};
  std::string_view head(bytes.data(), end);
  std::size_t content_length = 0;
  bool body_known = true;  // false: the worker reads (and refuses) the body
  bool chunked = false;
  std::size_t pos = head.find('\n');
  while (pos != std::string_view::npos && pos + 1 < head.size()) {
    const std::size_t next = head.find('\n', pos + 1);
    const std::string_view line =
        head.substr(pos + 1, next == std::string_view::npos ? head.npos : next - pos - 1);
    pos = next;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trimmed(line.substr(0, colon));
    const std::string_view value = trimmed(line.substr(colon + 1));
    if (equalsIgnoringCase(name, "Transfer-Encoding")) chunked = true;
    if (equalsIgnoringCase(name, "Expect")) body_known = false;  // 100-continue: the worker answers
    if (equalsIgnoringCase(name, "Content-Length")) {
      if (value.empty() || value.size() > 12 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        body_known = false;  // the library answers 400
      } else {
        content_length = std::stoull(std::string(value));
      }
    }
  }
  if (!body_known) return {end, 0};
  if (chunked) {
    // Whole at the last (empty) chunk; with more body than allowed, the
    // library reads what is here and answers 413.
    const std::string_view body(bytes.data() + end, bytes.size() - end);
    if (body.rfind("0\r\n\r\n", 0) == 0) return {end + 5, 0};
    if (const auto last = body.find("\r\n0\r\n\r\n"); last != std::string_view::npos) {
      return {end + last + 7, 0};
    }
    if (body.size() > max_body_bytes) return {bytes.size(), 0};
    return {0, 0};
  }
  if (content_length > max_body_bytes) return {end, 0};  // 413 from the library
  if (bytes.size() < end + content_length) return {0, 0};
  return {end + content_length, 0};
}

HeadReader::HeadReader(const HttpLimits& limits, ConnectionTable& table, Dispatch dispatch)
    : limits_(limits), table_(table), dispatch_(std::move(dispatch)) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::jthread([this](std::stop_token st) { run(st); });
}

HeadReader::~HeadReader() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void HeadReader::add(PendingConnection connection) {
  {
    std::lock_guard lock(mutex_);
    if (!stopped_) {
      incoming_.push_back(std::move(connection));
      connection.id = 0;
    }
  }
  if (connection.id != 0) {
    table_.release(connection.id);  // stopped: nobody reads it any more
    return;
  }
  const std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
}

void HeadReader::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  thread_.request_stop();
  const std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  for (auto& c : incoming_) table_.release(c.id);
  incoming_.clear();
}

void HeadReader::refuse(PendingConnection& c, int status, const char* reason) {
  sendRefusal(c.fd, status, reason);
  table_.release(c.id);
}

bool HeadReader::readFrom(PendingConnection& c) {
  const std::size_t cap = limits_.max_head_bytes + limits_.max_body_bytes;
  if (c.buffered.size() >= cap) return true;  // full: the scan decides
  char chunk[16384];
  const std::size_t want = std::min(sizeof chunk, cap - c.buffered.size());
  ssize_t n;
  do {
    n = ::recv(c.fd, chunk, want, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
  if (n <= 0) {
    table_.release(c.id);  // closed by the client, or cut off
    return false;
  }
  if (c.buffered.empty()) c.first_byte = std::chrono::steady_clock::now();
  c.buffered.append(chunk, static_cast<std::size_t>(n));
  return true;
}

void HeadReader::run(std::stop_token stop) {
  using std::chrono::milliseconds;
  std::vector<pollfd> fds;
  std::vector<bool> fresh;  // per waiting_ entry: new bytes to scan
  while (!stop.stop_requested()) {
    try {
      const std::size_t first_new = waiting_.size();
      {
        std::lock_guard lock(mutex_);
        for (auto& c : incoming_) {
          waiting_.push_back(std::move(c));
        }
        incoming_.clear();
      }
      // Scanned this round: connections that read new bytes, and handed-back
      // ones that may hold a whole pipelined request already. (Scanning the
      // others again would find nothing new, and polling without waiting
      // for them would spin.)
      fresh.assign(waiting_.size(), false);
      for (std::size_t i = first_new; i < waiting_.size(); ++i) {
        fresh[i] = !waiting_[i].buffered.empty();
      }
      const auto now = std::chrono::steady_clock::now();
      auto next = now + milliseconds(1000);
      fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
      for (const auto& c : waiting_) {
        fds.push_back(pollfd{c.fd, POLLIN, 0});
        const auto due = c.buffered.empty() ? c.since + limits_.keep_alive_timeout
                                            : c.first_byte + limits_.request_deadline;
        next = std::min(next, due);
      }
      const auto wait = std::chrono::duration_cast<milliseconds>(next - now).count();
      const bool any_fresh = std::find(fresh.begin(), fresh.end(), true) != fresh.end();
      const int timeout_ms =
          any_fresh ? 0 : static_cast<int>(std::clamp<long long>(wait + 1, 0, 1000));
      const int n = ::poll(fds.data(), fds.size(), timeout_ms);
      if (n < 0 && errno != EINTR) {
        spdlog::error("http: poll failed: {}", std::strerror(errno));
        std::this_thread::sleep_for(milliseconds(10));
        continue;
      }
      if (fds[0].revents & POLLIN) {
        std::uint64_t count;
        (void)::read(wake_fd_, &count, sizeof count);
      }
      const auto t = std::chrono::steady_clock::now();
      std::vector<PendingConnection> keep;
      keep.reserve(waiting_.size());
      for (std::size_t i = 0; i < waiting_.size(); ++i) {
        PendingConnection& c = waiting_[i];
        if (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) {
          if (!readFrom(c)) continue;
          fresh[i] = true;
        }
        if (fresh[i]) {
          const Scan scan =
              scanRequest(c.buffered, limits_.max_head_bytes, limits_.max_body_bytes);
          if (scan.refuse_status == 431) {
            refuse(c, 431, "the request head is larger than allowed");
            continue;
          }
          if (scan.request_bytes > 0) {
            table_.busy(c.id);
            dispatch_(std::move(c));
            continue;
          }
        }
        if (c.buffered.empty()) {
          if (t - c.since >= limits_.keep_alive_timeout) {
            table_.release(c.id);  // idle: closed quietly
            continue;
          }
        } else if (t - c.first_byte >= limits_.request_deadline) {
          refuse(c, 408, "the request was not complete in time");
          continue;
        }
        keep.push_back(std::move(c));
      }
      waiting_.swap(keep);
    } catch (const std::exception& e) {
      // Last resort: the connections waiting here are lost, the server is not.
      spdlog::error("http: the request reader failed: {}; {} connection(s) closed", e.what(),
                    waiting_.size());
      for (auto& c : waiting_) table_.release(c.id);
      waiting_.clear();
    }
  }
  for (auto& c : waiting_) table_.release(c.id);
  waiting_.clear();
}

}  // namespace booth
