#include "trainer_node/http/visitor_routes.h"

#include <algorithm>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/core/random_token.h"
#include "trainer_node/http/consent_routes.h"
#include "trainer_node/http/byte_ranges.h"
#include "trainer_node/http/http_replies.h"
#include "trainer_node/http/qr_svg.h"
#include "trainer_node/http/web_assets.h"
#include "trainer_node/store/clip_names.h"

namespace booth {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr std::size_t kChunk = 64 * 1024;

std::string htmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void replaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// The done, unexpired job of a clip token, or nullopt.
std::optional<JobRecord> clipJob(HttpContext& ctx, const std::string& token) {
  auto job = ctx.jobs.byClipToken(token);
  if (!job || job->state != JobState::kDone || job->purged_ms != 0) return std::nullopt;
  return job;
}

// One clip download in flight: a reader of the clip's blob, the answer's
// segments, and the admission slot it holds until the response is
// destroyed. The body is read in order, so one reader serves a segment; it
// is reopened where a new segment (or an out-of-order request) starts.
struct ClipDownload {
  ClipDownload(HttpContext& context, std::string key_in) : ctx(context), key(std::move(key_in)) {}
  ~ClipDownload() { ctx.downloads.fetch_sub(1); }
  ClipDownload(const ClipDownload&) = delete;
  ClipDownload& operator=(const ClipDownload&) = delete;

  // Writes the next piece of the body at `offset` (at most one chunk).
  bool writeAt(std::size_t offset, httplib::DataSink& sink) {
    std::uint64_t start = 0;
    for (const BodySegment& seg : segments) {
      const std::uint64_t len = seg.length();
      if (offset < start + len) {
        const std::uint64_t within = offset - start;
        if (seg.file_length == 0) {
          return sink.write(seg.text.data() + within, seg.text.size() - within);
        }
        const std::uint64_t at = seg.file_offset + within;
        if (!reader || reader_at != at) {
          auto opened = ctx.blobs.openReader(key, ByteRange{at, len - within});
          if (!opened.ok()) {
            spdlog::warn("clip {}: {}", key, opened.error());
            return false;
          }
          reader = std::move(opened.value());
          reader_at = at;
        }
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, len - within));
        auto piece = reader->read(n);
        // Gone, shrunk or replaced meanwhile (retention, a database error).
        if (!piece.ok() || piece->empty()) {
          if (!piece.ok()) spdlog::warn("clip {}: {}", key, piece.error());
          return false;
        }
        reader_at += piece->size();
        if (!throttle(piece->size())) return false;
        if (!sink.write(piece->data(), piece->size())) return false;
        ctx.metrics.addClipBytes(piece->size());
        return true;
      }
      start += len;
    }
    return false;
  }
  // Waits for the shared clip budget, in slices so that stop() is quick.
  bool throttle(std::size_t bytes) {
    auto wait = ctx.clip_budget.reserve(bytes);
    const auto until = SteadyClock::now() + wait;
    while (SteadyClock::now() < until) {
      if (ctx.stopping) return false;
      std::this_thread::sleep_for(std::min<SteadyClock::duration>(until - SteadyClock::now(),
                                                                  std::chrono::milliseconds(50)));
    }
    return !ctx.stopping;
  }

  HttpContext& ctx;
  std::string key;
  std::unique_ptr<BlobReader> reader;
  std::uint64_t reader_at = 0;  // the blob offset reader reads next
  std::vector<BodySegment> segments;
};

