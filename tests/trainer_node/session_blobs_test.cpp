// A session's records as segment blobs (no server needed: the local blob
// folder): the segment format refuses damage, the ingest's sink publishes
// only at sync() and keeps what a failed sync could not publish, comes back
// after a restart, and a worker materializes exactly the session store's
// files, or fails naming the missing or damaged segment.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "../capture_node/temp_dir.h"
#include "common/storage/pose_record_codec.h"
#include "trainer_node/store/blob_session_frames.h"
#include "trainer_node/store/blob_session_sink.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/session_segment.h"
#include "trainer_node/store/session_store.h"

namespace booth {
namespace {

namespace fs = std::filesystem;

FrameToAppend frameNumber(std::uint64_t sequence, const std::string& bytes) {
  FrameToAppend f;
  f.sequence = sequence;
  f.capture_time_us = 1000 + static_cast<std::int64_t>(sequence) * 33333;
  f.encoding = FrameEncoding::kJpeg;
  f.width = 32;
  f.height = 24;
  f.data = bytes;
  return f;
}

PoseRecord poseNumber(std::uint64_t sequence, const std::string& camera = "cam0") {
  PoseRecord p;
  p.camera_id = camera;
  p.sequence = sequence;
  p.capture_time_us = 7;
  p.error = "no person";  // any content that survives the codec
  return p;
}

std::string fileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A blob store whose putAll fails while `failing` is set, and whose list()
// fails with `list_error` while that is set; list() calls are counted.
class FlakyBlobStore final : public BlobStore {
 public:
  explicit FlakyBlobStore(BlobStore& inner) : inner_(inner) {}
  bool failing = false;
  std::string list_error;
  int lists = 0;
  Result<std::unique_ptr<BlobWriter>> openWriter(const std::string& key) override {
    return inner_.openWriter(key);
  }
  Result<std::unique_ptr<BlobReader>> openReader(const std::string& key, ByteRange r) override {
    return inner_.openReader(key, r);
  }
  Result<std::optional<std::uint64_t>> size(const std::string& key) override {
    return inner_.size(key);
  }
  Result<bool> remove(const std::string& key) override { return inner_.remove(key); }
  Result<std::vector<BlobInfo>> list(const std::string& prefix) override {
    ++lists;
    if (!list_error.empty()) return fail(list_error);
    return inner_.list(prefix);
  }
  Result<std::size_t> removeAbandonedWrites(std::chrono::seconds idle) override {
    return inner_.removeAbandonedWrites(idle);
  }
  Status putAll(const std::vector<BlobToPut>& blobs) override {
    if (failing) return fail("database unavailable (test)");
    return inner_.putAll(blobs);
  }

 private:
  BlobStore& inner_;
};

class SessionBlobsTest : public ::testing::Test {
 protected:
  std::vector<std::string> segmentKeys(const std::string& session = "s1") {
    auto listed = blobs_.list(segmentPrefix(session, "node", "cam0"));
    EXPECT_TRUE(listed.ok()) << listed.error();
    std::vector<std::string> keys;
    for (const auto& b : listed.ok() ? listed.value() : std::vector<BlobInfo>{}) keys.push_back(b.key);
    return keys;
  }
  Result<std::vector<StoredFrame>> load(std::int64_t frames, const std::string& scratch = "w") {
    JobRecord job;
    job.session_id = "s1";
    BlobSessionFrames source(blobs_);
    return source.loadCamera(job, CameraFrames{"node", "cam0", frames}, dir_.path() / scratch);
  }
  // Three segments of two frames and two poses each.
  void storeThreeSegments() {
    BlobSessionSink sink(blobs_);
    for (std::uint64_t s = 0; s < 6; ++s) {
      ASSERT_TRUE(sink.writeFrame("s1", "node", "cam0", frameNumber(s, "jpeg" + std::to_string(s))).ok());
      ASSERT_TRUE(sink.writePose("s1", "node", poseNumber(s)).ok());
      if (s % 2 == 1) ASSERT_TRUE(sink.sync().ok());
    }
  }

