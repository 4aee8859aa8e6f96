#include "trainer_node/store/pg/pg_job_queue.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>

#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_pool.h"
#include "trainer_node/store/pg/pg_transaction.h"

namespace booth {
namespace {

using Failure = std::optional<JobQueueFailure>;

// The jobs table's columns in the order readRow() and writeRow() use.
const std::vector<std::string>& columns() {
  static const std::vector<std::string> kColumns = {"id",
                                                    "session_id",
                                                    "state",
                                                    "detail",
                                                    "capture_seconds_requested",
                                                    "train_budget_seconds",
                                                    "choreography",
                                                    "nodes",
                                                    "progress",
                                                    "generator_steps",
                                                    "face_steps",
                                                    "loss_g",
                                                    "loss_d",
                                                    "loss_l1",
                                                    "eta_seconds",
                                                    "generator_steps_per_second",
                                                    "face_steps_per_second",
                                                    "cameras",
                                                    "frames_received",
                                                    "capture_seconds",
                                                    "pose_seconds",
                                                    "transfer_seconds",
                                                    "train_seconds",
                                                    "render_seconds",
                                                    "clip_token",
                                                    "clip_path",
                                                    "clip_frames",
                                                    "clip_width",
                                                    "clip_height",
                                                    "clip_bytes",
                                                    "budget_spent_seconds",
                                                    "train_budget_planned",
                                                    "resume_phase",
                                                    "checkpoint_path",
                                                    "model_path",
                                                    "attempts",
                                                    "created_ms",
                                                    "updated_ms",
                                                    "purged_ms",
                                                    "fence",
                                                    "worker_id",
                                                    "lease_until_ms",
                                                    "may_improve_booth",
                                                    "consent_withdrawn_ms",
                                                    "frames_purged_ms",
                                                    "gateway_id"};
  return kColumns;
}

bool isJsonColumn(const std::string& c) { return c == "nodes" || c == "cameras"; }

std::string selectList() {
  std::string out;
  for (const auto& c : columns()) {
    if (!out.empty()) out += ", ";
    out += isJsonColumn(c) ? c + "::text" : c;
  }
  return out;
}

std::string placeholder(std::size_t i) {
  const std::string p = "$" + std::to_string(i + 1);
  return isJsonColumn(columns()[i]) ? p + "::jsonb" : p;
}

std::string insertSql() {
  std::string names, values;
  for (std::size_t i = 0; i < columns().size(); ++i) {
    if (i > 0) {
      names += ", ";
      values += ", ";
    }
    names += columns()[i];
    values += placeholder(i);
  }
  return "INSERT INTO jobs (" + names + ") VALUES (" + values + ") ON CONFLICT (id) DO NOTHING";
}

std::string updateSql() {
  std::string sets;
  for (std::size_t i = 1; i < columns().size(); ++i) {
    if (i > 1) sets += ", ";
    sets += columns()[i];
    sets += " = ";
    sets += placeholder(i);
  }
  return "UPDATE jobs SET " + sets + " WHERE id = $1";
}

// Who holds a job: not part of the JobRecord the rest of the trainer sees.
struct Holder {
  std::uint64_t fence = 0;
  std::string worker_id;
  std::int64_t lease_until_ms = 0;
};

struct Row {
  JobRecord job;
  Holder holder;
};

Row readRow(const pqxx::row& r) {
  Row row;
  JobRecord& j = row.job;
  int i = 0;
  j.id = r[i++].as<std::string>();
  j.session_id = r[i++].as<std::string>();
  j.state = jobStateFromName(r[i++].as<std::string>()).value_or(JobState::kFailed);
  j.detail = r[i++].as<std::string>();
  j.capture_seconds_requested = r[i++].as<double>();
  j.train_budget_seconds = r[i++].as<double>();
  j.choreography = r[i++].as<std::string>();
  j.nodes = nodesFromJson(r[i++].as<std::string>());
  j.progress = r[i++].as<double>();
  j.generator_steps = r[i++].as<std::int64_t>();
  j.face_steps = r[i++].as<std::int64_t>();
  j.loss_g = r[i++].as<float>();
  j.loss_d = r[i++].as<float>();
  j.loss_l1 = r[i++].as<float>();
  j.eta_seconds = r[i++].as<double>();
  j.generator_steps_per_second = r[i++].as<double>();
  j.face_steps_per_second = r[i++].as<double>();
  j.cameras = camerasFromJson(r[i++].as<std::string>());
  j.frames_received = r[i++].as<std::int64_t>();
  j.capture_seconds = r[i++].as<double>();
  j.pose_seconds = r[i++].as<double>();
  j.transfer_seconds = r[i++].as<double>();
  j.train_seconds = r[i++].as<double>();
  j.render_seconds = r[i++].as<double>();
  j.clip_token = r[i++].as<std::string>();
  j.clip_path = r[i++].as<std::string>();
  j.clip_frames = r[i++].as<int>();
  j.clip_width = r[i++].as<int>();
  j.clip_height = r[i++].as<int>();
  j.clip_bytes = r[i++].as<std::int64_t>();
  j.budget_spent_seconds = r[i++].as<double>();
  j.train_budget_planned = r[i++].as<double>();
  j.resume_phase = r[i++].as<std::string>();
  j.checkpoint_path = r[i++].as<std::string>();
  j.model_path = r[i++].as<std::string>();
  j.attempts = r[i++].as<int>();
  j.created_ms = r[i++].as<std::int64_t>();
  j.updated_ms = r[i++].as<std::int64_t>();
  j.purged_ms = r[i++].as<std::int64_t>();
  row.holder.fence = r[i++].as<std::uint64_t>();
  j.fence = row.holder.fence;
  row.holder.worker_id = r[i++].as<std::string>();
  row.holder.lease_until_ms = r[i++].as<std::int64_t>();
  j.may_improve_booth = r[i++].as<bool>();
  j.consent_withdrawn_ms = r[i++].as<std::int64_t>();
  j.frames_purged_ms = r[i++].as<std::int64_t>();
  j.gateway_id = r[i++].as<std::string>();
  return row;
}

pqxx::result writeRow(pqxx::work& tx, const std::string& sql, const Row& row) {
  const JobRecord& j = row.job;
  return tx.exec_params(
      sql, j.id, j.session_id, std::string(jobStateName(j.state)), j.detail,
      j.capture_seconds_requested, j.train_budget_seconds, j.choreography, nodesToJson(j.nodes),
      j.progress, j.generator_steps, j.face_steps, j.loss_g, j.loss_d, j.loss_l1, j.eta_seconds,
      j.generator_steps_per_second, j.face_steps_per_second, camerasToJson(j.cameras), j.frames_received, j.capture_seconds,
      j.pose_seconds, j.transfer_seconds, j.train_seconds, j.render_seconds, j.clip_token,
      j.clip_path, j.clip_frames, j.clip_width, j.clip_height, j.clip_bytes, j.budget_spent_seconds,
      j.train_budget_planned, j.resume_phase, j.checkpoint_path, j.model_path, j.attempts,
      j.created_ms, j.updated_ms, j.purged_ms, static_cast<std::int64_t>(row.holder.fence),
      row.holder.worker_id, row.holder.lease_until_ms, j.may_improve_booth,
      j.consent_withdrawn_ms, j.frames_purged_ms, j.gateway_id);
}

JobQueueFailure failure(JobQueueError error, std::string message) {
  return JobQueueFailure{error, std::move(message)};
}

// The claim's hold on the row, checked under the row's lock.
Failure checkClaim(const std::string& job_id, std::uint64_t row_fence, JobState state,
                   const Claim& claim) {
  if (row_fence != claim.fence) {
    return failure(JobQueueError::kFenced, "job '" + job_id + "': worker '" + claim.worker_id +
                                               "' holds fence " + std::to_string(claim.fence) +
                                               ", but the job was claimed again since (fence " +
                                               std::to_string(row_fence) +
                                               "); it must stop without publishing");
  }
  if (!isRunning(state)) {
    return failure(JobQueueError::kNotRunning, "job '" + job_id + "' is " + jobStateName(state) +
                                                   ": worker '" + claim.worker_id +
                                                   "' must stop without publishing");
  }
  return std::nullopt;
}

// The NOTIFY channel, one per schema (so that queues in different schemas
// of one database do not wake each other), computed by the server for the
// connection at hand: senders and the listener always agree.
constexpr const char* kChannelSql =
    "left('booth_jobs_' || regexp_replace(lower(current_schema()), '[^a-z0-9]', '_', 'g'), 63)";

void notifyChange(pqxx::work& tx, const std::string& job_id) {
  tx.exec_params(std::string("SELECT pg_notify(") + kChannelSql + ", $1)", job_id);
}

}  // namespace

class PgJobQueue::Impl {
 public:
  Impl(std::shared_ptr<PgDatabase> db, PgJobQueueOptions options)
      : db_(std::move(db)),
        options_(options),
        clock_(*options.clock),
        machine_(options.machine, *options.clock) {
    listener_ = std::jthread([this](std::stop_token stop) { listen(stop); });
  }