void serveClip(HttpContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto job = clipJob(ctx, req.matches[1]);
  if (!job) return sendError(res, 404, "no such clip (the link is wrong or the clip has expired)");
  const std::string key = clipBlobKey(job->clip_token);
  auto stored = ctx.blobs.size(key);
  if (!stored.ok()) {
    spdlog::warn("clip of job {}: {}", job->id, stored.error());
    res.set_header("Retry-After", "5");
    return sendError(res, 503, "the clip store cannot be read just now; try again in a moment");
  }
  if (!stored.value()) return sendError(res, 410, "the clip is gone from the trainer's store");
  const std::uint64_t size = *stored.value();
  if (ctx.downloads.fetch_add(1) >= ctx.config.max_downloads) {
    ctx.downloads.fetch_sub(1);
    res.set_header("Retry-After", "2");
    return sendError(res, 503,
                     "too many clip downloads at once (" +
                         std::to_string(ctx.config.max_downloads) + "); try again in a moment");
  }
  auto download = std::make_shared<ClipDownload>(ctx, key);

  RangeAnswer ranges;
  if (req.has_header("Range")) {
    ranges = parseRangeHeader(req.get_header_value("Range"), size, ctx.config.max_ranges);
  }
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("Cache-Control", "private, max-age=3600");
  const bool attachment = req.has_param("download");
  res.set_header("Content-Disposition", std::string(attachment ? "attachment" : "inline") +
                                            "; filename=\"" + clipDownloadName(job->session_id) +
                                            "\"");
  if (ranges.kind == RangeAnswer::Kind::kTooMany ||
      ranges.kind == RangeAnswer::Kind::kUnsatisfiable) {
    res.set_header("Content-Range", "bytes */" + std::to_string(size));
    return sendError(res, 416, ranges.error);
  }
  std::string content_type = "video/mp4";
  if (ranges.kind == RangeAnswer::Kind::kPartial) {
    const std::string boundary = randomHexToken();
    download->segments = partialBody(ranges.ranges, size, "video/mp4", boundary);
    if (ranges.ranges.size() == 1) {
      res.set_header("Content-Range", contentRange(ranges.ranges[0], size));
    } else {
      content_type = "multipart/byteranges; boundary=" + boundary;
    }
    res.status = 206;
  } else {
    download->segments = {BodySegment{"", 0, size}};
    res.status = 200;
  }
  const std::uint64_t length = bodyLength(download->segments);
  if (length == 0) {
    res.set_content("", content_type);
    return;
  }
  res.set_content_provider(static_cast<std::size_t>(length), content_type,
                           [download](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                             return download->writeAt(offset, sink);
                           });
}

}  // namespace

void installVisitorRoutes(HttpServer& s, HttpContext& ctx) {
  const std::string tok = kClipTokenPattern;

  s.Get("/c/" + tok, [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (auto kept = ctx.jobs.byClipToken(req.matches[1]); kept && serveKeptFramesPage(*kept, res)) {
      return;
    }
    auto job = clipJob(ctx, req.matches[1]);
    auto tmpl = findWebAsset("visitor.html");
    if (!job || !tmpl) return sendNotFoundPage(res);
    const std::string base = ctx.publicUrl();
    std::string html(tmpl->content);
    replaceAll(html, "{{PAGE_URL}}", htmlEscape(visitorPageUrl(base, job->clip_token)));
    replaceAll(html, "{{CLIP_URL}}", htmlEscape(clipUrlPath(job->clip_token)));
    replaceAll(html, "{{ABS_CLIP_URL}}", htmlEscape(clipUrl(base, job->clip_token)));
    replaceAll(html, "{{POSTER_URL}}", htmlEscape(posterUrlPath(job->clip_token)));
    replaceAll(html, "{{ABS_POSTER_URL}}", htmlEscape(base + posterUrlPath(job->clip_token)));
    replaceAll(html, "{{QR_URL}}", htmlEscape(qrUrlPath(job->clip_token)));
    replaceAll(html, "{{WIDTH}}", std::to_string(job->clip_width));
    replaceAll(html, "{{HEIGHT}}", std::to_string(job->clip_height));
    replaceAll(html, "{{CHOREOGRAPHY}}", htmlEscape(job->choreography));
    sendPage(res, 200, std::move(html));
  });

  s.Get("/c/" + tok + "/qr.svg", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto job = clipJob(ctx, req.matches[1]);
    if (!job) return sendError(res, 404, "no such clip");
    res.set_header("Cache-Control", "private, max-age=3600");
    res.set_content(qrSvg(visitorPageUrl(ctx.publicUrl(), job->clip_token)), "image/svg+xml");
  });

  s.Get("/c/" + tok + "/poster.jpg", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto job = clipJob(ctx, req.matches[1]);
    if (!job) return sendError(res, 404, "no such clip");
    auto poster = ctx.posters.ensureBlob(ctx.blobs, job->clip_token);
    if (!poster.ok()) {
      spdlog::warn("poster of job {}: {}", job->id, poster.error());
      return sendError(res, 404, "no poster for this clip");
    }
    std::string bytes = std::move(poster.value());
    if (bytes.empty()) return sendError(res, 404, "no poster for this clip");
    res.set_header("Cache-Control", "private, max-age=3600");
    res.set_content(std::move(bytes), "image/jpeg");
  });

  s.Get("/c/.*", [](const httplib::Request&, httplib::Response& res) { sendNotFoundPage(res); });

  s.Get("/clips/" + tok + R"(\.mp4)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    serveClip(ctx, req, res);
  });
}

}  // namespace booth
