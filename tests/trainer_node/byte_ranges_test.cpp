// Range requests: bounded, merged, and the multipart body laid out right.
#include <gtest/gtest.h>

#include "trainer_node/http/byte_ranges.h"

namespace booth {
namespace {

using Kind = RangeAnswer::Kind;

TEST(ByteRanges, OneRangeIsKept) {
  auto a = parseRangeHeader("bytes=0-99", 1000, 16);
  ASSERT_EQ(a.kind, Kind::kPartial);
  EXPECT_EQ(a.ranges, (std::vector<HttpRange>{{0, 99}}));
}

TEST(ByteRanges, OpenAndSuffixRangesAreResolvedAgainstTheSize) {
  EXPECT_EQ(parseRangeHeader("bytes=900-", 1000, 16).ranges, (std::vector<HttpRange>{{900, 999}}));
  EXPECT_EQ(parseRangeHeader("bytes=-100", 1000, 16).ranges, (std::vector<HttpRange>{{900, 999}}));
  EXPECT_EQ(parseRangeHeader("bytes=500-5000", 1000, 16).ranges,
            (std::vector<HttpRange>{{500, 999}}));
}

TEST(ByteRanges, OverlappingAndAdjacentRangesAreMerged) {
  auto a = parseRangeHeader("bytes=50-150, 0-99,151-200,500-599,-10", 1000, 16);
  ASSERT_EQ(a.kind, Kind::kPartial);
  EXPECT_EQ(a.ranges, (std::vector<HttpRange>{{0, 200}, {500, 599}, {990, 999}}));
}

TEST(ByteRanges, ManyRangesOverTheWholeFileAreTheWholeFile) {
  std::string header = "bytes=0-";
  for (int i = 0; i < 10; ++i) header += ",0-";
  EXPECT_EQ(parseRangeHeader(header, 1000, 16).kind, Kind::kWhole);
}

TEST(ByteRanges, MoreRangesThanAllowedAreRefused) {
  std::string header = "bytes=0-0";
  for (int i = 1; i < 17; ++i)
    header += "," + std::to_string(i * 10) + "-" + std::to_string(i * 10);
  auto a = parseRangeHeader(header, 1000, 16);
  EXPECT_EQ(a.kind, Kind::kTooMany);
  EXPECT_NE(a.error.find("16"), std::string::npos);
  EXPECT_EQ(parseRangeHeader(header, 1000, 17).kind, Kind::kPartial);
}

TEST(ByteRanges, RangesOutsideTheFileAreUnsatisfiable) {
  EXPECT_EQ(parseRangeHeader("bytes=1000-", 1000, 16).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(parseRangeHeader("bytes=-0", 1000, 16).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(parseRangeHeader("bytes=0-", 0, 16).kind, Kind::kUnsatisfiable);
  // One satisfiable range is enough.
  EXPECT_EQ(parseRangeHeader("bytes=5000-6000,0-1", 1000, 16).kind, Kind::kPartial);
}

TEST(ByteRanges, InvalidHeadersAreIgnored) {
  for (const char* h : {"", "bytes", "items=0-1", "bytes=a-b", "bytes=5-1", "bytes=1", "bytes=--5",
                        "bytes=-", "bytes=99999999999999999999-", "bytes=0-1,x"}) {
    EXPECT_EQ(parseRangeHeader(h, 1000, 16).kind, Kind::kWhole) << h;
  }
  EXPECT_EQ(parseRangeHeader("BYTES = 0-1", 1000, 16).kind, Kind::kPartial);
}

TEST(ByteRanges, OneRangeBodyIsTheFileSpan) {
  auto body = partialBody({{10, 19}}, 100, "video/mp4", "B");
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0].file_offset, 10u);
  EXPECT_EQ(body[0].file_length, 10u);
  EXPECT_EQ(bodyLength(body), 10u);
}

TEST(ByteRanges, SeveralRangesMakeAMultipartBody) {
  auto body = partialBody({{0, 1}, {5, 7}}, 10, "video/mp4", "XYZ");
  std::string text;
  const std::string file = "0123456789";
  for (const auto& s : body) {
    text += s.file_length ? file.substr(s.file_offset, s.file_length) : s.text;
  }
  EXPECT_EQ(text,
            "\r\n--XYZ\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-1/10\r\n\r\n01"
            "\r\n--XYZ\r\nContent-Type: video/mp4\r\nContent-Range: bytes 5-7/10\r\n\r\n567"
            "\r\n--XYZ--\r\n");
  EXPECT_EQ(bodyLength(body), text.size());
}

}  // namespace
}  // namespace booth