  ~Impl() {
    listener_.request_stop();
    wake_.notify_all();
  }

  std::int64_t nowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wall().time_since_epoch())
        .count();
  }

  // fn(tx) -> Failure, in one transaction, committed when it returns none.
  template <class F>
  QueueStatus write(std::string_view what, F&& fn) {
    Failure failed;
    auto done = db_->pool().transact<Ok>(what, [&](pqxx::work& tx) -> Status {
      failed = fn(tx);
      if (failed) return booth::fail(failed->message);
      return okStatus();
    });
    // A refusal (failed) was the database's answer too: it is reachable.
    noteOutcome(done.ok() || failed ? std::string() : done.error());
    if (done.ok()) return {};
    if (failed) return *failed;
    return failure(JobQueueError::kUnavailable, done.error());
  }

  // The latest call's outcome: empty when it reached the database.
  void noteOutcome(const std::string& error) {
    std::lock_guard lock(health_mutex_);
    last_error_ = error;
  }

  std::optional<std::string> unavailable() {
    std::lock_guard lock(health_mutex_);
    if (last_error_.empty()) return std::nullopt;
    return "database unavailable: " + last_error_;
  }

  std::optional<Row> lockRow(pqxx::work& tx, const std::string& id) {
    const auto rows =
        tx.exec_params("SELECT " + selectList() + " FROM jobs WHERE id = $1 FOR UPDATE", id);
    if (rows.empty()) return std::nullopt;
    return readRow(rows[0]);
  }

  void save(pqxx::work& tx, const Row& row) {
    static const std::string kUpdate = updateSql();
    writeRow(tx, kUpdate, row);
    notifyChange(tx, row.job.id);
  }

  // The state machine's answer to `event`, applied to the row.
  Failure apply(Row& row, JobEvent event, const std::string& reason, bool has_clip = false) {
    JobRecord& job = row.job;
    const JobFacts facts{job.id, job.state, job.attempts, has_clip};
    auto change = machine_.apply(facts, event, reason);
    if (!change.ok()) return failure(JobQueueError::kRefused, change.error());
    const JobState from = job.state;
    job.state = change->state;
    if (!change->detail.empty()) job.detail = change->detail;
    job.attempts = change->attempts;
    job.updated_ms = change->at_ms;
    if (event == JobEvent::kRelease || event == JobEvent::kReleaseUnreachable ||
        event == JobEvent::kRecover) {
      job.resume_phase = resumePhaseFrom(from, job.resume_phase);
    }
    if (!isRunning(job.state)) {
      row.holder.worker_id.clear();
      row.holder.lease_until_ms = 0;
    }
    return std::nullopt;
  }

  // A write by the claim's worker: the row locked, the claim checked, then
  // mutate(row) -> Failure, then saved.
  template <class F>
  QueueStatus workerWrite(const Claim& claim, std::string_view what, F&& mutate) {
    return write(what, [&](pqxx::work& tx) -> Failure {
      auto row = lockRow(tx, claim.job_id);
      if (!row) return failure(JobQueueError::kNotFound, "no job '" + claim.job_id + "'");
      if (auto f = checkClaim(row->job.id, row->holder.fence, row->job.state, claim)) return f;
      const std::int64_t before = row->job.updated_ms;
      if (auto f = mutate(*row)) return f;
      if (row->job.updated_ms == before) row->job.updated_ms = nowMs();
      save(tx, *row);
      return std::nullopt;
    });
  }

  // An event on a job by id (intake, the operator, retention).
  template <class F>
  QueueStatus jobWrite(const std::string& job_id, std::string_view what, F&& mutate) {
    return write(what, [&](pqxx::work& tx) -> Failure {
      auto row = lockRow(tx, job_id);
      if (!row) return failure(JobQueueError::kNotFound, "no job '" + job_id + "'");
      if (auto f = mutate(*row)) return f;
      save(tx, *row);
      return std::nullopt;
    });
  }

  // A read; the error when the database could not answer.
  template <class T, class F>
  Result<T> read(std::string_view what, F&& fn) {
    auto r = db_->pool().transact<T>(what, std::forward<F>(fn));
    noteOutcome(r.ok() ? std::string() : r.error());
    return r;
  }

  // A read; nullopt when the database could not answer.
  template <class T, class F>
  std::optional<T> query(std::string_view what, F&& fn) {
    auto r = read<T>(what, std::forward<F>(fn));
    if (!r.ok()) return std::nullopt;
    return std::move(r.value());
  }

  // The jobs `sql_tail` selects (after FROM jobs), with its parameters.
  template <class... Args>
  Result<std::vector<JobRecord>> jobsWhere(std::string_view what, const std::string& sql_tail,
                                           Args&&... args) {
    return read<std::vector<JobRecord>>(
        what, [&](pqxx::work& tx) -> Result<std::vector<JobRecord>> {
          std::vector<JobRecord> out;
          for (const auto& r : tx.exec_params("SELECT " + selectList() + " FROM jobs " + sql_tail,
                                              args...)) {
            out.push_back(readRow(r).job);
          }
          return out;
        });
  }

  // At most one job `sql_tail` selects.
  Result<std::optional<JobRecord>> jobWhere(std::string_view what, const std::string& sql_tail,
                                            const std::string& arg) {
    auto jobs = jobsWhere(what, sql_tail + " LIMIT 1", arg);
    if (!jobs.ok()) return booth::fail(jobs.error());
    if (jobs.value().empty()) return std::optional<JobRecord>();
    return std::optional<JobRecord>(std::move(jobs.value().front()));
  }

  // --- observers and the listener thread ---

  std::uint64_t addObserver(Observer observer) {
    std::lock_guard lock(observers_mutex_);
    observers_[++next_observer_] = std::move(observer);
    return next_observer_;
  }

  void removeObserver(std::uint64_t id) {
    std::lock_guard lock(observers_mutex_);  // waits for a running dispatch
    observers_.erase(id);
  }

  void dispatch(const std::string& job_id) {
    std::lock_guard lock(observers_mutex_);
    for (auto& [id, observer] : observers_) {
      try {
        observer(job_id);
      } catch (...) {
        // An observer must not throw; one that does loses this event only.
      }
    }
  }

  class Receiver final : public pqxx::notification_receiver {
   public:
    Receiver(pqxx::connection& conn, const std::string& channel, Impl& impl)
        : pqxx::notification_receiver(conn, channel), impl_(impl) {}
    void operator()(const std::string& payload, int) override { impl_.dispatch(payload); }

   private:
    Impl& impl_;
  };

  void announceChangedSince(std::int64_t since_ms) {
    auto ids = query<std::vector<std::string>>(
        "reading jobs changed while the listener was away",
        [&](pqxx::work& tx) -> Result<std::vector<std::string>> {
          std::vector<std::string> out;
          for (const auto& r : tx.exec_params(
                   "SELECT id FROM jobs WHERE updated_ms >= $1 ORDER BY updated_ms", since_ms)) {
            out.push_back(r[0].as<std::string>());
          }
          return out;
        });
    if (!ids) return;
    for (const auto& id : *ids) dispatch(id);
  }

  void listen(std::stop_token stop) {
    constexpr std::int64_t kResyncSlackMs = 5000;
    auto delay = options_.reconnect_delay;
    std::int64_t last_ok_ms = nowMs();
    bool resync = false;
    while (!stop.stop_requested()) {
      try {
        auto conn = db_->pool().connect();
        if (!conn.ok()) noteOutcome(conn.error());
        if (conn.ok()) {
          std::string channel;
          {
            pqxx::nontransaction tx(*conn.value());
            channel = tx.exec1(std::string("SELECT ") + kChannelSql)[0].as<std::string>();
          }
          Receiver receiver(*conn.value(), channel, *this);
          conn.value()->get_notifs();  // issues the LISTEN
          listening_ = true;
          delay = options_.reconnect_delay;
          if (resync) announceChangedSince(last_ok_ms - kResyncSlackMs);
          resync = false;
          while (!stop.stop_requested()) {
            conn.value()->await_notification(0, 200'000);
            // libpqxx 6 does not always throw when the server cut the
            // connection; a closed one is noticed here.
            if (!conn.value()->is_open() || conn.value()->sock() < 0) break;
            last_ok_ms = nowMs();
          }
        }
      } catch (...) {
        // The connection broke (or the server went away): reconnect below.
        // This is also the thread's last-resort catch: nothing escapes it.
      }
      listening_ = false;
      resync = true;
      try {
        std::unique_lock lock(wake_mutex_);
        wake_.wait_for(lock, stop, delay, [] { return false; });
      } catch (...) {
        std::this_thread::sleep_for(delay);
      }
      delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(30));
    }
  }

  std::shared_ptr<PgDatabase> db_;
  PgJobQueueOptions options_;
  const Clock& clock_;
  JobStateMachine machine_;
  std::atomic<bool> listening_{false};

  std::mutex health_mutex_;  // guards last_error_
  std::string last_error_;   // the latest call's failure to reach the database; empty: it did

  std::mutex observers_mutex_;  // guards observers_, held while they run
  std::map<std::uint64_t, Observer> observers_;
  std::uint64_t next_observer_ = 0;

  std::mutex wake_mutex_;
  std::condition_variable_any wake_;
  std::jthread listener_;  // last: stopped and joined first
};

