#pragma once
// Byte ranges of a file for HTTP Range requests (RFC 9110 §14), bounded:
// at most `max_ranges` ranges per request, overlapping and adjacent ranges
// merged, so an answer is never longer than the file plus part headers.
// And the answer's body: one range as is, several as multipart/byteranges,
// described as segments (literal text or a span of the file) that a
// content provider streams without holding the file in memory.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace booth {

// A range of a Range header, inclusive at both ends (store/blob_store.h has
// the store's [offset, offset + length)).
struct HttpRange {
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive
  bool operator==(const HttpRange&) const = default;
};

struct RangeAnswer {
  enum class Kind {
    kWhole,          // no (usable) Range header: 200 with the whole file
    kPartial,        // 206 with `ranges` (sorted, disjoint, non-adjacent)
    kUnsatisfiable,  // 416: no range starts inside the file
    kTooMany,        // 416: more ranges than allowed
  };
  Kind kind = Kind::kWhole;
  std::vector<HttpRange> ranges;
  std::string error;  // for the 416 answers
};

// `header` is the Range header's value. A syntactically invalid header is
// ignored (whole file), as the RFC allows.
RangeAnswer parseRangeHeader(std::string_view header, std::uint64_t size, std::size_t max_ranges);

// One piece of a response body: `text` when file_length == 0, otherwise
// file bytes [file_offset, file_offset + file_length).
struct BodySegment {
  std::string text;
  std::uint64_t file_offset = 0;
  std::uint64_t file_length = 0;
  std::uint64_t length() const { return file_length ? file_length : text.size(); }
};

// The body of a 206 answer: for one range the file span; for several a
// multipart/byteranges body with `boundary` and `content_type` parts.
std::vector<BodySegment> partialBody(const std::vector<HttpRange>& ranges, std::uint64_t size,
                                     const std::string& content_type, const std::string& boundary);
std::uint64_t bodyLength(const std::vector<BodySegment>& segments);
std::string contentRange(const HttpRange& range, std::uint64_t size);  // "bytes 0-99/1000"

}  // namespace booth