  test::TempDir dir_;
  LocalBlobStore blobs_{dir_.path() / "blobs", false};
};

TEST(SessionSegmentTest, RecordsComeBackInTheOrderTheyWereAdded) {
  SegmentBuilder builder;
  FrameToAppend f = frameNumber(5, "abc");
  f.meta = "meta";
  builder.addFrame(f);
  builder.addPose("pose-5");
  builder.addFrame(frameNumber(6, std::string(1000, 'x')));
  std::vector<std::string> seen;
  SegmentVisitor visit;
  visit.frame = [&](const FrameToAppend& g) {
    seen.push_back("F" + std::to_string(g.sequence) + ":" + std::to_string(g.data.size()) + ":" +
                   std::string(g.meta) + ":" + std::to_string(g.width) + "x" +
                   std::to_string(g.height) + ":" + std::to_string(g.capture_time_us));
    return okStatus();
  };
  visit.pose = [&](std::string_view p) {
    seen.push_back("P" + std::string(p));
    return okStatus();
  };
  ASSERT_TRUE(readSegment(builder.segment(), visit).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"F5:3:meta:32x24:167665", "Ppose-5",
                                            "F6:1000::32x24:200998"}));
}

TEST(SessionSegmentTest, ATruncatedExtendedOrAlteredSegmentIsRefused) {
  SegmentBuilder builder;
  builder.addFrame(frameNumber(1, std::string(100, 'a')));
  const std::string good = builder.segment();
  SegmentVisitor visit{[](const FrameToAppend&) { return okStatus(); },
                       [](std::string_view) { return okStatus(); }};
  ASSERT_TRUE(readSegment(good, visit).ok());
  auto cut = readSegment(std::string_view(good).substr(0, good.size() - 1), visit);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().find("truncated"), std::string::npos) << cut.error();
  EXPECT_FALSE(readSegment(good + "x", visit).ok());
  std::string altered = good;
  altered[altered.size() - 10] ^= 1;
  auto crc = readSegment(altered, visit);
  ASSERT_FALSE(crc.ok());
  EXPECT_NE(crc.error().find("crc32"), std::string::npos) << crc.error();
  EXPECT_FALSE(readSegment("not a segment", visit).ok());
}

TEST(SessionSegmentTest, KeysListInTheOrderWrittenAndNameTheirIndex) {
  const std::string prefix = segmentPrefix("s1", "node", "cam0");
  EXPECT_EQ(prefix, "sessions/s1/frames/node/cam0/");
  EXPECT_EQ(segmentBlobKey("s1", "node", "cam0", 12), prefix + "0000000012.seg");
  EXPECT_LT(segmentBlobKey("s1", "node", "cam0", 9), segmentBlobKey("s1", "node", "cam0", 10));
  EXPECT_TRUE(isSafeBlobKey(segmentBlobKey("s1", "node", "cam0", 9)));
  EXPECT_EQ(segmentIndexOf(prefix + "0000000012.seg", prefix), 12u);
  EXPECT_FALSE(segmentIndexOf(prefix + "12.seg", prefix));
  EXPECT_FALSE(segmentIndexOf("sessions/s1/generator.pt", prefix));
}

TEST_F(SessionBlobsTest, NothingIsVisibleBeforeSync) {
  BlobSessionSink sink(blobs_);
  ASSERT_TRUE(sink.writeFrame("s1", "node", "cam0", frameNumber(0, "a")).value());
  EXPECT_TRUE(segmentKeys().empty());
  ASSERT_TRUE(sink.sync().ok());
  EXPECT_EQ(segmentKeys(), std::vector<std::string>{segmentBlobKey("s1", "node", "cam0", 0)});
  ASSERT_TRUE(sink.sync().ok());  // nothing new: no new segment
  EXPECT_EQ(segmentKeys().size(), 1u);
}

