#include "trainer_node/store/pg/pg_migrations.h"

#include <map>

#include "trainer_node/store/pg/pg_pool.h"

namespace booth {

const std::vector<PgMigration>& pgSchemaMigrations() {
  static const std::vector<PgMigration> kMigrations = {
      {1, "blobs",
       R"sql(
-- A blob is a row naming its bytes: chunk rows of one upload. A write
-- stores its chunks under a fresh upload id, then publishes them by
-- pointing the blob's row at that id (replacing the previous upload).
CREATE SEQUENCE blob_upload_ids;
CREATE TABLE blobs (
  key         text COLLATE "C" PRIMARY KEY,
  upload_id   bigint NOT NULL UNIQUE,
  size        bigint NOT NULL CHECK (size >= 0),
  chunk_size  integer NOT NULL CHECK (chunk_size > 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- Writes in progress whose chunks are stored but not yet published.
CREATE TABLE blob_uploads (
  upload_id   bigint PRIMARY KEY,
  key         text COLLATE "C" NOT NULL,
  touched_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX blob_uploads_touched ON blob_uploads (touched_at);
CREATE TABLE blob_chunks (
  upload_id   bigint NOT NULL,
  index       integer NOT NULL CHECK (index >= 0),
  data        bytea NOT NULL,
  PRIMARY KEY (upload_id, index)
);
)sql"},
      {2, "jobs",
       R"sql(
-- One row per job: the JobRecord's fields, plus who holds it. `fence` only
-- ever grows (one step per claim); every worker write checks it under the
-- row lock, so a worker that lost the job cannot publish.
CREATE TABLE jobs (
  id                        text PRIMARY KEY,
  session_id                text NOT NULL,
  state                     text NOT NULL CHECK (state IN ('receiving', 'queued', 'claimed',
                              'training', 'rendering', 'done', 'failed', 'cancelled', 'expired')),
  detail                    text NOT NULL DEFAULT '',
  capture_seconds_requested double precision NOT NULL DEFAULT 0,
  train_budget_seconds      double precision NOT NULL DEFAULT 0,
  choreography              text NOT NULL DEFAULT '',
  nodes                     jsonb NOT NULL DEFAULT '[]',   -- ["node-a", ...]
  progress                  double precision NOT NULL DEFAULT 0,
  generator_steps           bigint NOT NULL DEFAULT 0,
  face_steps                bigint NOT NULL DEFAULT 0,
  loss_g                    real NOT NULL DEFAULT 0,
  loss_d                    real NOT NULL DEFAULT 0,
  loss_l1                   real NOT NULL DEFAULT 0,
  eta_seconds               double precision NOT NULL DEFAULT 0,
  generator_steps_per_second double precision NOT NULL DEFAULT 0,
  face_steps_per_second     double precision NOT NULL DEFAULT 0,
  cameras                   jsonb NOT NULL DEFAULT '[]',   -- [{"node","camera","frames"}, ...]
  frames_received           bigint NOT NULL DEFAULT 0,
  capture_seconds           double precision NOT NULL DEFAULT 0,
  pose_seconds              double precision NOT NULL DEFAULT 0,
  transfer_seconds          double precision NOT NULL DEFAULT 0,
  train_seconds             double precision NOT NULL DEFAULT 0,
  render_seconds            double precision NOT NULL DEFAULT 0,
  clip_token                text NOT NULL DEFAULT '',
  clip_path                 text NOT NULL DEFAULT '',
  clip_frames               integer NOT NULL DEFAULT 0,
  clip_width                integer NOT NULL DEFAULT 0,
  clip_height               integer NOT NULL DEFAULT 0,
  clip_bytes                bigint NOT NULL DEFAULT 0,
  budget_spent_seconds      double precision NOT NULL DEFAULT 0,
  train_budget_planned      double precision NOT NULL DEFAULT 0,
  resume_phase              text NOT NULL DEFAULT '',
  checkpoint_path           text NOT NULL DEFAULT '',
  model_path                text NOT NULL DEFAULT '',
  attempts                  integer NOT NULL DEFAULT 0,
  created_ms                bigint NOT NULL,
  updated_ms                bigint NOT NULL,
  purged_ms                 bigint NOT NULL DEFAULT 0,
  fence                     bigint NOT NULL DEFAULT 0,
  worker_id                 text NOT NULL DEFAULT '',     -- '' when no worker holds it
  lease_until_ms            bigint NOT NULL DEFAULT 0
);
CREATE INDEX jobs_queued ON jobs (created_ms, id) WHERE state = 'queued';
CREATE INDEX jobs_running ON jobs (lease_until_ms)
  WHERE state IN ('claimed', 'training', 'rendering');
CREATE INDEX jobs_created ON jobs (created_ms DESC, id DESC);
CREATE UNIQUE INDEX jobs_clip_token ON jobs (clip_token) WHERE clip_token <> '';
)sql"},
      {3, "workers",
       R"sql(
-- Worker processes that said they are alive (JobQueue::workerHeartbeat),
-- for queue positions and waiting-time estimates: live while
-- alive_until_ms has not passed.
CREATE TABLE workers (
  worker_id       text PRIMARY KEY,
  started_ms      bigint NOT NULL,
  seen_ms         bigint NOT NULL,
  alive_until_ms  bigint NOT NULL
);
CREATE INDEX workers_alive ON workers (alive_until_ms);
)sql"},
      {4, "consent",
       R"sql(
-- The visitor's consent to improve the booth: their frames and poses may be
-- kept after the clip is gone (for pretraining) until withdrawn or the
-- consented retention ends. frames_purged_ms: when the frames went (0 while
-- stored); jobs purged before this version lost them with the clip.
ALTER TABLE jobs
  ADD COLUMN may_improve_booth    boolean NOT NULL DEFAULT false,
  ADD COLUMN consent_withdrawn_ms bigint NOT NULL DEFAULT 0,
  ADD COLUMN frames_purged_ms     bigint NOT NULL DEFAULT 0;
UPDATE jobs SET frames_purged_ms = purged_ms WHERE purged_ms <> 0;
CREATE INDEX jobs_frames_kept ON jobs (created_ms)
  WHERE state = 'expired' AND frames_purged_ms = 0;
)sql"},
      {5, "retention_and_gateways",
       R"sql(
-- Retention over the shared queue (retention/retention_sweeper.h): finished
-- jobs not purged yet, by when they last changed; a session's job (is a
-- folder or blob under sessions/<session>/ an orphan?).
CREATE INDEX jobs_finished ON jobs (state, updated_ms)
  WHERE purged_ms = 0 AND state IN ('done', 'failed', 'cancelled');
CREATE INDEX jobs_session ON jobs (session_id);
-- The ingest gateway that receives a session: a restarted gateway reopens
-- only its own receiving jobs ('' for jobs from before: any gateway's).
ALTER TABLE jobs ADD COLUMN gateway_id text NOT NULL DEFAULT '';
CREATE INDEX jobs_receiving ON jobs (gateway_id) WHERE state = 'receiving';
)sql"},
  };
  return kMigrations;
}

namespace {

// One lock per schema: starters of different schemas do not wait for each other.
constexpr const char* kLockKey =
    "hashtextextended('booth.schema_migrations.' || current_schema(), 0)";

Status checkList(const std::vector<PgMigration>& migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return fail("migration list out of order: entry " + std::to_string(i) + " has version " +
                  std::to_string(migrations[i].version));
    }
  }
  return okStatus();
}

}  // namespace

Result<int> applyPgMigrations(const std::string& conninfo,
                              const std::vector<PgMigration>& migrations) {
  if (auto st = checkList(migrations); !st.ok()) return fail(st.error());
  return pgCall<int>("applying schema migrations", [&]() -> Result<int> {
    pqxx::connection conn(conninfo);
    {
      pqxx::nontransaction tx(conn);
      const auto schema = tx.exec1("SELECT current_schema()");
      if (schema[0].is_null()) {
        return fail("no schema to create tables in (the search_path names none that exists)");
      }
      tx.exec(std::string("SELECT pg_advisory_lock(") + kLockKey + ")");
      tx.exec0(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version integer PRIMARY KEY,"
          " name text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now())");
    }
    // The session lock is released when this connection closes, also when
    // anything below fails or throws.
    std::map<int, std::string> applied;
    {
      pqxx::nontransaction tx(conn);
      for (const auto& row : tx.exec("SELECT version, name FROM schema_migrations")) {
        applied[row[0].as<int>()] = row[1].as<std::string>();
      }
    }
    const int known = static_cast<int>(migrations.size());
    if (!applied.empty() && applied.rbegin()->first > known) {
      return fail("the database's schema is at version " + std::to_string(applied.rbegin()->first) +
                  ", newer than this build's " + std::to_string(known) + " (upgrade this trainer)");
    }
    for (const auto& [version, name] : applied) {
      if (migrations[static_cast<std::size_t>(version - 1)].name != name) {
        return fail("the database's migration " + std::to_string(version) + " is '" + name +
                    "', this build's is '" +
                    migrations[static_cast<std::size_t>(version - 1)].name +
                    "': a different schema history");
      }
    }
    int version = applied.empty() ? 0 : applied.rbegin()->first;
    for (const PgMigration& m : migrations) {
      if (applied.count(m.version)) continue;
      try {
        pqxx::work tx(conn);
        tx.exec(m.sql);
        tx.exec_params0("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                        m.name);
        tx.commit();
      } catch (const std::exception& e) {
        return fail("migration " + std::to_string(m.version) + " (" + m.name +
                    ") failed and was rolled back: " + e.what());
      }
      version = m.version;
    }
    pqxx::nontransaction tx(conn);
    tx.exec(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")");
    return version;
  });
}

}  // namespace booth
