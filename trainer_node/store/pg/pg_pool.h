#pragma once
// PgPool: the connections of one PgDatabase, and the one place that turns
// libpqxx's exceptions into Errors. Private to the PostgreSQL stores (the
// only sources that include libpqxx); nothing else includes this header.
//
// transact() runs a function in a transaction on a pooled connection and
// commits unless it returned an error. A connection that broke is closed,
// not returned to the pool, so the next call connects afresh.
//
// Threads: any thread; acquire() blocks up to the acquire timeout when all
// max_connections are in use.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "trainer_node/store/store_errors.h"

namespace booth {

class PgPool {
 public:
  PgPool(std::string conninfo, int max_connections, std::chrono::milliseconds acquire_timeout);
  ~PgPool();

  class Lease {
   public:
    Lease(PgPool* pool, std::unique_ptr<pqxx::connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& operator*() { return *conn_; }
    pqxx::connection* operator->() { return conn_.get(); }
    // Closes the connection instead of returning it (it broke).
    void discard();

   private:
    PgPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  Result<Lease> acquire();
  // A connection of its own, outside the pool (LISTEN, session locks).
  Result<std::unique_ptr<pqxx::connection>> connect() const;

  // fn(pqxx::work&) -> Result<T>; committed when it returns a value.
  template <class T, class F>
  Result<T> transact(std::string_view what, F&& fn) {
    // An idle connection the server closed meanwhile (a restart, an idle
    // timeout) fails at BEGIN, before anything ran: that one attempt is
    // retried on a fresh connection.
    for (int attempt = 0;; ++attempt) {
      auto lease = acquire();
      if (!lease.ok()) {
        return fail(std::string(kStoreUnreachable) + std::string(what) + ": " + lease.error());
      }
      std::unique_ptr<pqxx::work> tx;
      try {
        tx = std::make_unique<pqxx::work>(*lease.value());
      } catch (const std::exception& e) {
        Error error = failed(lease.value(), what, e);
        if (attempt == 0 && isBroken(e)) continue;
        return error;
      }
      try {
        Result<T> result = fn(*tx);
        if (result.ok()) tx->commit();
        return result;
      } catch (const std::exception& e) {
        tx.reset();  // before failed() may close the connection under it
        return failed(lease.value(), what, e);
      }
    }
  }

  // The Error for an exception from libpqxx; discards a broken connection.
  static Error failed(Lease& lease, std::string_view what, const std::exception& e);
  static bool isBroken(const std::exception& e);

 private:
  void release(std::unique_ptr<pqxx::connection> conn);

  const std::string conninfo_;
  const int max_connections_;
  const std::chrono::milliseconds acquire_timeout_;
  std::mutex mutex_;  // guards idle_ and open_
  std::condition_variable changed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;  // connections in idle_ or leased, or being opened
};

// Runs fn() and turns a libpqxx exception into an Error (for dedicated
// connections outside transact()).
template <class T, class F>
Result<T> pgCall(std::string_view what, F&& fn) {
  try {
    return fn();
  } catch (const pqxx::broken_connection& e) {
    return fail(std::string(kStoreUnreachable) + std::string(what) + ": " + e.what());
  } catch (const std::exception& e) {
    return fail("PostgreSQL error while " + std::string(what) + ": " + e.what());
  }
}

}  // namespace booth
