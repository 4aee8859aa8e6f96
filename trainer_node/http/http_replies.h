#pragma once
// The answers every route of the trainer's HTTP side gives the same way:
// JSON errors ({"error": "…"}), JSON bodies, HTML pages under a strict
// Content-Security-Policy, the friendly 404 page, and JSON request bodies
// read within a limit. Shared by HttpApi and the handler files beside it.
#include <cstddef>
#include <optional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace booth {

void sendError(httplib::Response& res, int status, const std::string& message);
// Invalid UTF-8 in `body` (a node id, a detail from elsewhere) is replaced,
// never a failed request.
void sendJson(httplib::Response& res, const nlohmann::json& body, int status = 200);
// An HTML page: no caching, no external assets, not framed.
void sendPage(httplib::Response& res, int status, std::string html);
void sendNotFoundPage(httplib::Response& res);

// The body of a POST as a JSON object: only application/json is accepted
// (a cross-site HTML form cannot send it without the page's consent), at
// most max_bytes; an empty body is an empty object. On failure the answer
// (415, 413, 400) is set and nullopt returned.
std::optional<nlohmann::json> readJsonBody(const httplib::Request& req, httplib::Response& res,
                                           const httplib::ContentReader& reader,
                                           std::size_t max_bytes);

}  // namespace booth
