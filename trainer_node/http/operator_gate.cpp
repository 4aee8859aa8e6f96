#include "trainer_node/http/operator_gate.h"

#include "trainer_node/http/http_replies.h"
#include "trainer_node/http/operator_auth.h"

namespace booth {

OperatorGate::OperatorGate(HttpContext& context)
    : ctx_(context),
      sessions_(context.config.operator_session_lifetime),
      throttle_(context.config.login_throttle) {}

bool OperatorGate::authorized(const httplib::Request& req, httplib::Response& res) {
  // Tools send the token; the page sends its session cookie.
  const auto bearer = bearerToken(req.get_header_value("Authorization"));
  const auto session = cookieValue(req.get_header_value("Cookie"), kOperatorCookie);
  if (bearer ? sameSecret(*bearer, ctx_.config.operator_token)
             : session && sessions_.valid(*session)) {
    return true;
  }
  res.set_header("WWW-Authenticate", "Bearer realm=\"booth operator\"");
  sendError(res, 401,
            bearer    ? "wrong operator token"
            : session ? "signed out: the session expired or was ended; sign in again"
                      : "operator token required (Authorization: Bearer TOKEN; the token is in "
                        "the trainer's operator token file)");
  return false;
}

void OperatorGate::install(HttpServer& s) {
  const std::size_t max_body = ctx_.config.limits.max_body_bytes;
  s.Post("/api/login", [this, max_body](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& reader) {
    // Repeated failures from one address wait (429), before the token is
    // even looked at.
    if (const auto wait = throttle_.retryAfter(req.remote_addr)) {
      res.set_header("Retry-After", std::to_string(wait->count()));
      return sendError(res, 429,
                       "too many failed sign-ins from this address; try again in " +
                           std::to_string(wait->count()) + " s");
    }
    auto body = readJsonBody(req, res, reader, max_body);
    if (!body) return;
    auto it = body->find("token");
    if (it == body->end() || !it->is_string()) {
      return sendError(res, 400, "body must be {\"token\": \"...\"}");
    }
    if (!sameSecret(it->get<std::string>(), ctx_.config.operator_token)) {
      throttle_.failed(req.remote_addr);
      return sendError(res, 401, "wrong operator token");
    }
    throttle_.succeeded(req.remote_addr);
    const bool https = ctx_.publicUrl().rfind("https://", 0) == 0;
    res.set_header("Set-Cookie", std::string(kOperatorCookie) + "=" + sessions_.create() +
                                     "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                     std::to_string(sessions_.lifetime().count()) +
                                     (https ? "; Secure" : ""));
    sendJson(res, {{"ok", true}});
  });

  s.Post("/api/logout", [this](const httplib::Request& req, httplib::Response& res,
                               const httplib::ContentReader&) {
    if (auto session = cookieValue(req.get_header_value("Cookie"), kOperatorCookie)) {
      sessions_.revoke(*session);
    }
    res.set_header("Set-Cookie",
                   std::string(kOperatorCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    sendJson(res, {{"ok", true}});
  });
}

}  // namespace booth
