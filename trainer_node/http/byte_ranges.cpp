#include "trainer_node/http/byte_ranges.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace booth {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Digits only (no sign, no spaces); nullopt on anything else or overflow.
std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

RangeAnswer parseRangeHeader(std::string_view header, std::uint64_t size, std::size_t max_ranges) {
  RangeAnswer whole;
  const auto eq = header.find('=');
  if (eq == std::string_view::npos || !iequals(trim(header.substr(0, eq)), "bytes")) return whole;
  std::string_view specs = header.substr(eq + 1);

  std::vector<HttpRange> ranges;
  std::size_t count = 0;
  while (true) {
    const auto comma = specs.find(',');
    const std::string_view spec = trim(specs.substr(0, comma));
    if (!spec.empty()) {  // empty elements are allowed by the list syntax
      if (++count > max_ranges) {
        RangeAnswer out;
        out.kind = RangeAnswer::Kind::kTooMany;
        out.error = "too many ranges in one request (at most " + std::to_string(max_ranges) + ")";
        return out;
      }
      const auto dash = spec.find('-');
      if (dash == std::string_view::npos) return whole;
      const std::string_view a = trim(spec.substr(0, dash));
      const std::string_view b = trim(spec.substr(dash + 1));
      if (a.empty()) {  // suffix: the last b bytes
        auto n = number(b);
        if (!n) return whole;
        if (*n > 0 && size > 0) ranges.push_back({size - std::min(*n, size), size - 1});
      } else {
        auto first = number(a);
        if (!first) return whole;
        std::uint64_t last = size ? size - 1 : 0;
        if (!b.empty()) {
          auto l = number(b);
          if (!l || *l < *first) return whole;
          last = std::min(*l, last);
        }
        if (*first < size) ranges.push_back({*first, last});
      }
    }
    if (comma == std::string_view::npos) break;
    specs.remove_prefix(comma + 1);
  }
  if (count == 0) return whole;
  if (ranges.empty()) {
    RangeAnswer out;
    out.kind = RangeAnswer::Kind::kUnsatisfiable;
    out.error = "no requested range starts inside the " + std::to_string(size) + "-byte file";
    return out;
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const HttpRange& x, const HttpRange& y) { return x.first < y.first; });
  RangeAnswer out;
  out.kind = RangeAnswer::Kind::kPartial;
  for (const HttpRange& r : ranges) {
    if (!out.ranges.empty() && r.first <= out.ranges.back().last + 1) {
      out.ranges.back().last = std::max(out.ranges.back().last, r.last);
    } else {
      out.ranges.push_back(r);
    }
  }
  if (out.ranges.size() == 1 && out.ranges[0].first == 0 && out.ranges[0].last + 1 == size) {
    return whole;  // the whole file after all
  }
  return out;
}

std::string contentRange(const HttpRange& range, std::uint64_t size) {
  return "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
         std::to_string(size);
}

std::vector<BodySegment> partialBody(const std::vector<HttpRange>& ranges, std::uint64_t size,
                                     const std::string& content_type, const std::string& boundary) {
  std::vector<BodySegment> out;
  if (ranges.size() == 1) {
    out.push_back({"", ranges[0].first, ranges[0].last - ranges[0].first + 1});
    return out;
  }
  for (const HttpRange& r : ranges) {
    out.push_back({"\r\n--" + boundary + "\r\nContent-Type: " + content_type +
                       "\r\nContent-Range: " + contentRange(r, size) + "\r\n\r\n",
                   0, 0});
    out.push_back({"", r.first, r.last - r.first + 1});
  }
  out.push_back({"\r\n--" + boundary + "--\r\n", 0, 0});
  return out;
}

std::uint64_t bodyLength(const std::vector<BodySegment>& segments) {
  std::uint64_t n = 0;
  for (const auto& s : segments) n += s.length();
  return n;
}

}  // namespace booth
