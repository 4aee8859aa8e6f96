// BlobStore conformance: the same behaviours of both implementations, the
// local folder and PostgreSQL (the latter in the fixture's server, a schema
// of its own per test; it exits 77 where PostgreSQL cannot run).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include "support/test_bytes.h"
#include "support/test_database.h"
#include "trainer_node/store/blob_store.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"

namespace booth {
namespace {

std::string pattern(std::size_t n, unsigned seed) { return testing::randomBytes(n, seed); }

struct LocalBackend {
  std::filesystem::path dir;
  std::unique_ptr<BlobStore> make() {
    dir = std::filesystem::temp_directory_path() /
          ("blob_store_test_" + std::to_string(std::random_device{}()));
    return std::make_unique<LocalBlobStore>(dir, true);
  }
  ~LocalBackend() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

struct PgBackend {
  // Small chunks, so that every test crosses chunk boundaries.
  static constexpr std::size_t kChunkBytes = 1000;
  std::unique_ptr<testing::TestSchema> schema;
  std::unique_ptr<BlobStore> make() {
    schema = std::make_unique<testing::TestSchema>();
    PgOptions options;
    options.url = schema->url();
    auto db = PgDatabase::open(options);
    if (!db.ok()) throw std::runtime_error(db.error());
    return std::make_unique<PgBlobStore>(db.value(), kChunkBytes);
  }
};

template <class Backend>
class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = backend_.make(); }
  BlobStore& store() { return *store_; }

  void put(const std::string& key, const std::string& bytes) {
    auto st = store().put(key, bytes);
    ASSERT_TRUE(st.ok()) << st.error();
  }
  std::string read(const std::string& key, ByteRange range = {}) {
    auto r = store().read(key, range);
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? r.value() : std::string();
  }
  std::optional<std::uint64_t> size(const std::string& key) {
    auto r = store().size(key);
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? r.value() : std::nullopt;
  }
  std::vector<std::string> keys(const std::string& prefix) {
    auto r = store().list(prefix);
    EXPECT_TRUE(r.ok()) << r.error();
    std::vector<std::string> out;
    if (r.ok()) {
      for (const auto& b : r.value()) out.push_back(b.key);
    }
    return out;
  }

  Backend backend_;
  std::unique_ptr<BlobStore> store_;
};

using Backends = ::testing::Types<LocalBackend, PgBackend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, LocalBackend> ? "local" : "postgres";
  }
};
TYPED_TEST_SUITE(BlobStoreTest, Backends, BackendNames);

TYPED_TEST(BlobStoreTest, PutThenReadReturnsTheSameBytes) {
  const std::string bytes = pattern(4321, 1);  // binary, zeros included
  this->put("clips/a.mp4", bytes);
  EXPECT_EQ(this->read("clips/a.mp4"), bytes);
  EXPECT_EQ(this->size("clips/a.mp4"), bytes.size());
}

TYPED_TEST(BlobStoreTest, EmptyBlobExistsWithSizeZero) {
  this->put("posters/empty.jpg", "");
  EXPECT_EQ(this->size("posters/empty.jpg"), 0u);
  EXPECT_EQ(this->read("posters/empty.jpg"), "");
}

TYPED_TEST(BlobStoreTest, PutReplacesTheWholeBlob) {
  this->put("checkpoints/j1/state.pt", pattern(5000, 1));
  const std::string second = pattern(1200, 2);
  this->put("checkpoints/j1/state.pt", second);
  EXPECT_EQ(this->read("checkpoints/j1/state.pt"), second);
  EXPECT_EQ(this->size("checkpoints/j1/state.pt"), second.size());
}

TYPED_TEST(BlobStoreTest, PutAllPublishesEveryBlobWholeReplacingOlderOnes) {
  this->put("sessions/s1/frames/n/c/0000000000.seg", pattern(300, 3));
  const std::string big = pattern(4500, 4), small = pattern(10, 5);
  const std::vector<BlobToPut> blobs = {{"sessions/s1/frames/n/c/0000000000.seg", big},
                                        {"sessions/s1/frames/n/d/0000000000.seg", small},
                                        {"sessions/s1/frames/n/e/0000000000.seg", ""}};
  auto st = this->store().putAll(blobs);
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(this->read("sessions/s1/frames/n/c/0000000000.seg"), big);
  EXPECT_EQ(this->read("sessions/s1/frames/n/d/0000000000.seg"), small);
  EXPECT_EQ(this->size("sessions/s1/frames/n/e/0000000000.seg"), 0u);
  EXPECT_EQ(this->keys("sessions/s1/").size(), 3u);
  EXPECT_FALSE(this->store().putAll({{"sessions/../x", small}}).ok());
}

