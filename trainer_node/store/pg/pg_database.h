#pragma once
// PgDatabase: the shared PostgreSQL database of several trainer processes
// (`--database postgresql://…`): a bounded pool of connections, opened on
// demand and reopened after the server went away, and the schema, brought
// up to date at open() (pg_migrations.h). The stores that keep their data
// there (PgBlobStore, PgJobQueue) share one PgDatabase.
//
// The URL is libpq's (https://www.postgresql.org/docs/15/libpq-connect.html):
//   postgresql://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=…&options=…
// Error messages never repeat it (it may hold a password).
//
// Failure modes: while the server is unreachable every operation returns an
// Error ("PostgreSQL unavailable while …": store_errors.h's
// isStoreUnreachable()) after at most connect_timeout (plus acquire_timeout
// when every connection is busy); nothing throws and no
// thread stops. Each failed call tries a fresh connection, so service
// resumes on the first call after the server is back.
//
// Threads: any thread; a connection serves one caller at a time.
#include <chrono>
#include <memory>
#include <string>

#include "common/core/result.h"

namespace booth {

struct PgOptions {
  std::string url;
  // Connections at most (each caller holds one for one transaction).
  int max_connections = 8;
  // How long a caller waits for a free connection before failing.
  std::chrono::milliseconds acquire_timeout{10000};
  // How long one connection attempt may take (libpq connect_timeout).
  std::chrono::seconds connect_timeout{5};
};

class PgPool;

class PgDatabase {
 public:
  // Connects (so a wrong URL or an unreachable server is reported at
  // start-up) and applies the schema migrations.
  static Result<std::shared_ptr<PgDatabase>> open(const PgOptions& options);
  ~PgDatabase();
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;

  // For the PostgreSQL stores (pg_pool.h, the only place with libpqxx).
  PgPool& pool() { return *pool_; }
  const PgOptions& options() const { return options_; }

 private:
  PgDatabase(PgOptions options, std::unique_ptr<PgPool> pool);
  PgOptions options_;
  std::unique_ptr<PgPool> pool_;
};

// The URL with any password replaced by "***", for logs.
std::string redactDatabaseUrl(const std::string& url);
// Whether `url` is a PostgreSQL URL (postgresql:// or postgres://).
bool isPostgresUrl(const std::string& url);

}  // namespace booth