PgJobQueue::PgJobQueue(std::shared_ptr<PgDatabase> db, PgJobQueueOptions options)
    : impl_(std::make_unique<Impl>(std::move(db), options)) {}

PgJobQueue::~PgJobQueue() = default;

QueueStatus PgJobQueue::add(const JobRecord& job) {
  if (job.state != JobState::kReceiving) {
    return failure(JobQueueError::kRefused, "job '" + job.id + "' is added as " +
                                                jobStateName(job.state) +
                                                ": a new job starts receiving");
  }
  return impl_->write("adding job '" + job.id + "'", [&](pqxx::work& tx) -> Failure {
    Row row{job, {}};
    const std::int64_t now = impl_->nowMs();
    if (row.job.created_ms == 0) row.job.created_ms = now;
    row.job.updated_ms = now;
    row.job.consent_withdrawn_ms = 0;  // only the consent itself comes with a new job
    row.job.frames_purged_ms = 0;
    static const std::string kInsert = insertSql();
    if (writeRow(tx, kInsert, row).affected_rows() != 1) {
      return failure(JobQueueError::kRefused, "job '" + job.id + "' exists already");
    }
    notifyChange(tx, job.id);
    return std::nullopt;
  });
}

namespace {
void copyIntake(JobRecord& to, const JobRecord& from) {
  to.cameras = from.cameras;
  to.frames_received = from.frames_received;
  to.capture_seconds = from.capture_seconds;
  to.pose_seconds = from.pose_seconds;
  to.transfer_seconds = from.transfer_seconds;
  if (!from.detail.empty()) to.detail = from.detail;
}
}  // namespace

