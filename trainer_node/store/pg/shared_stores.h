#pragma once
// The stores of a trainer process that shares its work with others
// (`--database postgresql://…`): one PgDatabase (a connection pool, the
// schema brought up to date) with the job queue and the blob store on it,
// so a worker's blob commit can check its claim's fence in the same
// database (PgJobQueue::fenceCheck). Without --database the trainer keeps
// the embedded stores (SQLite and the data folder).
#include <memory>
#include <string>

#include "common/core/result.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"

namespace booth {

struct SharedStores {
  std::shared_ptr<PgDatabase> database;
  std::unique_ptr<PgJobQueue> queue;
  std::unique_ptr<PgBlobStore> blobs;
};

// Connects, applies the migrations and starts the queue's listener; an
// unreachable server or a refused schema is an error naming the URL
// (password redacted).
Result<SharedStores> openSharedStores(const std::string& url, const PgJobQueueOptions& queue);

}  // namespace booth
