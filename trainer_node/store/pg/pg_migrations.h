#pragma once
// The PostgreSQL schema as numbered migrations, applied at start-up.
//
// applyPgMigrations() brings a database (the first schema on the
// connection's search_path) up to the last migration of the list:
//  - a session advisory lock (per schema) first, so trainers starting at
//    the same moment apply each migration once: the others wait, then find
//    nothing left to do;
//  - the table schema_migrations(version, name, applied_at) records what
//    was applied;
//  - each missing migration runs in its own transaction together with its
//    schema_migrations row: it is applied whole or not at all;
//  - a database at a version newer than the list (a newer build wrote it)
//    is refused, and so is one whose recorded names differ from the list's
//    (a different schema history).
// Returns the version the database is at afterwards.
#include <string>
#include <vector>

#include "common/core/result.h"

namespace booth {

struct PgMigration {
  int version = 0;  // 1, 2, 3, … without gaps
  std::string name;
  std::string sql;  // one or more statements
};

// This build's schema (pg_migrations.cpp; documented in store/README.md).
const std::vector<PgMigration>& pgSchemaMigrations();

Result<int> applyPgMigrations(const std::string& conninfo,
                              const std::vector<PgMigration>& migrations);

}  // namespace booth