QueueStatus PgJobQueue::updateIntake(const JobRecord& job) {
  return impl_->jobWrite(job.id, "updating job '" + job.id + "'", [&](Row& row) -> Failure {
    if (row.job.state != JobState::kReceiving) {
      return failure(JobQueueError::kRefused, "job '" + job.id + "' is " +
                                                  jobStateName(row.job.state) +
                                                  ": intake updates only while receiving");
    }
    copyIntake(row.job, job);
    row.job.updated_ms = impl_->nowMs();
    return std::nullopt;
  });
}

QueueStatus PgJobQueue::enqueue(const JobRecord& job, const std::string& detail) {
  return impl_->jobWrite(job.id, "queueing job '" + job.id + "'", [&](Row& row) -> Failure {
    if (row.job.state == JobState::kReceiving) copyIntake(row.job, job);
    return impl_->apply(row, JobEvent::kReceived, detail);
  });
}

QueueStatus PgJobQueue::failIntake(const JobRecord& job, const std::string& reason) {
  return impl_->jobWrite(job.id, "failing job '" + job.id + "'", [&](Row& row) -> Failure {
    if (row.job.state != JobState::kReceiving) {
      return failure(JobQueueError::kRefused, "job '" + job.id + "' is " +
                                                  jobStateName(row.job.state) +
                                                  ": the intake fails a job only while receiving");
    }
    copyIntake(row.job, job);
    return impl_->apply(row, JobEvent::kFail, reason);
  });
}

