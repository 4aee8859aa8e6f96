#pragma once
// How every handler answers: JSON errors and bodies, HTML pages under the
// strict Content-Security-Policy, and the checked reading of JSON request
// bodies. Pure functions over cpp-httplib's request and response; any
// thread.
#include <cstddef>
#include <optional>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "common/core/result.h"

namespace booth {

// {"error": message} with `status`, never cached.
void sendError(httplib::Response& res, int status, const std::string& message);
// `body` as JSON (invalid UTF-8 replaced, not refused), never cached.
void sendJson(httplib::Response& res, const nlohmann::json& body, int status = 200);
// An HTML page under the page security policy.
void sendPage(httplib::Response& res, int status, std::string html);
// The friendly 404 page (unknown or expired visitor links).
void sendNotFoundPage(httplib::Response& res);
// JSON text for an event stream or a body: invalid UTF-8 replaced.
std::string dumpJson(const nlohmann::json& value);

// The body of a POST as a JSON object: only application/json is accepted
// (a cross-site HTML form cannot send it without the page's consent), at
// most max_bytes. On failure the answer is set and nullopt returned.
std::optional<nlohmann::json> readJsonBody(const httplib::Request& req, httplib::Response& res,
                                           const httplib::ContentReader& reader,
                                           std::size_t max_bytes);
// A number field of a JSON body, or `fallback` when absent. Anything but a
// finite number is an error naming the field.
Result<double> numberField(const nlohmann::json& body, const char* name, double fallback);
// "%g" of a number of seconds, for messages.
std::string formatSeconds(double seconds);

}  // namespace booth
