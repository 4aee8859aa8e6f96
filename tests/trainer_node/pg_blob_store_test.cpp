// PgBlobStore beyond the shared contract (blob_store_test.cpp): the
// BeforeCommit hook runs inside the publishing transaction (fencing), the
// chunk layout, and an unreachable or restarted server as returned errors.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <random>

#include "support/test_bytes.h"
#include "support/test_database.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_transaction.h"

namespace booth {
namespace {

std::string pattern(std::size_t n, unsigned seed) { return testing::randomBytes(n, seed); }

class PgBlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PgOptions options;
    options.url = schema_.url();
    auto db = PgDatabase::open(options);
    ASSERT_TRUE(db.ok()) << db.error();
    db_ = db.value();
  }
  std::int64_t count(const std::string& sql) {
    pqxx::connection c(schema_.url());
    pqxx::work tx(c);
    return tx.exec1(sql)[0].as<std::int64_t>();
  }
  void exec(const std::string& sql) {
    pqxx::connection c(schema_.url());
    pqxx::work tx(c);
    tx.exec(sql);
    tx.commit();
  }

  testing::TestSchema schema_;
  std::shared_ptr<PgDatabase> db_;
};

// A fence in the same transaction: the write publishes only while the
// token it carries is still the job's.
BeforeCommit fencedBy(std::int64_t token) {
  return [token](StoreTransaction& t) -> Status {
    pqxx::work* tx = pgWork(t);
    if (!tx) return fail("not a PostgreSQL transaction");
    const auto row = tx->exec1("SELECT token FROM fence FOR SHARE");
    if (row[0].as<std::int64_t>() != token) {
      return fail("fenced: token " + std::to_string(token) + " is stale");
    }
    tx->exec_params0("INSERT INTO published (token) VALUES ($1)", token);
    return okStatus();
  };
}

