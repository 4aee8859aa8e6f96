// HeadReader::scanRequest: when a request is whole, and what is refused
// before a worker sees it.
#include <gtest/gtest.h>

#include "trainer_node/http/head_reader.h"

namespace booth {
namespace {

constexpr std::size_t kHead = 1024, kBody = 100;

TEST(HeadReaderScan, AHeadWithoutABodyIsWholeAtTheBlankLine) {
  const std::string r = "GET /api/health HTTP/1.1\r\nHost: x\r\n\r\nGET /next";
  EXPECT_EQ(HeadReader::scanRequest(r, kHead, kBody).request_bytes, r.find("GET /next"));
}

TEST(HeadReaderScan, AnUnfinishedHeadNeedsMore) {
  const auto scan = HeadReader::scanRequest("GET / HTTP/1.1\r\nX-Slow: 1\r\n", kHead, kBody);
  EXPECT_EQ(scan.request_bytes, 0u);
  EXPECT_EQ(scan.refuse_status, 0);
}

TEST(HeadReaderScan, ABodyWithALengthIsWaitedFor) {
  const std::string head = "POST /api/login HTTP/1.1\r\ncontent-length: 10\r\n\r\n";
  EXPECT_EQ(HeadReader::scanRequest(head + "12345", kHead, kBody).request_bytes, 0u);
  EXPECT_EQ(HeadReader::scanRequest(head + "1234567890", kHead, kBody).request_bytes,
            head.size() + 10);
}

TEST(HeadReaderScan, ABodyOverTheLimitGoesToTheWorkerWithTheHeadOnly) {
  const std::string head = "POST /api/login HTTP/1.1\r\nContent-Length: 5000\r\n\r\n";
  EXPECT_EQ(HeadReader::scanRequest(head, kHead, kBody).request_bytes, head.size());
}

TEST(HeadReaderScan, AHeadOverTheBudgetIsRefused) {
  EXPECT_EQ(HeadReader::scanRequest(std::string(kHead, 'a'), kHead, kBody).refuse_status, 431);
  const std::string big = "GET / HTTP/1.1\r\nX: " + std::string(kHead, 'a') + "\r\n\r\n";
  EXPECT_EQ(HeadReader::scanRequest(big, kHead, kBody).refuse_status, 431);
}

TEST(HeadReaderScan, AChunkedBodyIsWholeAtItsLastChunk) {
  const std::string head = "POST /api/login HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_EQ(HeadReader::scanRequest(head + "5\r\nabcde\r\n", kHead, kBody).request_bytes, 0u);
  const std::string whole = head + "5\r\nabcde\r\n0\r\n\r\n";
  EXPECT_EQ(HeadReader::scanRequest(whole + "GET /next", kHead, kBody).request_bytes, whole.size());
}

TEST(HeadReaderScan, AChunkedBodyOverTheLimitGoesToTheWorkerAtOnce) {
  const std::string r = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
                        std::string("400\r\n") + std::string(kBody + 1, ' ');
  EXPECT_EQ(HeadReader::scanRequest(r, kHead, kBody).request_bytes, r.size());
}

}  // namespace
}  // namespace booth
