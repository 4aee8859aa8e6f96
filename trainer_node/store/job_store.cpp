#include "trainer_node/store/job_store.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>

#include <sqlite3.h>

namespace booth {
namespace {

constexpr std::array<const char*, 6> kStateNames = {"receiving", "queued", "training",
                                                    "rendering", "done",   "failed"};

// Columns in one place: name, how to bind, how to read. Adding a field to
// JobRecord means one line here.
struct Column {
  const char* name;
  const char* type;
  std::function<void(sqlite3_stmt*, int, const JobRecord&)> bind;
  std::function<void(sqlite3_stmt*, int, JobRecord&)> read;
};

void bindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
std::string readText(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
}

#define TEXT_COL(f)                                                                              \
  Column {                                                                                       \
#f, "TEXT",                                                                                  \
        [](sqlite3_stmt * s, int i,                                                              \
           const JobRecord& j) { bindText(s, i, j.f); },                                         \
                                                      [](sqlite3_stmt * s, int i,                \
                                                         JobRecord& j) { j.f = readText(s, i); } \
  }
#define REAL_COL(f)                                                                               \
  Column {                                                                                        \
#f, "REAL", [](sqlite3_stmt* s, int i, const JobRecord& j) { sqlite3_bind_double(s, i, j.f); }, \
         [](sqlite3_stmt* s, int i, JobRecord& j) { j.f = static_cast<decltype(j.f)>(sqlite3_column_double(s, i)); } \
  }
#define INT_COL(f)                                                                                  \
  Column {                                                                                          \
#f, "INTEGER", [](sqlite3_stmt* s, int i, const JobRecord& j) { sqlite3_bind_int64(s, i, j.f); }, \
         [](sqlite3_stmt* s, int i, JobRecord& j) { j.f = static_cast<decltype(j.f)>(sqlite3_column_int64(s, i)); } \
  }

const std::vector<Column>& columns() {
  static const std::vector<Column> cols = {
      TEXT_COL(id),
      TEXT_COL(session_id),
      Column{
          "state", "TEXT",
          [](sqlite3_stmt* s, int i, const JobRecord& j) { bindText(s, i, jobStateName(j.state)); },
          [](sqlite3_stmt* s, int i, JobRecord& j) {
            j.state = jobStateFromName(readText(s, i)).value_or(JobState::kFailed);
          }},
      TEXT_COL(detail),
      REAL_COL(capture_seconds_requested),
      REAL_COL(train_budget_seconds),
      TEXT_COL(choreography),
      TEXT_COL(nodes_json),
      REAL_COL(progress),
      INT_COL(iterations),
      REAL_COL(loss_g),
      REAL_COL(loss_d),
      REAL_COL(loss_l1),
      REAL_COL(eta_seconds),
      REAL_COL(iterations_per_second),
      TEXT_COL(cameras_json),
      INT_COL(frames_received),
      REAL_COL(capture_seconds),
      REAL_COL(pose_seconds),
      REAL_COL(transfer_seconds),
      REAL_COL(train_seconds),
      REAL_COL(render_seconds),
      TEXT_COL(clip_token),
      TEXT_COL(clip_path),
      INT_COL(clip_frames),
      INT_COL(clip_width),
      INT_COL(clip_height),
      INT_COL(clip_bytes),
      INT_COL(created_ms),
      INT_COL(updated_ms),
      INT_COL(purged_ms),
      REAL_COL(budget_spent_seconds),
      REAL_COL(train_budget_planned),
      TEXT_COL(resume_phase),
      TEXT_COL(checkpoint_path),
      TEXT_COL(model_path),
      INT_COL(generator_steps),
      INT_COL(face_steps),
      REAL_COL(generator_steps_per_second),
      REAL_COL(face_steps_per_second),
  };
  return cols;
}

std::string columnList() {
  std::string s;
  for (const auto& c : columns()) s += (s.empty() ? "" : ", ") + std::string(c.name);
  return s;
}

// RAII for one prepared statement.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      error_ = std::string(sqlite3_errmsg(db)) + " in: " + sql;
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() { return stmt_; }
  const std::string& error() const { return error_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  std::string error_;
};

JobRecord readRow(sqlite3_stmt* s) {
  JobRecord j;
  const auto& cols = columns();
  for (int i = 0; i < static_cast<int>(cols.size()); ++i) cols[i].read(s, i, j);
  return j;
}

}  // namespace

const char* jobStateName(JobState state) { return kStateNames[static_cast<int>(state)]; }

std::optional<JobState> jobStateFromName(const std::string& name) {
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    if (name == kStateNames[i]) return static_cast<JobState>(i);
  }
  return std::nullopt;
}

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<JobStore>> JobStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return fail("cannot open job database '" + path + "': " + why +
                " (check --data-dir exists and is writable)");
  }
  std::unique_ptr<JobStore> store(new JobStore(db));
  std::string schema = "CREATE TABLE IF NOT EXISTS jobs (";
  for (const auto& c : columns()) {
    schema += std::string(c.name) + " " + c.type +
              (std::string(c.name) == "id" ? " PRIMARY KEY" : "") + ", ";
  }
  schema += "cancel_requested INTEGER NOT NULL DEFAULT 0";
  schema += ");";
  char* err = nullptr;
  if (sqlite3_exec(db, schema.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown";
    sqlite3_free(err);
    return fail("cannot create schema in '" + path + "': " + why);
  }
  // A database made by an older version lacks the newer columns: add them
  // (SQLite fills existing rows with the type's default).
  std::vector<std::string> existing;
  {
    Statement info(db, "PRAGMA table_info(jobs)");
    while (info.error().empty() && sqlite3_step(info.get()) == SQLITE_ROW) {
      existing.push_back(readText(info.get(), 1));
    }
  }
  auto has = [&](const std::string& name) {
    return std::find(existing.begin(), existing.end(), name) != existing.end();
  };
  std::string migrate;
  for (const auto& c : columns()) {
    if (has(c.name)) continue;
    const std::string type = c.type;
    const std::string fallback = type == "TEXT" ? "''" : "0";
    migrate += "ALTER TABLE jobs ADD COLUMN " + std::string(c.name) + " " + type +
               " NOT NULL DEFAULT " + fallback + ";";
  }
  if (!has("cancel_requested")) {
    migrate += "ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;";
  }
  migrate +=
      "CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created_ms);"
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
  if (sqlite3_exec(db, migrate.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown";
    sqlite3_free(err);
    return fail("cannot upgrade the schema of '" + path + "': " + why);
  }
  return store;
}

JobStore::JobStore(sqlite3* db) : db_(db) {}
JobStore::~JobStore() { sqlite3_close(db_); }

Status JobStore::insertRow(const JobRecord& job) {
  std::lock_guard lock(mutex_);
  std::string placeholders;
  for (size_t i = 0; i < columns().size(); ++i) placeholders += i ? ", ?" : "?";
  Statement st(db_, "INSERT INTO jobs (" + columnList() + ") VALUES (" + placeholders + ")");
  if (!st.error().empty()) return fail(st.error());
  JobRecord row = job;
  row.created_ms = row.created_ms ? row.created_ms : nowMillis();
  row.updated_ms = nowMillis();
  for (int i = 0; i < static_cast<int>(columns().size()); ++i)
    columns()[i].bind(st.get(), i + 1, row);
  if (sqlite3_step(st.get()) != SQLITE_DONE)
    return fail(std::string("insert job: ") + sqlite3_errmsg(db_));
  return okStatus();
}

Status JobStore::updateRow(const JobRecord& job) {
  std::lock_guard lock(mutex_);
  std::string sets;
  for (const auto& c : columns()) sets += (sets.empty() ? "" : ", ") + std::string(c.name) + " = ?";
  Statement st(db_, "UPDATE jobs SET " + sets + " WHERE id = ?");
  if (!st.error().empty()) return fail(st.error());
  JobRecord row = job;
  row.updated_ms = nowMillis();
  const int n = static_cast<int>(columns().size());
  for (int i = 0; i < n; ++i) columns()[i].bind(st.get(), i + 1, row);
  bindText(st.get(), n + 1, job.id);
  if (sqlite3_step(st.get()) != SQLITE_DONE)
    return fail(std::string("update job: ") + sqlite3_errmsg(db_));
  if (sqlite3_changes(db_) != 1) return fail("update job: no job with id '" + job.id + "'");
  return okStatus();
}

std::vector<JobRecord> JobStore::query(const std::string& sql_tail, const std::string& arg,
                                       int limit) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "SELECT " + columnList() + " FROM jobs " + sql_tail + " LIMIT ?");
  std::vector<JobRecord> out;
  if (!st.error().empty()) return out;
  int idx = 1;
  if (sql_tail.find('?') != std::string::npos) bindText(st.get(), idx++, arg);
  sqlite3_bind_int(st.get(), idx, limit);
  while (sqlite3_step(st.get()) == SQLITE_ROW) out.push_back(readRow(st.get()));
  return out;
}