// putAll publishes in one transaction: a failure on any blob (here a
// trigger refusing one key) leaves none of them, chunks included.
TEST_F(PgBlobStoreTest, PutAllPublishesEveryBlobOrNone) {
  exec("CREATE FUNCTION refuse_key() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
       "IF NEW.key = 'sessions/s/frames/n/z/0000000000.seg' THEN RAISE EXCEPTION 'refused (test)'; "
       "END IF; RETURN NEW; END $$");
  exec("CREATE TRIGGER refuse_key BEFORE INSERT ON blobs FOR EACH ROW EXECUTE FUNCTION refuse_key()");
  PgBlobStore store(db_, 1000);
  const std::string a = pattern(2500, 1), z = pattern(10, 2);
  auto st = store.putAll({{"sessions/s/frames/n/a/0000000000.seg", a},
                          {"sessions/s/frames/n/z/0000000000.seg", z}});
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("refused (test)"), std::string::npos) << st.error();
  EXPECT_EQ(count("SELECT count(*) FROM blobs"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM blob_chunks"), 0);
  st = store.putAll({{"sessions/s/frames/n/a/0000000000.seg", a},
                     {"sessions/s/frames/n/b/0000000000.seg", z}});
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(count("SELECT count(*) FROM blobs"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM blob_chunks"), 4);  // 3 of 1000 bytes + 1
}

TEST_F(PgBlobStoreTest, FenceCheckAndItsWritesCommitWithTheBlob) {
  exec(
      "CREATE TABLE fence (token bigint); INSERT INTO fence VALUES (2);"
      "CREATE TABLE published (token bigint)");
  PgBlobStore store(db_, 100);
  auto ok = store.put("clips/a.mp4", pattern(450, 1), fencedBy(2));
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ(count("SELECT count(*) FROM published WHERE token = 2"), 1);
  EXPECT_EQ(store.size("clips/a.mp4").value(), 450u);
}

TEST_F(PgBlobStoreTest, StaleTokenPublishesNothing) {
  exec(
      "CREATE TABLE fence (token bigint); INSERT INTO fence VALUES (3);"
      "CREATE TABLE published (token bigint)");
  PgBlobStore store(db_, 100);
  auto refused = store.put("clips/a.mp4", pattern(450, 1), fencedBy(2));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("token 2 is stale"), std::string::npos) << refused.error();
  EXPECT_EQ(store.size("clips/a.mp4").value(), std::nullopt);
  EXPECT_EQ(count("SELECT count(*) FROM published"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM blob_chunks"), 0) << "the refused write left chunks";
  EXPECT_EQ(count("SELECT count(*) FROM blob_uploads"), 0);
}

TEST_F(PgBlobStoreTest, HookErrorFromTheDatabaseIsReturned) {
  PgBlobStore store(db_, 100);
  auto st = store.put("clips/a.mp4", "x", [](StoreTransaction& t) -> Status {
    pgWork(t)->exec("SELECT * FROM no_such_table");
    return okStatus();
  });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("no_such_table"), std::string::npos) << st.error();
  EXPECT_EQ(store.size("clips/a.mp4").value(), std::nullopt);
}

TEST_F(PgBlobStoreTest, BlobIsStoredInChunksOfTheConfiguredSize) {
  PgBlobStore store(db_, 1000);
  ASSERT_TRUE(store.put("frames/s/n/c/frames.dat", pattern(2500, 2)).ok());
  EXPECT_EQ(count("SELECT count(*) FROM blob_chunks"), 3);
  EXPECT_EQ(count("SELECT max(length(data)) FROM blob_chunks"), 1000);
}

TEST_F(PgBlobStoreTest, ReplacingAndRemovingLeaveNoChunksBehind) {
  PgBlobStore store(db_, 1000);
  ASSERT_TRUE(store.put("clips/a.mp4", pattern(2500, 3)).ok());
  ASSERT_TRUE(store.put("clips/a.mp4", pattern(1500, 4)).ok());
  EXPECT_EQ(count("SELECT count(*) FROM blob_chunks"), 2);
  ASSERT_TRUE(store.remove("clips/a.mp4").value());
  EXPECT_EQ(count("SELECT count(*) FROM blob_chunks"), 0);
}

TEST_F(PgBlobStoreTest, DefaultChunksCarryABlobOfSeveralMegabytes) {
  PgBlobStore store(db_);
  const std::string bytes = pattern(3 * PgBlobStore::kDefaultChunkBytes + 12345, 5);
  ASSERT_TRUE(store.put("checkpoints/j/state.pt", bytes).ok());
  EXPECT_EQ(count("SELECT count(*) FROM blob_chunks"), 4);
  auto back = store.read("checkpoints/j/state.pt");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(back.value() == bytes);
}

TEST_F(PgBlobStoreTest, UnreachableServerIsAnErrorWithoutThePassword) {
  PgOptions options;
  options.url = "postgresql://booth:secret-password@127.0.0.1:1/none";
  options.connect_timeout = std::chrono::seconds(2);
  auto db = PgDatabase::open(options);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().find("127.0.0.1"), std::string::npos) << db.error();
  EXPECT_EQ(db.error().find("secret-password"), std::string::npos) << db.error();
}

TEST_F(PgBlobStoreTest, ConnectionKilledByTheServerIsReplacedAtOnce) {
  // Its own application_name, so only this test's connections are cut.
  PgOptions options;
  options.url = schema_.url() + "&application_name=" + schema_.name();
  auto db = PgDatabase::open(options);
  ASSERT_TRUE(db.ok()) << db.error();
  PgBlobStore store(db.value(), 1000);
  ASSERT_TRUE(store.put("clips/a.mp4", "abc").ok());  // a pooled connection now exists
  EXPECT_EQ(count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                  "WHERE application_name = '" +
                  schema_.name() + "'"),
            1);
  // Its pooled connection is dead: the call finds out at BEGIN and retries
  // on a fresh one.
  auto size = store.size("clips/a.mp4");
  ASSERT_TRUE(size.ok()) << size.error();
  EXPECT_EQ(size.value(), 3u);
}

TEST(PgDatabaseUrl, PasswordIsRedacted) {
  EXPECT_EQ(redactDatabaseUrl("postgresql://booth:pw@db:5432/booth"),
            "postgresql://booth:***@db:5432/booth");
  EXPECT_EQ(redactDatabaseUrl("postgresql://db/booth"), "postgresql://db/booth");
  EXPECT_EQ(redactDatabaseUrl("host=db password=pw dbname=booth"),
            "host=db password=*** dbname=booth");
}

}  // namespace
}  // namespace booth