Result<std::optional<JobQueue::Claimed>> PgJobQueue::claim(const std::string& worker_id,
                                                           std::chrono::milliseconds lease) {
  if (worker_id.empty()) return booth::fail("a claim needs a worker id");
  std::optional<Claimed> out;
  auto done = impl_->db_->pool().transact<Ok>("claiming a job", [&](pqxx::work& tx) -> Status {
    out.reset();
    const std::int64_t until = impl_->nowMs() + lease.count();
    const auto rows = tx.exec_params(
        "UPDATE jobs SET fence = fence + 1, worker_id = $1, lease_until_ms = $2 "
        "WHERE id = (SELECT id FROM jobs WHERE state = 'queued' "
        "ORDER BY created_ms, id FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING " +
            selectList(),
        worker_id, until);
    if (rows.empty()) return okStatus();
    Row row = readRow(rows[0]);
    if (auto f = impl_->apply(row, JobEvent::kClaim, {})) return booth::fail(f->message);
    row.holder.worker_id = worker_id;
    row.holder.lease_until_ms = until;
    impl_->save(tx, row);
    out = Claimed{Claim{row.job.id, worker_id, row.holder.fence, until}, row.job};
    return okStatus();
  });
  if (!done.ok()) return booth::fail(done.error());
  return out;
}

