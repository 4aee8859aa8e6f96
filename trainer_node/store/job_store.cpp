#include "trainer_node/store/job_store.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>

#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace booth {
namespace {

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

// The state, the attempts, the fence, purged_ms and the consent columns
// are written by transitions and their own calls only; update() writes the
// other columns.
bool stateColumn(const std::string& name) {
  return name == "state" || name == "attempts" || name == "fence" || name == "purged_ms" ||
         name == "may_improve_booth" || name == "consent_withdrawn_ms" ||
         name == "frames_purged_ms";
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
      Column{"nodes_json", "TEXT",
             [](sqlite3_stmt* s, int i, const JobRecord& j) { bindText(s, i, nodesToJson(j.nodes)); },
             [](sqlite3_stmt* s, int i, JobRecord& j) { j.nodes = nodesFromJson(readText(s, i)); }},
      REAL_COL(progress),
      REAL_COL(loss_g),
      REAL_COL(loss_d),
      REAL_COL(loss_l1),
      REAL_COL(eta_seconds),
      Column{"cameras_json", "TEXT",
             [](sqlite3_stmt* s, int i,
                const JobRecord& j) { bindText(s, i, camerasToJson(j.cameras)); },
             [](sqlite3_stmt* s, int i, JobRecord& j) { j.cameras = camerasFromJson(readText(s, i)); }},
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
      INT_COL(attempts),
      INT_COL(fence),
      INT_COL(may_improve_booth),
      INT_COL(consent_withdrawn_ms),
      INT_COL(frames_purged_ms),
      TEXT_COL(gateway_id),
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

std::string fencedError(const JobRecord& job, std::uint64_t stored_fence) {
  return "job '" + job.id + "' was claimed again since this copy was read (fence " +
         std::to_string(job.fence) + ", now " + std::to_string(stored_fence) +
         "): this writer lost it";
}

// A write the disk could not take: worth keeping and retrying.
bool diskFull(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_FULL || primary == SQLITE_IOERR;
}

}  // namespace

std::int64_t nowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<JobStore>> JobStore::open(const std::string& path,
                                                 JobStateMachineConfig machine,
                                                 const Clock& clock) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return fail("cannot open job database '" + path + "': " + why +
                " (check --data-dir exists and is writable)");
  }
  std::unique_ptr<JobStore> store(new JobStore(db, machine, clock));
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
  const bool had_frames_purged = has("frames_purged_ms");
  for (const auto& c : columns()) {
    if (has(c.name)) continue;
    const std::string type = c.type;
    const std::string fallback = type == "TEXT" ? "''" : "0";
    migrate += "ALTER TABLE jobs ADD COLUMN " + std::string(c.name) + " " + type +
               " NOT NULL DEFAULT " + fallback + ";";
  }
  // Jobs purged before consent existed lost their frames with their clip.
  if (!had_frames_purged) migrate += "UPDATE jobs SET frames_purged_ms = purged_ms;";
  if (!has("cancel_requested")) {
    migrate += "ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;";
  }
  // Older versions marked a cancelled job failed and a purged one kept its
  // state: name them as they are now.
  migrate +=
      "UPDATE jobs SET state = 'cancelled' WHERE state = 'failed' AND "
      "detail = 'cancelled by the operator';"
      "UPDATE jobs SET state = 'expired' WHERE purged_ms != 0 AND state != 'expired';"
      "CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created_ms);"
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
  if (sqlite3_exec(db, migrate.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "unknown";
    sqlite3_free(err);
    return fail("cannot upgrade the schema of '" + path + "': " + why);
  }
  return store;
}

JobStore::JobStore(sqlite3* db, JobStateMachineConfig machine, const Clock& clock)
    : machine_(machine, clock), clock_(clock), db_(db) {}
JobStore::~JobStore() { sqlite3_close(db_); }

std::int64_t JobStore::nowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock_.wall().time_since_epoch())
      .count();
}

