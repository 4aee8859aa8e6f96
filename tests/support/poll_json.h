#pragma once
// pollJson: GETs `path` every 250 ms until the JSON answer satisfies `pred`
// or `timeout` passes (for end-to-end tests against the trainer's API).
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace booth::testing {

inline std::optional<nlohmann::json> pollJson(
    httplib::Client& http, const std::string& path,
    const std::function<bool(const nlohmann::json&)>& pred, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto res = http.Get(path.c_str()); res && res->status == 200) {
      const auto body = nlohmann::json::parse(res->body, nullptr, false);
      if (!body.is_discarded() && pred(body)) return body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return std::nullopt;
}

}  // namespace booth::testing