QueueStatus PgJobQueue::heartbeat(Claim& claim, std::chrono::milliseconds lease) {
  std::int64_t until = 0;
  auto st = impl_->workerWrite(claim, "renewing the lease of job '" + claim.job_id + "'",
                               [&](Row& row) -> Failure {
                                 until = impl_->nowMs() + lease.count();
                                 row.holder.lease_until_ms = until;
                                 return std::nullopt;
                               });
  if (st.ok()) claim.lease_until_ms = until;
  return st;
}

QueueStatus PgJobQueue::advance(const Claim& claim, JobEvent stage, const std::string& detail) {
  if (stage != JobEvent::kStartTraining && stage != JobEvent::kStartRendering) {
    return failure(JobQueueError::kRefused, std::string("job '") + claim.job_id +
                                                "': advance takes start_training or "
                                                "start_rendering, not " +
                                                jobEventName(stage));
  }
  return impl_->workerWrite(claim, "advancing job '" + claim.job_id + "'", [&](Row& row) {
    row.job.resume_phase.clear();
    return impl_->apply(row, stage, detail);
  });
}

QueueStatus PgJobQueue::progress(const Claim& claim, const JobProgress& p) {
  return impl_->workerWrite(claim, "writing the progress of job '" + claim.job_id + "'",
                            [&](Row& row) -> Failure {
                              applyProgress(row.job, p);
                              return std::nullopt;
                            });
}

QueueStatus PgJobQueue::checkpoint(const Claim& claim, const JobCheckpoint& c) {
  return impl_->workerWrite(claim, "writing the checkpoint of job '" + claim.job_id + "'",
                            [&](Row& row) -> Failure {
                              applyCheckpoint(row.job, c);
                              return std::nullopt;
                            });
}

QueueStatus PgJobQueue::finish(const Claim& claim, const JobClip& clip) {
  return impl_->workerWrite(
      claim, "finishing job '" + claim.job_id + "'", [&](Row& row) -> Failure {
        if (auto f = impl_->apply(row, JobEvent::kFinish, {}, !clip.clip_token.empty())) return f;
        applyClip(row.job, clip);
        return std::nullopt;
      });
}

QueueStatus PgJobQueue::fail(const Claim& claim, const std::string& reason) {
  return impl_->workerWrite(claim, "failing job '" + claim.job_id + "'",
                            [&](Row& row) { return impl_->apply(row, JobEvent::kFail, reason); });
}

QueueStatus PgJobQueue::release(const Claim& claim, const std::string& detail,
                                ReleaseCause cause) {
  return impl_->workerWrite(claim, "releasing job '" + claim.job_id + "'", [&](Row& row) {
    return impl_->apply(row, releaseEvent(cause), detail);
  });
}

QueueStatus PgJobQueue::cancel(const std::string& job_id, const std::string& reason) {
  return impl_->jobWrite(job_id, "cancelling job '" + job_id + "'",
                         [&](Row& row) { return impl_->apply(row, JobEvent::kCancel, reason); });
}

Result<int> PgJobQueue::recoverExpired() {
  return impl_->db_->pool().transact<int>(
      "recovering jobs whose lease ran out", [&](pqxx::work& tx) -> Result<int> {
        const auto rows = tx.exec_params(
            "SELECT " + selectList() +
                " FROM jobs WHERE state IN ('claimed', 'training', 'rendering') "
                "AND lease_until_ms < $1 ORDER BY lease_until_ms FOR UPDATE SKIP LOCKED",
            impl_->nowMs());
        int recovered = 0;
        for (const auto& r : rows) {
          Row row = readRow(r);
          const std::string lost = row.holder.worker_id;
          if (auto f = impl_->apply(row, JobEvent::kRecover,
                                    "the lease of worker '" + lost + "' ran out")) {
            return booth::fail(f->message);
          }
          impl_->save(tx, row);
          ++recovered;
        }
        return recovered;
      });
}

QueueStatus PgJobQueue::expire(const std::string& job_id, ExpiredFrames frames) {
  return impl_->jobWrite(job_id, "expiring job '" + job_id + "'", [&](Row& row) -> Failure {
    if (auto f = impl_->apply(row, JobEvent::kExpire, {})) return f;
    row.job.purged_ms = row.job.updated_ms;
    row.job.frames_purged_ms = frames == ExpiredFrames::kKept ? 0 : row.job.purged_ms;
    return std::nullopt;
  });
}

