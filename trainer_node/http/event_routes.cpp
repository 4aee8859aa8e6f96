#include "trainer_node/http/event_routes.h"

#include <memory>

#include "trainer_node/http/http_replies.h"
#include "trainer_node/http/job_json.h"

namespace booth {
namespace {

using nlohmann::json;

json databaseJson(const std::string& unavailable) {
  json out = {{"available", unavailable.empty()}};
  if (!unavailable.empty()) out["error"] = unavailable;
  return out;
}

std::string sseEvent(const std::string& id, const char* name, const json& data) {
  return "id: " + id + "\nevent: " + name + "\ndata: " + dumpJson(data) + "\n\n";
}

// One open /api/events stream: its subscription, the text still to send
// first (retry, and the snapshot when not resumed), and its place in the
// count of open streams.
struct EventStream {
  EventStream(std::unique_ptr<EventHub::Subscription> sub, std::string first_text,
              std::atomic<std::size_t>& open_streams)
      : subscription(std::move(sub)), first(std::move(first_text)), open(open_streams) {
    open.fetch_add(1);
  }
  ~EventStream() { open.fetch_sub(1); }
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;
  std::unique_ptr<EventHub::Subscription> subscription;
  std::string first;
  std::atomic<std::size_t>& open;
};

}  // namespace

void installEventRoutes(HttpServer& s, HttpContext& ctx, OperatorGate& gate) {
  s.Get("/api/events", [&ctx, &gate](const httplib::Request& req, httplib::Response& res) {
    if (!gate.authorized(req, res)) return;
    // Subscribe before reading the snapshot: nothing written in between is
    // lost (a job sent twice is harmless, events carry whole jobs).
    auto subscription = ctx.events.subscribe(req.get_header_value("Last-Event-ID").substr(0, 64));
    if (!subscription) {
      res.set_header("Retry-After", "5");
      return sendError(res, 503, "too many open event streams; close another operator page");
    }
    const std::string base = ctx.publicUrl();
    std::string first = "retry: 2000\n\n";
    if (!subscription->resumed()) {
      json jobs = json::array();
      for (const JobRecord& j : ctx.jobs.list(100)) jobs.push_back(ctx.jobView(j, base));
      first += sseEvent(ctx.events.eventId(subscription->startSequence()), "snapshot",
                        {{"jobs", jobs},
                         {"nodes", nodesJson(ctx.events.nodes())},
                         {"database", databaseJson(ctx.jobs.unavailable().value_or(""))}});
    }
    auto stream = std::make_shared<EventStream>(std::move(subscription), std::move(first),
                                                ctx.streams);
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");  // a proxy in front must not buffer the stream
    const auto keepalive = ctx.config.event_keepalive;
    res.set_chunked_content_provider(
        "text/event-stream", [&ctx, stream, base, keepalive](std::size_t, httplib::DataSink& sink) {
          if (ctx.stopping) return false;
          if (!stream->first.empty()) {
            const bool ok = sink.write(stream->first.data(), stream->first.size());
            stream->first.clear();
            return ok;
          }
          auto events = stream->subscription->wait(keepalive);
          if (!events) {
            // The hub closed or this page fell behind: end the stream; the
            // browser reconnects with its Last-Event-ID.
            sink.done();
            return true;
          }
          std::string text;
          if (events->empty()) text = ": keep-alive\n\n";
          for (const BoothEvent& e : *events) {
            const std::string id = ctx.events.eventId(e.sequence);
            switch (e.kind) {
              case BoothEvent::Kind::kJob:
                text += sseEvent(id, "job", ctx.jobView(e.job, base));
                break;
              case BoothEvent::Kind::kNodes:
                text += sseEvent(id, "nodes", nodesJson(e.nodes));
                break;
              case BoothEvent::Kind::kDatabase:
                text += sseEvent(id, "database", databaseJson(e.unavailable));
                break;
            }
          }
          return sink.write(text.data(), text.size());
        });
  });
}

}  // namespace booth
