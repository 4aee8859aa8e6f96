#pragma once
// HttpConfig: the web side's settings, parsed once by trainer_options.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "trainer_node/http/http_server.h"
#include "trainer_node/http/login_throttle.h"

namespace booth {

struct HttpConfig {
  std::string host = "127.0.0.1";
  int port = 8080;         // 0 = any free port (see port())
  std::string public_url;  // base of clip and visitor page URLs; empty = http://host:port
  double default_capture_seconds = 15;
  double default_train_budget_seconds = 120;  // what a session gets when it asks for none
  double max_train_budget_seconds = 900;      // the most a session may ask for
  std::vector<std::string> choreographies;    // allowed names, for validation and the page
  // The operator token file: --operator-token-file, or DATA/operator_token
  // (created when missing). The token itself is read at start.
  std::filesystem::path operator_token_file;
  bool create_operator_token = false;
  std::string operator_token;
  // How long a signed-in page stays signed in (--operator-session-hours).
  std::chrono::seconds operator_session_lifetime{std::chrono::hours(12)};
  LoginThrottleConfig login_throttle;
  HttpLimits limits;
  std::size_t max_downloads = 64;       // clip downloads served at once; more get 503
  std::size_t max_event_streams = 16;   // open /api/events streams; more get 503
  std::size_t max_ranges = 16;          // ranges in one Range header; more get 416
  double clip_bytes_per_second = 16e6;  // all clip downloads together; 0 = unlimited
  // An idle event stream sends a comment this often (keeps proxies and the
  // browser from timing it out; notices a gone client).
  std::chrono::milliseconds event_keepalive{15000};
  // Where posters are made (and clips from a database fetched for that):
  // DATA/work/http; empty = the system's temporary folder.
  std::filesystem::path scratch_dir;
};

}  // namespace booth