QueueStatus PgJobQueue::markFramesPurged(const std::string& job_id) {
  return impl_->jobWrite(
      job_id, "marking the frames of job '" + job_id + "' deleted", [&](Row& row) -> Failure {
        if (row.job.state != JobState::kExpired || row.job.frames_purged_ms != 0) {
          return failure(JobQueueError::kRefused,
                         "job '" + job_id + "' is " + jobStateName(row.job.state) +
                             (row.job.frames_purged_ms != 0 ? ", its frames deleted already"
                                                            : ", not expired") +
                             ": no kept frames to mark deleted");
        }
        row.job.frames_purged_ms = impl_->nowMs();
        return std::nullopt;
      });
}

QueueStatus PgJobQueue::withdrawConsent(const std::string& job_id) {
  return impl_->jobWrite(
      job_id, "withdrawing the consent of job '" + job_id + "'", [&](Row& row) -> Failure {
        if (!row.job.may_improve_booth) {
          return failure(JobQueueError::kRefused,
                         "job '" + job_id + "': " +
                             (row.job.consent_withdrawn_ms != 0
                                  ? "the consent was withdrawn already"
                                  : "the visitor did not agree to improve the booth"));
        }
        // updated_ms stays (see JobQueue::withdrawConsent).
        row.job.may_improve_booth = false;
        row.job.consent_withdrawn_ms = impl_->nowMs();
        return std::nullopt;
      });
}

Result<std::vector<JobRecord>> PgJobQueue::finishedBefore(JobState state, std::int64_t before_ms,
                                                          int limit) {
  return impl_->jobsWhere("listing finished jobs for retention",
                          "WHERE state = $1 AND purged_ms = 0 AND updated_ms < $2 "
                          "ORDER BY updated_ms, id LIMIT $3",
                          std::string(jobStateName(state)), before_ms, std::max(0, limit));
}

Result<std::vector<JobRecord>> PgJobQueue::framesKept(int limit) {
  return impl_->jobsWhere("listing the frames consent keeps",
                          "WHERE state = 'expired' AND frames_purged_ms = 0 "
                          "ORDER BY created_ms, id LIMIT $1",
                          std::max(0, limit));
}

Result<std::optional<JobRecord>> PgJobQueue::findBySession(const std::string& session_id) {
  return impl_->jobWhere("reading the job of session '" + session_id + "'",
                         "WHERE session_id = $1 ORDER BY created_ms", session_id);
}

Result<std::optional<JobRecord>> PgJobQueue::findByClipToken(const std::string& token) {
  if (token.empty()) return std::optional<JobRecord>();
  return impl_->jobWhere("reading the job of a clip", "WHERE clip_token = $1", token);
}

namespace {
// A session-level advisory lock on a connection of its own: released when
// the connection closes (here, or when the process or the server dies).
class PgAdvisoryHold final : public JobQueue::ExclusiveHold {
 public:
  explicit PgAdvisoryHold(std::unique_ptr<pqxx::connection> conn) : conn_(std::move(conn)) {}

 private:
  std::unique_ptr<pqxx::connection> conn_;
};
}  // namespace

std::unique_ptr<JobQueue::ExclusiveHold> PgJobQueue::tryRetentionLock() {
  auto conn = impl_->db_->pool().connect();
  if (!conn.ok()) {
    impl_->noteOutcome(conn.error());
    return nullptr;
  }
  auto locked = pgCall<bool>("taking the retention lock", [&]() -> Result<bool> {
    pqxx::nontransaction tx(*conn.value());
    return tx
        .exec1("SELECT pg_try_advisory_lock(hashtextextended('booth.retention.' || "
               "current_schema(), 0))")[0]
        .as<bool>();
  });
  impl_->noteOutcome(locked.ok() ? std::string() : locked.error());
  if (!locked.ok() || !locked.value()) return nullptr;
  return std::make_unique<PgAdvisoryHold>(std::move(conn.value()));
}

std::optional<JobRecord> PgJobQueue::get(const std::string& job_id) {
  auto job = impl_->jobWhere("reading job '" + job_id + "'", "WHERE id = $1", job_id);
  return job.ok() ? job.value() : std::nullopt;
}

std::vector<JobRecord> PgJobQueue::list(int limit) {
  auto jobs = impl_->query<std::vector<JobRecord>>(
      "listing jobs", [&](pqxx::work& tx) -> Result<std::vector<JobRecord>> {
        std::vector<JobRecord> out;
        for (const auto& r : tx.exec_params("SELECT " + selectList() +
                                                " FROM jobs ORDER BY created_ms DESC, id DESC "
                                                "LIMIT $1",
                                            std::max(0, limit))) {
          out.push_back(readRow(r).job);
        }
        return out;
      });
  return jobs ? std::move(*jobs) : std::vector<JobRecord>();
}