TEST_F(SessionBlobsTest, WhatAFailedSyncCouldNotPublishIsPublishedByTheNextOnce) {
  FlakyBlobStore flaky(blobs_);
  BlobSessionSink sink(flaky);
  ASSERT_TRUE(sink.writeFrame("s1", "node", "cam0", frameNumber(0, "a")).value());
  ASSERT_TRUE(sink.writeFrame("s1", "node", "cam0", frameNumber(1, "b")).value());
  flaky.failing = true;
  ASSERT_FALSE(sink.sync().ok());
  EXPECT_TRUE(segmentKeys().empty());
  // The node resends frame 1 (its ack was a refusal): taken already, it is
  // acked once a later sync published it.
  EXPECT_FALSE(sink.writeFrame("s1", "node", "cam0", frameNumber(1, "b")).value());
  ASSERT_TRUE(sink.writeFrame("s1", "node", "cam0", frameNumber(2, "c")).value());
  flaky.failing = false;
  ASSERT_TRUE(sink.sync().ok());
  EXPECT_EQ(segmentKeys().size(), 1u);
  auto frames = load(3);
  ASSERT_TRUE(frames.ok()) << frames.error();
  ASSERT_EQ(frames->size(), 3u);
  EXPECT_EQ((*frames)[2].data, "c");
}

TEST_F(SessionBlobsTest, ASinkStartedAgainKnowsWhatWasPublished) {
  storeThreeSegments();
  BlobSessionSink again(blobs_);
  const CameraTotals totals = again.totals("s1", "node", "cam0").value();
  EXPECT_EQ(totals.frames, 6u);
  EXPECT_EQ(totals.poses, 6u);
  EXPECT_FALSE(again.writeFrame("s1", "node", "cam0", frameNumber(3, "jpeg3")).value());
  EXPECT_FALSE(again.writePose("s1", "node", poseNumber(3)).value());
  ASSERT_TRUE(again.writeFrame("s1", "node", "cam0", frameNumber(6, "new")).value());
  ASSERT_TRUE(again.sync().ok());
  EXPECT_EQ(segmentKeys().back(), segmentBlobKey("s1", "node", "cam0", 3));
}

TEST_F(SessionBlobsTest, AClosedSessionsPendingRecordsArePublishedStill) {
  BlobSessionSink sink(blobs_);
  ASSERT_TRUE(sink.writeFrame("s1", "node", "cam0", frameNumber(0, "a")).ok());
  sink.close("s1");
  ASSERT_TRUE(sink.sync().ok());
  EXPECT_EQ(segmentKeys().size(), 1u);
}

TEST_F(SessionBlobsTest, MaterializedFilesEqualTheSessionStoresByteForByte) {
  // The same records, resends included, into the embedded store and into
  // small segments (one record each at most).
  SessionStore local(dir_.path() / "local", false);
  BlobSessionSink sink(blobs_, /*max_segment_bytes=*/1);
  const std::vector<std::uint64_t> order = {0, 1, 1, 2, 4, 3, 0, 5};
  for (std::uint64_t s : order) {
    const std::string bytes = "frame-" + std::to_string(s) + std::string(s * 7, 'z');
    ASSERT_TRUE(local.writeFrame("s1", "node", "cam0", frameNumber(s, bytes)).ok());
    ASSERT_TRUE(sink.writeFrame("s1", "node", "cam0", frameNumber(s, bytes)).ok());
    ASSERT_TRUE(local.writePose("s1", "node", poseNumber(s)).ok());
    ASSERT_TRUE(sink.writePose("s1", "node", poseNumber(s)).ok());
    if (s == 2) ASSERT_TRUE(sink.sync().ok());
  }
  ASSERT_TRUE(local.sync().ok());
  ASSERT_TRUE(sink.sync().ok());
  EXPECT_GT(segmentKeys().size(), 6u);
  auto frames = load(6);
  ASSERT_TRUE(frames.ok()) << frames.error();
  EXPECT_EQ(frames->size(), 6u);
  for (const char* file : {"frames.dat", "frames.idx", "poses.log"}) {
    const fs::path a = local.sessionDir("s1") / "node" / "cam0" / file;
    const fs::path b = dir_.path() / "w" / "sessions" / "s1" / "node" / "cam0" / file;
    EXPECT_EQ(fileBytes(a), fileBytes(b)) << file;
    EXPECT_FALSE(fileBytes(a).empty()) << file;
  }
}

