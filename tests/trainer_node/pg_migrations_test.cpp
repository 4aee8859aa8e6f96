// Schema migrations: applied in order at start-up, each once, each whole,
// also when several trainers start at the same moment.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "support/test_database.h"
#include "trainer_node/store/pg/pg_migrations.h"

namespace booth {
namespace {

class PgMigrationsTest : public ::testing::Test {
 protected:
  std::int64_t count(const std::string& sql) {
    pqxx::connection c(schema_.url());
    pqxx::work tx(c);
    return tx.exec1(sql)[0].as<std::int64_t>();
  }
  bool tableExists(const std::string& name) {
    return count("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" +
                 schema_.name() + "' AND table_name = '" + name + "'") == 1;
  }

  testing::TestSchema schema_;
};

const std::vector<PgMigration> kTwo = {
    {1, "first", "CREATE TABLE a (x int); CREATE TABLE runs (n int); INSERT INTO runs VALUES (1)"},
    {2, "second", "CREATE TABLE b (x int); INSERT INTO runs VALUES (2)"},
};

TEST_F(PgMigrationsTest, FreshDatabaseGetsTheWholeSchema) {
  auto v = applyPgMigrations(schema_.url(), pgSchemaMigrations());
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v.value(), static_cast<int>(pgSchemaMigrations().size()));
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(pgSchemaMigrations().size()));
  EXPECT_TRUE(tableExists("blobs"));
  EXPECT_TRUE(tableExists("blob_chunks"));
}

TEST_F(PgMigrationsTest, SecondStartAppliesNothing) {
  ASSERT_TRUE(applyPgMigrations(schema_.url(), kTwo).ok());
  auto again = applyPgMigrations(schema_.url(), kTwo);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again.value(), 2);
  EXPECT_EQ(count("SELECT count(*) FROM runs"), 2);
}

TEST_F(PgMigrationsTest, NewMigrationIsAppliedOnTopOfOldOnes) {
  ASSERT_TRUE(applyPgMigrations(schema_.url(), {kTwo[0]}).ok());
  EXPECT_FALSE(tableExists("b"));
  auto v = applyPgMigrations(schema_.url(), kTwo);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(v.value(), 2);
  EXPECT_TRUE(tableExists("b"));
  EXPECT_EQ(count("SELECT count(*) FROM runs"), 2);
}

TEST_F(PgMigrationsTest, ConcurrentStartersApplyEachMigrationOnce) {
  constexpr int kStarters = 4;
  std::vector<std::string> errors(kStarters);
  {
    std::vector<std::jthread> starters;
    for (int i = 0; i < kStarters; ++i) {
      starters.emplace_back([&, i] {
        auto v = applyPgMigrations(schema_.url(), kTwo);
        if (!v.ok()) errors[i] = v.error();
      });
    }
  }
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(count("SELECT count(*) FROM runs"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM schema_migrations"), 2);
}

TEST_F(PgMigrationsTest, FailingMigrationIsRolledBackAndNamed) {
  const std::vector<PgMigration> broken = {
      kTwo[0], {2, "second", "CREATE TABLE b (x int); INSERT INTO no_such_table VALUES (1)"}};
  auto v = applyPgMigrations(schema_.url(), broken);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().find("migration 2 (second)"), std::string::npos) << v.error();
  EXPECT_FALSE(tableExists("b")) << "the failed migration was not rolled back";
  EXPECT_EQ(count("SELECT max(version) FROM schema_migrations"), 1);
  auto fixed = applyPgMigrations(schema_.url(), kTwo);
  ASSERT_TRUE(fixed.ok()) << fixed.error();
  EXPECT_EQ(fixed.value(), 2);
}

TEST_F(PgMigrationsTest, DatabaseNewerThanTheBuildIsRefused) {
  ASSERT_TRUE(applyPgMigrations(schema_.url(), kTwo).ok());
  auto v = applyPgMigrations(schema_.url(), {kTwo[0]});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().find("newer than this build"), std::string::npos) << v.error();
}

TEST_F(PgMigrationsTest, DifferentHistoryIsRefused) {
  ASSERT_TRUE(applyPgMigrations(schema_.url(), {kTwo[0]}).ok());
  auto v = applyPgMigrations(schema_.url(), {{1, "other", "CREATE TABLE c (x int)"}});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().find("different schema history"), std::string::npos) << v.error();
  EXPECT_FALSE(tableExists("c"));
}

TEST_F(PgMigrationsTest, GapInTheListIsRefused) {
  auto v = applyPgMigrations(schema_.url(), {{2, "x", "SELECT 1"}});
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().find("out of order"), std::string::npos) << v.error();
}

}  // namespace
}  // namespace booth