std::optional<JobRecord> JobStore::queryOne(const std::string& where, const std::string& arg) {
  auto rows = query(where, arg, 1);
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::optional<JobRecord> JobStore::get(const std::string& id) {
  return queryOne("WHERE id = ?", id);
}
std::optional<JobRecord> JobStore::bySession(const std::string& session_id) {
  return queryOne("WHERE session_id = ?", session_id);
}
std::optional<JobRecord> JobStore::byClipToken(const std::string& token) {
  if (token.empty()) return std::nullopt;
  return queryOne("WHERE clip_token = ?", token);
}
std::vector<JobRecord> JobStore::list(int limit) {
  return query("ORDER BY created_ms DESC", "", limit);
}
std::vector<JobRecord> JobStore::withState(JobState state) {
  return query("WHERE state = ? ORDER BY created_ms ASC", jobStateName(state), 1 << 20);
}
std::optional<JobRecord> JobStore::nextQueued() {
  return queryOne("WHERE state = 'queued' ORDER BY created_ms ASC", "");
}

Status JobStore::setCancelRequested(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "UPDATE jobs SET cancel_requested = 1, updated_ms = ? WHERE id = ?");
  if (!st.error().empty()) return fail(st.error());
  sqlite3_bind_int64(st.get(), 1, nowMillis());
  bindText(st.get(), 2, id);
  if (sqlite3_step(st.get()) != SQLITE_DONE)
    return fail(std::string("cancel job: ") + sqlite3_errmsg(db_));
  if (sqlite3_changes(db_) != 1) return fail("cancel job: no job with id '" + id + "'");
  return okStatus();
}