Status JobStore::insert(const JobRecord& job) {
  if (job.state != JobState::kReceiving) {
    return fail("insert job '" + job.id + "': a new job starts receiving, not " +
                jobStateName(job.state));
  }
  {
    std::lock_guard lock(mutex_);
    retryPendingLocked();
    if (simulate_full_) return fail("insert job '" + job.id + "': database or disk is full");
    std::string placeholders;
    for (size_t i = 0; i < columns().size(); ++i) placeholders += i ? ", ?" : "?";
    Statement st(db_, "INSERT INTO jobs (" + columnList() + ") VALUES (" + placeholders + ")");
    if (!st.error().empty()) return fail(st.error());
    JobRecord row = job;
    row.attempts = 0;
    row.fence = 0;
    row.purged_ms = 0;
    row.consent_withdrawn_ms = 0;
    row.frames_purged_ms = 0;
    row.created_ms = row.created_ms ? row.created_ms : nowMs();
    row.updated_ms = nowMs();
    for (int i = 0; i < static_cast<int>(columns().size()); ++i)
      columns()[i].bind(st.get(), i + 1, row);
    if (sqlite3_step(st.get()) != SQLITE_DONE)
      return fail("insert job '" + job.id + "': " + sqlite3_errmsg(db_));
  }
  notify(job.id);
  return okStatus();
}

// Writes every column of `job` except `skip`-ed ones; `where_state` (when
// not empty) must be the stored state.
Status JobStore::writeRowLocked(const JobRecord& job, const std::string& where_state) {
  if (simulate_full_) return fail("database or disk is full");
  std::string sets;
  std::vector<const Column*> written;
  const bool whole = where_state.empty();
  for (const auto& c : columns()) {
    if (!whole && stateColumn(c.name)) continue;
    sets += (sets.empty() ? "" : ", ") + std::string(c.name) + " = ?";
    written.push_back(&c);
  }
  Statement st(db_, "UPDATE jobs SET " + sets + " WHERE id = ?" +
                        (whole ? std::string() : " AND state = ? AND fence = ?"));
  if (!st.error().empty()) return fail(st.error());
  const int n = static_cast<int>(written.size());
  for (int i = 0; i < n; ++i) written[i]->bind(st.get(), i + 1, job);
  bindText(st.get(), n + 1, job.id);
  if (!whole) {
    bindText(st.get(), n + 2, where_state);
    sqlite3_bind_int64(st.get(), n + 3, static_cast<sqlite3_int64>(job.fence));
  }
  if (sqlite3_step(st.get()) != SQLITE_DONE) return fail(sqlite3_errmsg(db_));
  if (sqlite3_changes(db_) != 1) return fail("no such job in that state");
  return okStatus();
}

Status JobStore::update(const JobRecord& job) {
  {
    std::lock_guard lock(mutex_);
    retryPendingLocked();
    JobRecord row = job;
    row.updated_ms = nowMs();
    if (auto st = writeRowLocked(row, jobStateName(job.state)); !st.ok()) {
      Statement now(db_, "SELECT state, fence FROM jobs WHERE id = ?");
      bindText(now.get(), 1, job.id);
      if (now.error().empty() && sqlite3_step(now.get()) == SQLITE_ROW) {
        const std::string stored = readText(now.get(), 0);
        const auto fence = static_cast<std::uint64_t>(sqlite3_column_int64(now.get(), 1));
        if (stored != jobStateName(job.state)) {
          return fail("update job '" + job.id + "': it is " + stored + " now, not " +
                      jobStateName(job.state));
        }
        if (fence != job.fence) return fail(fencedError(job, fence));
        return fail("update job '" + job.id + "': " + st.error());
      }
      return fail("update job: no job with id '" + job.id + "'");
    }
  }
  notify(job.id);
  return okStatus();
}

