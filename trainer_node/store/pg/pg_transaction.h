#pragma once
// The StoreTransaction the PostgreSQL stores hand to a BeforeCommit hook:
// the open transaction that will publish the write. A hook that checks a
// fencing token (or writes rows that must commit with the blob) runs its
// statements on it. Private to the PostgreSQL stores (includes libpqxx).
#include <pqxx/pqxx>

#include "trainer_node/store/blob_store.h"

namespace booth {

class PgTransaction final : public StoreTransaction {
 public:
  explicit PgTransaction(pqxx::work& work) : work_(work) {}
  pqxx::work& work() { return work_; }

 private:
  pqxx::work& work_;
};

// The PostgreSQL transaction behind `t`, or nullptr when the store that
// called the hook is not PostgreSQL.
inline pqxx::work* pgWork(StoreTransaction& t) {
  auto* pg = dynamic_cast<PgTransaction*>(&t);
  return pg ? &pg->work() : nullptr;
}

}  // namespace booth