TYPED_TEST(BlobStoreTest, MissingBlobHasNoSizeAndCannotBeRead) {
  EXPECT_EQ(this->size("clips/none.mp4"), std::nullopt);
  auto r = this->store().read("clips/none.mp4");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("no blob 'clips/none.mp4'"), std::string::npos) << r.error();
}

TYPED_TEST(BlobStoreTest, UnsafeKeysAreRefusedByEveryOperation) {
  for (const std::string& key :
       std::vector<std::string>{"", "../x", "/abs", "a//b", ".hidden", "a/.b", "a/", "sp ace",
                                "a/b/c/d/e/f/g/h/i", std::string(65, 'x')}) {
    SCOPED_TRACE(key);
    auto w = this->store().openWriter(key);
    ASSERT_FALSE(w.ok());
    EXPECT_NE(w.error().find("refusing blob key"), std::string::npos) << w.error();
    EXPECT_FALSE(this->store().openReader(key, {}).ok());
    EXPECT_FALSE(this->store().size(key).ok());
    EXPECT_FALSE(this->store().remove(key).ok());
  }
}

TYPED_TEST(BlobStoreTest, StreamingWriteInUnevenPiecesKeepsEveryByte) {
  const std::string bytes = pattern(23456, 3);
  auto w = this->store().openWriter("frames/s1/n1/c0/frames.dat");
  ASSERT_TRUE(w.ok()) << w.error();
  std::size_t pos = 0;
  for (std::size_t piece = 1; pos < bytes.size(); piece = piece * 3 + 1) {
    const std::size_t n = std::min(piece, bytes.size() - pos);
    auto st = w.value()->write(std::string_view(bytes).substr(pos, n));
    ASSERT_TRUE(st.ok()) << st.error();
    pos += n;
  }
  EXPECT_EQ(w.value()->bytesWritten(), bytes.size());
  auto st = w.value()->commit({});
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(this->read("frames/s1/n1/c0/frames.dat"), bytes);
}

TYPED_TEST(BlobStoreTest, UncommittedWriteIsInvisible) {
  auto w = this->store().openWriter("clips/b.mp4");
  ASSERT_TRUE(w.ok()) << w.error();
  ASSERT_TRUE(w.value()->write(pattern(3500, 4)).ok());  // several chunks stored already
  EXPECT_EQ(this->size("clips/b.mp4"), std::nullopt);
  EXPECT_TRUE(this->keys("").empty());
  ASSERT_TRUE(w.value()->commit({}).ok());
  EXPECT_EQ(this->size("clips/b.mp4"), 3500u);
}

TYPED_TEST(BlobStoreTest, AbortedWriteLeavesTheOldBlobAlone) {
  const std::string old = pattern(1500, 5);
  this->put("clips/c.mp4", old);
  auto w = this->store().openWriter("clips/c.mp4");
  ASSERT_TRUE(w.ok()) << w.error();
  ASSERT_TRUE(w.value()->write(pattern(4500, 6)).ok());
  w.value()->abort();
  EXPECT_EQ(this->read("clips/c.mp4"), old);
  EXPECT_EQ(this->keys(""), std::vector<std::string>{"clips/c.mp4"});
  EXPECT_FALSE(w.value()->commit({}).ok());
}

TYPED_TEST(BlobStoreTest, DestroyedWriterPublishesNothing) {
  {
    auto w = this->store().openWriter("clips/d.mp4");
    ASSERT_TRUE(w.ok()) << w.error();
    ASSERT_TRUE(w.value()->write(pattern(2500, 7)).ok());
  }
  EXPECT_EQ(this->size("clips/d.mp4"), std::nullopt);
  auto removed = this->store().removeAbandonedWrites(std::chrono::seconds(0));
  ASSERT_TRUE(removed.ok()) << removed.error();
  EXPECT_EQ(removed.value(), 0u) << "the destroyed writer left its partial bytes behind";
}