Status JobStore::transitionLocked(JobRecord& job, JobEvent event, const std::string& reason,
                                  bool whole) {
  retryPendingLocked();
  std::optional<JobRecord> stored;
  if (auto it = pending_.find(job.id); it != pending_.end()) {
    stored = it->second;
  } else {
    auto rows = queryLocked("WHERE id = ?", job.id, 1);
    if (!rows.empty()) stored = rows.front();
  }
  if (!stored) return fail("no job with id '" + job.id + "'");
  if (whole && stored->fence != job.fence) return fail(fencedError(job, stored->fence));
  JobFacts facts;
  facts.id = job.id;
  facts.state = stored->state;
  facts.attempts = stored->attempts;
  facts.has_clip = whole ? !job.clip_token.empty() : !stored->clip_token.empty();
  auto change = machine_.apply(facts, event, reason);
  if (!change.ok()) return fail(change.error());
  JobRecord next = whole ? job : *stored;
  next.state = change->state;
  next.attempts = change->attempts;
  next.fence = stored->fence + (event == JobEvent::kClaim ? 1 : 0);
  next.purged_ms = stored->purged_ms;
  next.may_improve_booth = stored->may_improve_booth;
  next.consent_withdrawn_ms = stored->consent_withdrawn_ms;
  next.frames_purged_ms = stored->frames_purged_ms;
  if (!change->detail.empty()) next.detail = change->detail;
  next.updated_ms = change->at_ms;
  if (isFinished(next.state)) next.eta_seconds = 0;
  if (next.state == JobState::kQueued) {
    next.eta_seconds = 0;
    next.progress = 0;
  }
  if (event == JobEvent::kExpire) next.purged_ms = next.frames_purged_ms = change->at_ms;
  if (simulate_full_) {
    pending_[job.id] = next;
  } else if (auto st = writeRowLocked(next, ""); !st.ok()) {
    if (!diskFull(sqlite3_errcode(db_))) return fail("job '" + job.id + "': " + st.error());
    pending_[job.id] = next;
  } else {
    pending_.erase(job.id);
  }
  if (pending_.count(job.id)) {
    spdlog::warn("job {}: the database cannot write it now ({}); {} is kept in memory and "
                 "written when space allows",
                 job.id, simulate_full_ ? "simulated full disk" : sqlite3_errmsg(db_),
                 jobStateName(next.state));
  }
  job = next;
  return okStatus();
}

Status JobStore::transition(JobRecord& job, JobEvent event, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    if (auto st = transitionLocked(job, event, reason, true); !st.ok()) return st;
  }
  notify(job.id);
  return okStatus();
}

Result<JobRecord> JobStore::transition(const std::string& id, JobEvent event,
                                       const std::string& reason) {
  JobRecord job;
  job.id = id;
  {
    std::lock_guard lock(mutex_);
    if (auto st = transitionLocked(job, event, reason, false); !st.ok()) return fail(st.error());
  }
  notify(id);
  return job;
}

Result<std::optional<JobRecord>> JobStore::claimNext() {
  std::optional<JobRecord> claimed;
  {
    std::lock_guard lock(mutex_);
    retryPendingLocked();
    auto rows = queryLocked("WHERE state = 'queued' ORDER BY created_ms ASC, id ASC", "", 16);
    for (JobRecord& row : rows) {
      if (auto it = pending_.find(row.id); it != pending_.end()) continue;  // not really queued
      JobRecord job = row;
      if (auto st = transitionLocked(job, JobEvent::kClaim, {}, false); !st.ok())
        return fail(st.error());
      claimed = job;
      break;
    }
  }
  if (claimed) notify(claimed->id);
  return claimed;
}

Status JobStore::expire(const std::string& id, std::int64_t now_ms, bool frames_kept) {
  {
    std::lock_guard lock(mutex_);
    JobRecord job;
    job.id = id;
    if (auto st = transitionLocked(job, JobEvent::kExpire, {}, false); !st.ok()) return st;
    // The caller's clock (retention's) names when the data went.
    job.purged_ms = now_ms;
    job.frames_purged_ms = frames_kept ? 0 : now_ms;
    if (auto it = pending_.find(id); it != pending_.end()) {
      it->second.purged_ms = now_ms;
      it->second.frames_purged_ms = job.frames_purged_ms;
    } else if (auto st = writeRowLocked(job, ""); !st.ok()) {
      return fail("job '" + id + "': " + st.error());
    }
  }
  notify(id);
  return okStatus();
}

void JobStore::retryPendingLocked() {
  if (pending_.empty() || simulate_full_) return;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (writeRowLocked(it->second, "").ok()) {
      spdlog::info("job {}: the pending change to {} is written", it->first,
                   jobStateName(it->second.state));
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

int JobStore::retryPending() {
  std::vector<std::string> written;
  int left = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, job] : pending_) written.push_back(id);
    retryPendingLocked();
    left = static_cast<int>(pending_.size());
    std::erase_if(written, [&](const std::string& id) { return pending_.count(id) > 0; });
  }
  for (const std::string& id : written) notify(id);
  return left;
}

int JobStore::pendingWrites() {
  std::lock_guard lock(mutex_);
  return static_cast<int>(pending_.size());
}