bool JobStore::cancelRequested(const std::string& id) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "SELECT cancel_requested FROM jobs WHERE id = ?");
  if (!st.error().empty()) return false;
  bindText(st.get(), 1, id);
  return sqlite3_step(st.get()) == SQLITE_ROW && sqlite3_column_int(st.get(), 0) != 0;
}

int JobStore::failInterrupted() {
  std::lock_guard lock(mutex_);
  Statement st(db_,
               "UPDATE jobs SET state = 'failed', detail = 'interrupted: the trainer stopped while "
               "the job was ' || state, updated_ms = ? WHERE state IN ('training', 'rendering')");
  if (!st.error().empty()) return 0;
  sqlite3_bind_int64(st.get(), 1, nowMillis());
  if (sqlite3_step(st.get()) != SQLITE_DONE) return 0;
  return sqlite3_changes(db_);
}

// --- for the HTTP API, live events and retention ---

Status JobStore::insert(const JobRecord& job) {
  Status done = insertRow(job);
  if (done.ok()) notify(job.id);
  return done;
}

Status JobStore::update(const JobRecord& job) {
  Status done = updateRow(job);
  if (done.ok()) notify(job.id);
  return done;
}

Status JobStore::requestCancel(const std::string& id) {
  Status done = setCancelRequested(id);
  if (done.ok()) notify(id);
  return done;
}

std::uint64_t JobStore::addObserver(Observer observer) {
  std::lock_guard lock(observers_mutex_);
  observers_[next_observer_] = std::move(observer);
  return next_observer_++;
}

void JobStore::removeObserver(std::uint64_t id) {
  std::lock_guard lock(observers_mutex_);
  observers_.erase(id);
}

void JobStore::notify(const std::string& id) {
  std::lock_guard lock(observers_mutex_);
  for (const auto& [key, observer] : observers_) observer(id);
}

Result<bool> JobStore::failIfQueued(const std::string& id, const std::string& reason) {
  bool changed = false;
  {
    std::lock_guard lock(mutex_);
    Statement st(db_,
                 "UPDATE jobs SET state = 'failed', detail = ?, eta_seconds = 0, updated_ms = ? "
                 "WHERE id = ? AND state = 'queued'");
    if (!st.error().empty()) return fail(st.error());
    bindText(st.get(), 1, reason);
    sqlite3_bind_int64(st.get(), 2, nowMillis());
    bindText(st.get(), 3, id);
    if (sqlite3_step(st.get()) != SQLITE_DONE)
      return fail(std::string("fail queued job: ") + sqlite3_errmsg(db_));
    changed = sqlite3_changes(db_) == 1;
  }
  if (changed) notify(id);
  return changed;
}

Status JobStore::markPurged(const std::string& id, std::int64_t now_ms) {
  {
    std::lock_guard lock(mutex_);
    Statement st(db_, "UPDATE jobs SET purged_ms = ? WHERE id = ?");
    if (!st.error().empty()) return fail(st.error());
    sqlite3_bind_int64(st.get(), 1, now_ms);
    bindText(st.get(), 2, id);
    if (sqlite3_step(st.get()) != SQLITE_DONE)
      return fail(std::string("mark job purged: ") + sqlite3_errmsg(db_));
    if (sqlite3_changes(db_) != 1) return fail("mark job purged: no job with id '" + id + "'");
  }
  notify(id);
  return okStatus();
}

std::vector<JobRecord> JobStore::finishedBefore(JobState state, std::int64_t before_ms, int limit) {
  std::lock_guard lock(mutex_);
  Statement st(db_, "SELECT " + columnList() +
                        " FROM jobs WHERE state = ? AND purged_ms = 0 AND updated_ms < ? "
                        "ORDER BY updated_ms ASC LIMIT ?");
  std::vector<JobRecord> out;
  if (!st.error().empty()) return out;
  bindText(st.get(), 1, jobStateName(state));
  sqlite3_bind_int64(st.get(), 2, before_ms);
  sqlite3_bind_int(st.get(), 3, limit);
  while (sqlite3_step(st.get()) == SQLITE_ROW) out.push_back(readRow(st.get()));
  return out;
}

std::map<JobState, int> JobStore::countByState() {
  std::lock_guard lock(mutex_);
  Statement st(db_, "SELECT state, COUNT(*) FROM jobs GROUP BY state");
  std::map<JobState, int> out;
  if (!st.error().empty()) return out;
  while (sqlite3_step(st.get()) == SQLITE_ROW) {
    if (auto state = jobStateFromName(readText(st.get(), 0))) {
      out[*state] += sqlite3_column_int(st.get(), 1);
    }
  }
  return out;
}

}  // namespace booth