std::optional<int> PgJobQueue::queuePosition(const std::string& job_id) {
  auto position = impl_->query<int>(
      "reading the queue position of job '" + job_id + "'", [&](pqxx::work& tx) -> Result<int> {
        const auto r = tx.exec_params1(
            "SELECT count(*) FROM jobs q, "
            "(SELECT created_ms, id FROM jobs WHERE id = $1 AND state = 'queued') me "
            "WHERE q.state = 'queued' AND (q.created_ms, q.id) <= (me.created_ms, me.id)",
            job_id);
        return r[0].as<int>();
      });
  if (!position || *position == 0) return std::nullopt;
  return position;
}

std::map<JobState, int> PgJobQueue::countByState() {
  auto counts = impl_->query<std::map<JobState, int>>(
      "counting jobs by state", [&](pqxx::work& tx) -> Result<std::map<JobState, int>> {
        std::map<JobState, int> out;
        for (const auto& r : tx.exec("SELECT state, count(*) FROM jobs GROUP BY state")) {
          if (auto state = jobStateFromName(r[0].as<std::string>())) out[*state] = r[1].as<int>();
        }
        return out;
      });
  return counts ? std::move(*counts) : std::map<JobState, int>();
}

std::optional<std::string> PgJobQueue::unavailable() { return impl_->unavailable(); }

std::uint64_t PgJobQueue::addObserver(Observer observer) {
  return impl_->addObserver(std::move(observer));
}

void PgJobQueue::removeObserver(std::uint64_t id) { impl_->removeObserver(id); }

BeforeCommit PgJobQueue::fenceCheck(const Claim& claim) {
  return [claim](StoreTransaction& t) -> Status {
    pqxx::work* tx = pgWork(t);
    if (!tx) {
      return booth::fail("job '" + claim.job_id +
                         "': a fenced write needs the PostgreSQL blob store of the same database");
    }
    const auto rows =
        tx->exec_params("SELECT fence, state FROM jobs WHERE id = $1 FOR SHARE", claim.job_id);
    if (rows.empty()) return booth::fail("no job '" + claim.job_id + "'");
    const auto state = jobStateFromName(rows[0][1].as<std::string>()).value_or(JobState::kFailed);
    if (auto f = checkClaim(claim.job_id, rows[0][0].as<std::uint64_t>(), state, claim)) {
      return booth::fail(std::string(jobQueueErrorName(f->error)) + ": " + f->message);
    }
    return okStatus();
  };
}

QueueStatus PgJobQueue::workerHeartbeat(const std::string& worker_id,
                                        std::chrono::milliseconds ttl) {
  if (worker_id.empty()) return failure(JobQueueError::kRefused, "a worker heartbeat needs an id");
  constexpr std::int64_t kForgetAfterMs = 3'600'000;
  return impl_->write("recording that worker '" + worker_id + "' is alive",
                      [&](pqxx::work& tx) -> Failure {
                        const std::int64_t now = impl_->nowMs();
                        tx.exec_params(
                            "INSERT INTO workers (worker_id, started_ms, seen_ms, alive_until_ms) "
                            "VALUES ($1, $2, $2, $3) ON CONFLICT (worker_id) DO UPDATE SET "
                            "seen_ms = EXCLUDED.seen_ms, alive_until_ms = EXCLUDED.alive_until_ms",
                            worker_id, now, now + ttl.count());
                        tx.exec_params("DELETE FROM workers WHERE alive_until_ms < $1",
                                       now - kForgetAfterMs);
                        return std::nullopt;
                      });
}

QueueStatus PgJobQueue::workerGone(const std::string& worker_id) {
  return impl_->write("recording that worker '" + worker_id + "' stopped",
                      [&](pqxx::work& tx) -> Failure {
                        tx.exec_params("DELETE FROM workers WHERE worker_id = $1", worker_id);
                        return std::nullopt;
                      });
}

std::optional<int> PgJobQueue::liveWorkers() {
  return impl_->query<int>("counting live workers", [&](pqxx::work& tx) -> Result<int> {
    return tx.exec_params1("SELECT count(*) FROM workers WHERE alive_until_ms >= $1",
                           impl_->nowMs())[0]
        .as<int>();
  });
}

bool PgJobQueue::listening() const { return impl_->listening_; }

}  // namespace booth
