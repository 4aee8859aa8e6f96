#include "trainer_node/store/pg/pg_database.h"

#include <regex>

#include "trainer_node/store/pg/pg_migrations.h"
#include "trainer_node/store/pg/pg_pool.h"

namespace booth {
namespace {

// Adds libpq's connect_timeout unless the URL sets one.
std::string withConnectTimeout(const std::string& url, std::chrono::seconds timeout) {
  if (url.find("connect_timeout") != std::string::npos) return url;
  const std::string value = std::to_string(std::max<long long>(1, timeout.count()));
  if (isPostgresUrl(url)) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=" + value;
  }
  return url + " connect_timeout=" + value;  // key=value form
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

PgPool::PgPool(std::string conninfo, int max_connections, std::chrono::milliseconds acquire_timeout)
    : conninfo_(std::move(conninfo)),
      max_connections_(std::max(1, max_connections)),
      acquire_timeout_(acquire_timeout) {}

PgPool::~PgPool() = default;

PgPool::Lease::~Lease() {
  if (conn_ && pool_) pool_->release(std::move(conn_));
}

void PgPool::Lease::discard() {
  if (!conn_) return;
  conn_.reset();
  if (pool_) pool_->release(nullptr);
}

void PgPool::release(std::unique_ptr<pqxx::connection> conn) {
  {
    std::lock_guard lock(mutex_);
    if (conn && conn->is_open()) {
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  changed_.notify_one();
}

Result<std::unique_ptr<pqxx::connection>> PgPool::connect() const {
  try {
    return std::make_unique<pqxx::connection>(conninfo_);
  } catch (const std::exception& e) {
    return fail(trimmed(e.what()));
  }
}

Result<PgPool::Lease> PgPool::acquire() {
  std::unique_lock lock(mutex_);
  if (!changed_.wait_for(lock, acquire_timeout_,
                         [&] { return !idle_.empty() || open_ < max_connections_; })) {
    return fail("all " + std::to_string(max_connections_) + " connections busy for " +
                std::to_string(acquire_timeout_.count()) + " ms");
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(conn));
  }
  ++open_;
  lock.unlock();
  auto conn = connect();
  if (!conn.ok()) {
    release(nullptr);
    return fail(conn.error());
  }
  return Lease(this, std::move(conn.value()));
}

bool PgPool::isBroken(const std::exception& e) {
  return dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
         dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
}

Error PgPool::failed(Lease& lease, std::string_view what, const std::exception& e) {
  const bool broken = isBroken(e) || !lease->is_open();
  if (broken) {
    lease.discard();
    return fail(std::string(kStoreUnreachable) + std::string(what) + ": " + trimmed(e.what()));
  }
  return fail("PostgreSQL error while " + std::string(what) + ": " + trimmed(e.what()));
}

PgDatabase::PgDatabase(PgOptions options, std::unique_ptr<PgPool> pool)
    : options_(std::move(options)), pool_(std::move(pool)) {}

PgDatabase::~PgDatabase() = default;

Result<std::shared_ptr<PgDatabase>> PgDatabase::open(const PgOptions& options) {
  const std::string conninfo = withConnectTimeout(options.url, options.connect_timeout);
  auto applied = applyPgMigrations(conninfo, pgSchemaMigrations());
  if (!applied.ok()) {
    return fail("database " + redactDatabaseUrl(options.url) + ": " + applied.error());
  }
  auto pool = std::make_unique<PgPool>(conninfo, options.max_connections, options.acquire_timeout);
  return std::shared_ptr<PgDatabase>(new PgDatabase(options, std::move(pool)));
}

bool isPostgresUrl(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

std::string redactDatabaseUrl(const std::string& url) {
  // scheme://user:PASSWORD@host → scheme://user:***@host; password=… → password=***
  static const std::regex uri_password(R"(^([a-z]+://[^:/@?]*):[^@/?]*@)");
  static const std::regex kv_password(R"(password\s*=\s*('[^']*'|\S+))");
  std::string out = std::regex_replace(url, uri_password, "$1:***@");
  return std::regex_replace(out, kv_password, "password=***");
}

}  // namespace booth
