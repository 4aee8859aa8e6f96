#pragma once
// OperatorGate: who may use the operator routes. A request is let in with
// the operator token (`Authorization: Bearer TOKEN`, for tools) or the
// session cookie POST /api/login sets (for the page; the cookie holds a
// random session id, never the token). Installs POST /api/login (429 +
// Retry-After while an address must wait after failures, before the token
// is looked at) and POST /api/logout.
//
// Threading: authorized() and the handlers run on HTTP worker threads;
// OperatorSessions and LoginThrottle are safe from any thread.
#include <httplib.h>

#include "trainer_node/http/http_context.h"
#include "trainer_node/http/login_throttle.h"
#include "trainer_node/http/operator_sessions.h"

namespace booth {

class OperatorGate {
 public:
  explicit OperatorGate(HttpContext& context);
  void install(HttpServer& server);
  // Answers 401 (saying what is missing or wrong) and returns false unless
  // the request carries the token or a live session.
  bool authorized(const httplib::Request& req, httplib::Response& res);

 private:
  HttpContext& ctx_;
  OperatorSessions sessions_;
  LoginThrottle throttle_;
};

}  // namespace booth