JobRecord JobStore::overlay(JobRecord row) const {
  if (auto it = pending_.find(row.id); it != pending_.end()) return it->second;
  return row;
}

std::vector<JobRecord> JobStore::queryLocked(const std::string& sql_tail, const std::string& arg,
                                             int limit) {
  Statement st(db_, "SELECT " + columnList() + " FROM jobs " + sql_tail + " LIMIT ?");
  std::vector<JobRecord> out;
  if (!st.error().empty()) return out;
  int idx = 1;
  if (sql_tail.find('?') != std::string::npos) bindText(st.get(), idx++, arg);
  sqlite3_bind_int(st.get(), idx, limit);
  while (sqlite3_step(st.get()) == SQLITE_ROW) out.push_back(readRow(st.get()));
  return out;
}

std::vector<JobRecord> JobStore::query(const std::string& sql_tail, const std::string& arg,
                                       int limit) {
  std::lock_guard lock(mutex_);
  auto rows = queryLocked(sql_tail, arg, limit);
  for (JobRecord& row : rows) row = overlay(std::move(row));
  return rows;
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
  // The live job first: an expired one may share a token only in tests.
  return queryOne("WHERE clip_token = ? ORDER BY purged_ms ASC", token);
}
std::vector<JobRecord> JobStore::list(int limit) {
  return query("ORDER BY created_ms DESC", "", limit);
}
std::vector<JobRecord> JobStore::withState(JobState state) {
  if (pendingWrites() == 0) {
    return query("WHERE state = ? ORDER BY created_ms ASC", jobStateName(state), 1 << 20);
  }
  // Some states are only in memory (a full disk): look at every job.
  auto rows = query("ORDER BY created_ms ASC", "", 1 << 20);
  std::erase_if(rows, [&](const JobRecord& j) { return j.state != state; });
  return rows;
}

std::optional<int> JobStore::queuePosition(const std::string& id) {
  const auto queued = withState(JobState::kQueued);
  for (std::size_t i = 0; i < queued.size(); ++i) {
    if (queued[i].id == id) return static_cast<int>(i) + 1;
  }
  return std::nullopt;
}

Status JobStore::requestCancel(const std::string& id) {
  {
    std::lock_guard lock(mutex_);
    Statement st(db_, "UPDATE jobs SET cancel_requested = 1, updated_ms = ? WHERE id = ?");
    if (!st.error().empty()) return fail(st.error());
    sqlite3_bind_int64(st.get(), 1, nowMs());
    bindText(st.get(), 2, id);
    if (sqlite3_step(st.get()) != SQLITE_DONE)
      return fail(std::string("cancel job: ") + sqlite3_errmsg(db_));
    if (sqlite3_changes(db_) != 1) return fail("cancel job: no job with id '" + id + "'");
  }
  notify(id);
  return okStatus();
}

Status JobStore::setConsentColumns(const std::string& id, const std::string& sql_set,
                                   const ConsentCondition& only_if, std::int64_t now_ms,
                                   const std::string& what,
                                   const std::function<void(JobRecord&)>& apply) {
  {
    std::lock_guard lock(mutex_);
    std::optional<JobRecord> stored;
    if (auto it = pending_.find(id); it != pending_.end()) {
      stored = it->second;
    } else if (auto rows = queryLocked("WHERE id = ?", id, 1); !rows.empty()) {
      stored = rows.front();
    }
    if (!stored) return fail(what + ": no job with id '" + id + "'");
    if (auto why = only_if(*stored)) return fail(what + " of job '" + id + "' refused: " + *why);
    // A state change waiting in memory (a full disk) carries these columns
    // too: change it as well, or its later write would undo this one.
    if (auto it = pending_.find(id); it != pending_.end()) apply(it->second);
    // updated_ms stays: retention counts a finished job's time from it, and
    // a withdrawal must not put off the clip's deletion.
    Statement st(db_, "UPDATE jobs SET " + sql_set + " WHERE id = ?2");
    if (!st.error().empty()) return fail(st.error());
    sqlite3_bind_int64(st.get(), 1, now_ms);
    bindText(st.get(), 2, id);
    if (sqlite3_step(st.get()) != SQLITE_DONE)
      return fail(what + " of job '" + id + "': " + sqlite3_errmsg(db_));
    if (sqlite3_changes(db_) != 1) return fail(what + ": no job with id '" + id + "'");
  }
  notify(id);
  return okStatus();
}

