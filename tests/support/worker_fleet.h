#pragma once
// Test and bench support: trainer workers as real processes (`trainer_node
// --roles worker --database URL`) sharing one PostgreSQL queue and blob
// store, each with a data folder of its own (nothing shared but the
// database); the jobs are queued here the way a gateway queues them (a
// synthetic session stored as segment blobs, then add + enqueue). Tiny model, one libtorch thread per
// worker, short clips: a job of a few seconds' budget runs on a CPU.
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.h"
#include "support/child_process.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"
#include "trainer_node/store/blob_session_sink.h"

namespace booth::testing {

// The options that make a trainer_node's jobs tiny (a 64-pixel model of one
// block, one libtorch thread, a 1 s clip at 10 fps, no fsync): a job of a
// few seconds' budget then runs on a CPU. Workers of every test use them.
std::vector<std::string> tinyJobOptions();

// Polls `done` every 100 ms until it holds or `timeout` passes.
bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);

class WorkerFleet {
 public:
  // `dir`: the fleet's folder (the workers' data folders, DIR/data-NAME,
  // and their logs go in it); `database_url`: the shared database.
  WorkerFleet(std::string trainer_bin, std::filesystem::path dir, std::string database_url);
  ~WorkerFleet();
  WorkerFleet(const WorkerFleet&) = delete;
  WorkerFleet& operator=(const WorkerFleet&) = delete;

  // Connects to the database (applying the schema).
  Status open();
  // A 40-frame session of the synthetic performer in the blob store and
  // its job with this budget, queued.
  Status queueJob(const std::string& id, double budget_seconds);
  // A worker named `name`, with `extra` options after the fleet's (e.g.
  // {"--lease", "3", "--checkpoint-every", "1"}); its log is DIR/NAME.log.
  ChildProcess& startWorker(const std::string& name, const std::vector<std::string>& extra);

  PgJobQueue& queue() { return *queue_; }
  PgBlobStore& blobs() { return *blobs_; }
  std::optional<JobRecord> job(const std::string& id) { return queue_->get(id); }
  // The clip blobs ("clips/…"), in key order.
  Result<std::vector<BlobInfo>> clips();
  // Every worker's output so far, one after the other (for failure messages).
  std::string logs() const;
  // Stops every worker (SIGKILL if still running).
  void stopWorkers();

 private:
  std::string trainer_bin_;
  std::filesystem::path dir_;
  std::string url_;
  std::shared_ptr<PgDatabase> db_;
  std::unique_ptr<PgJobQueue> queue_;
  std::unique_ptr<PgBlobStore> blobs_;
  std::unique_ptr<BlobSessionSink> sessions_;  // over blobs_
  std::vector<std::unique_ptr<ChildProcess>> workers_;
};

}  // namespace booth::testing
