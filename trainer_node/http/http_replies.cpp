#include "trainer_node/http/http_replies.h"

#include <algorithm>
#include <cctype>

#include "trainer_node/http/web_assets.h"

namespace booth {
namespace {

using nlohmann::json;

constexpr const char* kPageSecurity =
    "default-src 'self'; img-src 'self'; media-src 'self'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

}  // namespace

void sendError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(json{{"error", message}}.dump(), "application/json");
}

void sendJson(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // dump() throws on invalid UTF-8 (a node id, a detail from elsewhere);
  // replace such bytes rather than fail the request.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void sendPage(httplib::Response& res, int status, std::string html) {
  res.status = status;
  res.set_header("Content-Security-Policy", kPageSecurity);
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(html), "text/html; charset=utf-8");
}

void sendNotFoundPage(httplib::Response& res) {
  auto page = findWebAsset("not_found.html");
  sendPage(res, 404, page ? std::string(page->content) : "<h1>Not found</h1>");
}

std::optional<json> readJsonBody(const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& reader, std::size_t max_bytes) {
  std::string type = req.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  type.erase(
      std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }),
      type.end());
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (type != "application/json") {
    sendError(res, 415,
              "send JSON: Content-Type must be application/json, got '" +
                  req.get_header_value("Content-Type").substr(0, 80) + "'");
    return std::nullopt;
  }
  std::string body;
  bool too_large = false;
  const bool read = reader([&](const char* data, std::size_t n) {
    if (body.size() + n > max_bytes) {
      too_large = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_large || res.status == 413) {
    sendError(res, 413, "request body too large (at most " + std::to_string(max_bytes) + " bytes)");
    return std::nullopt;
  }
  if (!read) {
    sendError(res, 400, "could not read the request body");
    return std::nullopt;
  }
  if (body.empty()) return json::object();
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    sendError(res, 400, "body must be a JSON object, e.g. {\"seconds\": 15}");
    return std::nullopt;
  }
  return parsed;
}

}  // namespace booth
