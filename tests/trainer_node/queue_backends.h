#pragma once
// Test support: the two JobQueue implementations as typed-test backends,
// for the tests that every implementation must pass (the conformance suite,
// retention):
//   - embedded: EmbeddedJobQueue over a SQLite JobStore in a temporary folder;
//   - postgres: PgJobQueue in the `postgres` fixture's server, a schema of
//     its own per test (the test binary exits 77 where PostgreSQL cannot run).
// Each backend makes its queue on the test's clock, and the blob store a
// worker of that queue publishes to (a folder; the same database).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/core/clock.h"
#include "support/test_database.h"
#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/store/embedded_job_queue.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/local_blob_store.h"
#include "trainer_node/store/pg/pg_blob_store.h"
#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_job_queue.h"

namespace booth::testing {

inline std::int64_t wallMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall().time_since_epoch())
      .count();
}

// A clock whose wall time a test sets (back as well as forth); steady time
// follows it.
class SettableClock final : public Clock {
 public:
  TimePoint steady() const override { return TimePoint(std::chrono::milliseconds(ms_.load())); }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_.load()));
  }
  void setWallMs(std::int64_t ms) { ms_ = ms; }

 private:
  std::atomic<std::int64_t> ms_{0};
};

// A temporary folder named after the running test, removed at the end.
class TestFolder {
 public:
  explicit TestFolder(const std::string& what) {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = what + "_" + std::to_string(getpid()) + "_" + test->test_suite_name() +
                       "_" + test->name();
    for (char& c : name) {
      if (c == '/') c = '_';  // typed suites are named "Suite/backend"
    }
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TestFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TestFolder(const TestFolder&) = delete;
  TestFolder& operator=(const TestFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct EmbeddedQueueBackend {
  static constexpr const char* kName = "embedded";
  static constexpr bool kObserversCalledBeforeReturn = true;
  std::unique_ptr<TestFolder> dir;
  std::unique_ptr<JobStore> store;
  // Opens (again) the store in this backend's folder; the queue must be gone first.
  std::unique_ptr<JobQueue> make(const Clock& clock, JobStateMachineConfig machine) {
    if (!dir) dir = std::make_unique<TestFolder>("job_queue_test");
    store.reset();
    auto opened = JobStore::open((dir->path() / "jobs.sqlite").string(), machine, clock);
    if (!opened.ok()) throw std::runtime_error(opened.error());
    store = std::move(opened.value());
    return std::make_unique<EmbeddedJobQueue>(*store, [&clock] { return wallMs(clock); });
  }
  // The blob store a worker of this queue publishes to (after make()).
  std::unique_ptr<BlobStore> blobs() {
    return std::make_unique<LocalBlobStore>(dir->path() / "blobs", false);
  }
  // The trainer's blob store with a data folder: the folder itself.
  std::unique_ptr<BlobStore> dataBlobs(const std::filesystem::path& data_dir) {
    return std::make_unique<LocalBlobStore>(data_dir, false);
  }
  ~EmbeddedQueueBackend() { store.reset(); }
};

struct PgQueueBackend {
  static constexpr const char* kName = "postgres";
  static constexpr bool kObserversCalledBeforeReturn = false;
  std::unique_ptr<TestSchema> schema;
  std::shared_ptr<PgDatabase> database;
  std::unique_ptr<JobQueue> make(const Clock& clock, JobStateMachineConfig machine) {
    if (!schema) schema = std::make_unique<TestSchema>();
    PgOptions options;
    options.url = schema->url();
    auto db = PgDatabase::open(options);
    if (!db.ok()) throw std::runtime_error(db.error());
    database = db.value();
    PgJobQueueOptions queue;
    queue.clock = &clock;
    queue.machine = machine;
    queue.reconnect_delay = std::chrono::milliseconds(50);
    return std::make_unique<PgJobQueue>(db.value(), queue);
  }
  std::unique_ptr<BlobStore> blobs() { return std::make_unique<PgBlobStore>(database); }
  // The shared blob store: the database, wherever the data folder is.
  std::unique_ptr<BlobStore> dataBlobs(const std::filesystem::path&) { return blobs(); }
};

using QueueBackends = ::testing::Types<EmbeddedQueueBackend, PgQueueBackend>;
class QueueBackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};

}  // namespace booth::testing