TEST_F(SessionBlobsTest, AMissingSegmentInTheMiddleIsNamed) {
  storeThreeSegments();
  ASSERT_TRUE(blobs_.remove(segmentBlobKey("s1", "node", "cam0", 1)).value());
  auto frames = load(6);
  ASSERT_FALSE(frames.ok());
  EXPECT_NE(frames.error().find("0000000001.seg is missing"), std::string::npos) << frames.error();
  EXPECT_NE(frames.error().find("node/cam0"), std::string::npos) << frames.error();
}

TEST_F(SessionBlobsTest, AMissingLastSegmentLeavesTheCameraIncomplete) {
  storeThreeSegments();
  ASSERT_TRUE(blobs_.remove(segmentBlobKey("s1", "node", "cam0", 2)).value());
  auto frames = load(6);
  ASSERT_FALSE(frames.ok());
  EXPECT_NE(frames.error().find("incomplete: 4 frames where 6"), std::string::npos)
      << frames.error();
}

TEST_F(SessionBlobsTest, ATruncatedSegmentIsNamed) {
  storeThreeSegments();
  const std::string key = segmentBlobKey("s1", "node", "cam0", 2);
  auto bytes = blobs_.read(key);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(blobs_.put(key, bytes->substr(0, bytes->size() - 3)).ok());
  auto frames = load(6);
  ASSERT_FALSE(frames.ok());
  EXPECT_NE(frames.error().find(key), std::string::npos) << frames.error();
  EXPECT_NE(frames.error().find("truncated"), std::string::npos) << frames.error();
}

TEST_F(SessionBlobsTest, AnUnreachableStoreIsNotAskedAgainForEveryRecordUntilTheRetry) {
  FlakyBlobStore flaky(blobs_);
  ManualClock clock;
  BlobSessionSink sink(flaky, BlobSessionSink::kDefaultMaxSegmentBytes, clock);
  flaky.list_error = "PostgreSQL unavailable while listing blobs: test outage";
  auto first = sink.writeFrame("s1", "node", "cam0", frameNumber(0, "a"));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(flaky.lists, 1);
  for (std::uint64_t s = 1; s < 5; ++s) {
    auto again = sink.writeFrame("s1", "node", "cam0", frameNumber(s, "b"));
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().find("PostgreSQL unavailable"), std::string::npos) << again.error();
  }
  ASSERT_FALSE(sink.totals("s1", "node", "cam0").ok());
  EXPECT_EQ(flaky.lists, 1) << "refused at once while the failure holds";
  flaky.list_error.clear();
  clock.advance(BlobSessionSink::kUnreachableRetry);
  EXPECT_TRUE(sink.writeFrame("s1", "node", "cam0", frameNumber(0, "a")).value());
  EXPECT_EQ(flaky.lists, 2);
}

TEST_F(SessionBlobsTest, ADamagedSegmentIsReadOnceAndRefusedFromThenOn) {
  storeThreeSegments();
  const std::string key = segmentBlobKey("s1", "node", "cam0", 1);
  auto bytes = blobs_.read(key);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(blobs_.put(key, bytes->substr(0, bytes->size() - 3)).ok());
  FlakyBlobStore counting(blobs_);
  ManualClock clock;
  BlobSessionSink sink(counting, BlobSessionSink::kDefaultMaxSegmentBytes, clock);
  auto first = sink.totals("s1", "node", "cam0");
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.error().find(key), std::string::npos) << first.error();
  clock.advance(std::chrono::hours(1));
  auto later = sink.writeFrame("s1", "node", "cam0", frameNumber(9, "x"));
  ASSERT_FALSE(later.ok());
  EXPECT_EQ(later.error(), first.error());
  EXPECT_EQ(counting.lists, 1) << "a damaged segment does not mend itself";
}

}  // namespace
}  // namespace booth