TYPED_TEST(BlobStoreTest, FinishedWriterRefusesMoreCalls) {
  auto w = this->store().openWriter("clips/e.mp4");
  ASSERT_TRUE(w.ok()) << w.error();
  ASSERT_TRUE(w.value()->write("abc").ok());
  ASSERT_TRUE(w.value()->commit({}).ok());
  EXPECT_FALSE(w.value()->write("more").ok());
  EXPECT_FALSE(w.value()->commit({}).ok());
  EXPECT_EQ(this->read("clips/e.mp4"), "abc");
}

TYPED_TEST(BlobStoreTest, RangesAreCutAtTheEnd) {
  const std::string bytes = pattern(3001, 8);
  this->put("clips/f.mp4", bytes);
  EXPECT_EQ(this->read("clips/f.mp4", {0, 10}), bytes.substr(0, 10));
  EXPECT_EQ(this->read("clips/f.mp4", {995, 20}), bytes.substr(995, 20));  // across a chunk edge
  EXPECT_EQ(this->read("clips/f.mp4", {2990, 100}), bytes.substr(2990));
  EXPECT_EQ(this->read("clips/f.mp4", {1000, std::nullopt}), bytes.substr(1000));
  EXPECT_EQ(this->read("clips/f.mp4", {3001, 5}), "");
}

TYPED_TEST(BlobStoreTest, RangeStartingPastTheEndIsAnError) {
  this->put("clips/g.mp4", "0123456789");
  auto r = this->store().openReader("clips/g.mp4", {11, 1});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("past its end"), std::string::npos) << r.error();
}

TYPED_TEST(BlobStoreTest, ReaderStreamsARangeInSmallPieces) {
  const std::string bytes = pattern(5000, 9);
  this->put("clips/h.mp4", bytes);
  auto reader = this->store().openReader("clips/h.mp4", {700, 3000});
  ASSERT_TRUE(reader.ok()) << reader.error();
  BlobReader& r = *reader.value();
  EXPECT_EQ(r.blobSize(), 5000u);
  EXPECT_EQ(r.remaining(), 3000u);
  std::string got;
  while (true) {
    auto part = r.read(333);
    ASSERT_TRUE(part.ok()) << part.error();
    if (part->empty()) break;
    EXPECT_LE(part->size(), 333u);
    got += part.value();
  }
  EXPECT_EQ(got, bytes.substr(700, 3000));
  EXPECT_EQ(r.remaining(), 0u);
}

TYPED_TEST(BlobStoreTest, WholeReadRefusesMoreThanItsLimit) {
  this->put("clips/i.mp4", pattern(100, 10));
  auto r = this->store().read("clips/i.mp4", {}, 99);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("100 bytes"), std::string::npos) << r.error();
}

TYPED_TEST(BlobStoreTest, OpenReaderNeverMixesTwoVersions) {
  const std::string first = pattern(4000, 11);
  this->put("clips/j.mp4", first);
  auto reader = this->store().openReader("clips/j.mp4", {});
  ASSERT_TRUE(reader.ok()) << reader.error();
  auto head = reader.value()->read(1500);
  ASSERT_TRUE(head.ok()) << head.error();
  this->put("clips/j.mp4", pattern(4000, 12));
  std::string got = head.value();
  bool failed = false;
  while (reader.value()->remaining() > 0) {
    auto part = reader.value()->read(1500);
    if (!part.ok()) {
      failed = true;
      EXPECT_NE(part.error().find("replaced or removed"), std::string::npos) << part.error();
      break;
    }
    got += part.value();
  }
  if (!failed) {
    EXPECT_EQ(got, first);
  }
}

TYPED_TEST(BlobStoreTest, RemoveDeletesOnce) {
  this->put("posters/k.jpg", "jpeg");
  auto first = this->store().remove("posters/k.jpg");
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(first.value());
  auto second = this->store().remove("posters/k.jpg");
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_FALSE(second.value());
  EXPECT_EQ(this->size("posters/k.jpg"), std::nullopt);
}