Status JobStore::withdrawConsent(const std::string& id, std::int64_t now_ms) {
  return setConsentColumns(
      id, "may_improve_booth = 0, consent_withdrawn_ms = ?1",
      [](const JobRecord& j) -> std::optional<std::string> {
        if (j.may_improve_booth) return std::nullopt;
        return j.consent_withdrawn_ms != 0 ? "it was withdrawn already"
                                           : "the visitor did not agree to improve the booth";
      },
      now_ms, "withdraw consent", [now_ms](JobRecord& j) {
        j.may_improve_booth = false;
        j.consent_withdrawn_ms = now_ms;
      });
}

Status JobStore::markFramesPurged(const std::string& id, std::int64_t now_ms) {
  return setConsentColumns(
      id, "frames_purged_ms = ?1",
      [](const JobRecord& j) -> std::optional<std::string> {
        if (j.state != JobState::kExpired) {
          return std::string("it is ") + jobStateName(j.state) + ", not expired";
        }
        if (j.frames_purged_ms != 0) return "its frames were deleted already";
        return std::nullopt;
      },
      now_ms, "mark frames deleted", [now_ms](JobRecord& j) { j.frames_purged_ms = now_ms; });
}

std::vector<JobRecord> JobStore::framesKept(int limit) {
  auto rows = query("WHERE state = 'expired' AND frames_purged_ms = 0 ORDER BY created_ms ASC", "",
                    limit);
  std::erase_if(rows, [](const JobRecord& j) {
    return j.state != JobState::kExpired || j.frames_purged_ms != 0;
  });
  return rows;
}

bool JobStore::cancelRequested(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (auto it = pending_.find(id); it != pending_.end() && it->second.state == JobState::kCancelled)
    return true;
  Statement st(db_, "SELECT cancel_requested FROM jobs WHERE id = ?");
  if (!st.error().empty()) return false;
  bindText(st.get(), 1, id);
  return sqlite3_step(st.get()) == SQLITE_ROW && sqlite3_column_int(st.get(), 0) != 0;
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
  // The change is committed: an observer that throws must not make the
  // writer believe it failed.
  for (const auto& [key, observer] : observers_) {
    try {
      observer(id);
    } catch (const std::exception& e) {
      spdlog::error("job store: an observer of job {} failed: {}", id, e.what());
    } catch (...) {
      spdlog::error("job store: an observer of job {} failed", id);
    }
  }
}

std::vector<JobRecord> JobStore::finishedBefore(JobState state, std::int64_t before_ms, int limit) {
  std::vector<JobRecord> out;
  if (pendingWrites() == 0) {
    std::lock_guard lock(mutex_);
    Statement st(db_, "SELECT " + columnList() +
                          " FROM jobs WHERE state = ? AND purged_ms = 0 AND updated_ms < ? "
                          "ORDER BY updated_ms ASC LIMIT ?");
    if (!st.error().empty()) return out;
    bindText(st.get(), 1, jobStateName(state));
    sqlite3_bind_int64(st.get(), 2, before_ms);
    sqlite3_bind_int(st.get(), 3, limit);
    while (sqlite3_step(st.get()) == SQLITE_ROW) out.push_back(readRow(st.get()));
    return out;
  }
  for (JobRecord& j : query("ORDER BY updated_ms ASC", "", 1 << 20)) {
    if (j.state != state || j.purged_ms != 0 || j.updated_ms >= before_ms) continue;
    out.push_back(std::move(j));
    if (static_cast<int>(out.size()) >= limit) break;
  }
  return out;
}

std::map<JobState, int> JobStore::countByState() {
  std::map<JobState, int> out;
  if (pendingWrites() == 0) {
    std::lock_guard lock(mutex_);
    Statement st(db_, "SELECT state, COUNT(*) FROM jobs GROUP BY state");
    if (!st.error().empty()) return out;
    while (sqlite3_step(st.get()) == SQLITE_ROW) {
      if (auto state = jobStateFromName(readText(st.get(), 0))) {
        out[*state] += sqlite3_column_int(st.get(), 1);
      }
    }
    return out;
  }
  for (const JobRecord& j : query("", "", 1 << 20)) ++out[j.state];
  return out;
}

}  // namespace booth
