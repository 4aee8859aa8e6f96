#pragma once
// The composition of one trainer process: opens its stores and runs the
// roles it was given (--roles) until SIGINT/SIGTERM.
//   stores   embedded (no --database): SQLite (DATA/jobs.sqlite) through
//            EmbeddedJobQueue, blobs as files under --data-dir
//            (LocalBlobStore); shared (--database): PgJobQueue and
//            PgBlobStore on one PostgreSQL (store/pg/shared_stores.h)
//   ingest   IngestServer over the queue; a session's frames go to the
//            session files in --data-dir (SessionStore), or with --database
//            to segment blobs in PostgreSQL (BlobSessionSink)
//   worker   JobRunner over the queue and the blob store; it reads the
//            frames from --data-dir, or with --database materializes them
//            from the blobs into its scratch folder (BlobSessionFrames)
//   http     the operator token, EventHub over the queue, HttpApi over the
//            queue and the blob store; a BoothControl over the ingest when
//            this process runs it, else FrontEndBoothControl (sessions are
//            refused, saying where they start)
//   retention  with the ingest or the http role: RetentionSweeper over the
//            queue, the blob store and --data-dir, on either store (several
//            processes take turns by the queue's retention lock)
#include "common/app/command_line.h"
#include "trainer_node/train/cpu_runtime.h"
#include "trainer_node/trainer_options.h"

namespace booth {

// 0 after a clean stop, 2 when a store or a role could not start (said on
// stderr).
int runTrainerRoles(TrainerOptions& opt, ShutdownSignals& signals, const CpuRuntime& rt);

}  // namespace booth