TYPED_TEST(BlobStoreTest, ListGivesKeysWithThePrefixInOrderWithSizes) {
  this->put("clips/b.mp4", "bb");
  this->put("clips/a.mp4", "a");
  this->put("clipsx/c", "ccc");
  this->put("frames/s_1/n/c/frames.dat", "dddd");
  EXPECT_EQ(this->keys("clips/"), (std::vector<std::string>{"clips/a.mp4", "clips/b.mp4"}));
  EXPECT_EQ(this->keys("clips"),
            (std::vector<std::string>{"clips/a.mp4", "clips/b.mp4", "clipsx/c"}));
  EXPECT_EQ(this->keys("frames/s_"), std::vector<std::string>{"frames/s_1/n/c/frames.dat"});
  EXPECT_EQ(this->keys("frames/s%"), std::vector<std::string>{});
  EXPECT_EQ(this->keys("").size(), 4u);
  EXPECT_TRUE(this->keys("nothing/").empty());
  auto all = this->store().list("clips/b");
  ASSERT_TRUE(all.ok()) << all.error();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().size, 2u);
}

TYPED_TEST(BlobStoreTest, BeforeCommitErrorRefusesTheWrite) {
  this->put("clips/l.mp4", "old");
  int calls = 0;
  auto st = this->store().put("clips/l.mp4", "new", [&](StoreTransaction&) -> Status {
    ++calls;
    return fail("fenced: job 7 is now held by another worker");
  });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("fenced: job 7"), std::string::npos) << st.error();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(this->read("clips/l.mp4"), "old");
}

TYPED_TEST(BlobStoreTest, BeforeCommitRunsOnceWithEveryByteStored) {
  int calls = 0;
  auto w = this->store().openWriter("clips/m.mp4");
  ASSERT_TRUE(w.ok()) << w.error();
  ASSERT_TRUE(w.value()->write(pattern(2100, 13)).ok());
  auto st = w.value()->commit([&](StoreTransaction&) -> Status {
    ++calls;
    return okStatus();
  });
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(this->read("clips/m.mp4"), pattern(2100, 13));
}

TYPED_TEST(BlobStoreTest, AbandonedWriteIsRemovedAndCannotCommit) {
  auto w = this->store().openWriter("clips/n.mp4");
  ASSERT_TRUE(w.ok()) << w.error();
  ASSERT_TRUE(w.value()->write(pattern(3500, 14)).ok());
  // As if its process had died: another one sweeps what it left.
  auto removed = this->store().removeAbandonedWrites(std::chrono::seconds(0));
  ASSERT_TRUE(removed.ok()) << removed.error();
  EXPECT_EQ(removed.value(), 1u);
  EXPECT_FALSE(w.value()->commit({}).ok());
  EXPECT_EQ(this->size("clips/n.mp4"), std::nullopt);
}

TYPED_TEST(BlobStoreTest, RecentWritesAreNotAbandoned) {
  auto w = this->store().openWriter("clips/o.mp4");
  ASSERT_TRUE(w.ok()) << w.error();
  ASSERT_TRUE(w.value()->write(pattern(3500, 15)).ok());
  auto removed = this->store().removeAbandonedWrites(std::chrono::hours(1));
  ASSERT_TRUE(removed.ok()) << removed.error();
  EXPECT_EQ(removed.value(), 0u);
  ASSERT_TRUE(w.value()->commit({}).ok());
  EXPECT_EQ(this->size("clips/o.mp4"), 3500u);
}

TYPED_TEST(BlobStoreTest, ConcurrentWritersOfOneKeyLeaveOneWholeVersion) {
  constexpr int kThreads = 4;
  std::vector<std::string> versions;
  for (int i = 0; i < kThreads; ++i) versions.push_back(pattern(2500, 100 + i));
  std::vector<std::string> errors(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        for (int round = 0; round < 3; ++round) {
          if (auto st = this->store().put("checkpoints/j/state.pt", versions[i]); !st.ok()) {
            errors[i] = st.error();
          }
        }
      });
    }
  }
  for (const auto& e : errors) EXPECT_EQ(e, "");
  const std::string got = this->read("checkpoints/j/state.pt");
  EXPECT_NE(std::find(versions.begin(), versions.end(), got), versions.end())
      << "the blob is no single writer's version";
  auto abandoned = this->store().removeAbandonedWrites(std::chrono::seconds(0));
  ASSERT_TRUE(abandoned.ok()) << abandoned.error();
  EXPECT_EQ(abandoned.value(), 0u);
}

}  // namespace
}  // namespace booth
