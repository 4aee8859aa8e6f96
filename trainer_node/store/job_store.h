#pragma once
// JobStore: sessions' jobs in one embedded SQLite file. One job per
// session; its row is the single source of truth for the job's state, which
// the HTTP API reads and the job runner and ingest write.
//
// Threading: every method may be called from any thread; one connection,
// serialized by a mutex (the write rate is a few rows a second).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/core/result.h"

struct sqlite3;

namespace booth {

enum class JobState { kReceiving, kQueued, kTraining, kRendering, kDone, kFailed };
const char* jobStateName(JobState state);  // "receiving", "queued", ...
std::optional<JobState> jobStateFromName(const std::string& name);

struct JobRecord {
  std::string id;
  std::string session_id;
  JobState state = JobState::kReceiving;
  std::string detail;  // what is happening now, or why it failed
  // Request.
  double capture_seconds_requested = 15;
  double train_budget_seconds = 0;
  std::string choreography;
  std::string nodes_json = "[]";  // capture nodes asked to capture
  // Progress of the current state.
  double progress = 0;
  std::int64_t iterations = 0;
  float loss_g = 0, loss_d = 0, loss_l1 = 0;
  double eta_seconds = 0;
  double iterations_per_second = 0;
  // The two kinds of training step, counted and timed apart (a face-GAN
  // step costs a small fraction of a generator step; their sum means
  // nothing). Rates: steps per wall-clock second of that phase.
  // `iterations` and `iterations_per_second` above are no longer written.
  std::int64_t generator_steps = 0, face_steps = 0;
  double generator_steps_per_second = 0, face_steps_per_second = 0;
  // Received data: per camera {node, camera, frames}, as JSON text.
  std::string cameras_json = "[]";
  std::int64_t frames_received = 0;
  // Timings in seconds, filled in as the job goes.
  double capture_seconds = 0, pose_seconds = 0, transfer_seconds = 0;
  double train_seconds = 0, render_seconds = 0;
  // Result.
  std::string clip_token;  // unguessable, names the clip in its URL
  std::string clip_path;
  int clip_frames = 0, clip_width = 0, clip_height = 0;
  std::int64_t clip_bytes = 0;
  // Resume after a trainer restart (the job runner's bookkeeping).
  double budget_spent_seconds = 0;   // job time charged so far, all runs together
  double train_budget_planned = 0;   // length of the training schedule, fixed at its start
  std::string resume_phase;          // "training" or "rendering" when re-queued by a restart
  std::string checkpoint_path;       // training state, saved periodically while training
  std::string model_path;            // the trained model the clip is rendered from
  // Wall-clock milliseconds since the epoch.
  std::int64_t created_ms = 0, updated_ms = 0;
  // When retention (or the operator) deleted the visitor's frames, model and
  // clip; 0 while they exist. A purged job's clip link answers 404.
  std::int64_t purged_ms = 0;
};

class JobStore {
 public:
  // Opens or creates the database; fails naming the path and SQLite's reason.
  static Result<std::unique_ptr<JobStore>> open(const std::string& path);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  Status insert(const JobRecord& job);
  Status update(const JobRecord& job);  // by id; updated_ms is set here
  std::optional<JobRecord> get(const std::string& id);
  std::optional<JobRecord> bySession(const std::string& session_id);
  std::vector<JobRecord> list(int limit = 100);  // newest first
  std::optional<JobRecord> byClipToken(const std::string& token);
  // Asks whoever runs the job to stop it. Kept apart from the record's
  // columns: update() never overwrites it, so a runner saving progress cannot
  // lose an operator's cancel. Fails when there is no such job.
  Status requestCancel(const std::string& id);
  bool cancelRequested(const std::string& id);
  // Jobs in one state, oldest first.
  std::vector<JobRecord> withState(JobState state);
  // Oldest queued job, if any.
  std::optional<JobRecord> nextQueued();
  // Jobs left in training/rendering by a previous process: marks them
  // failed with a reason. Returns how many. (The job runner first re-queues
  // the ones it can resume, see JobRunner::recoverInterrupted; jobs left
  // receiving are reopened by the ingest: their capture nodes resume from
  // their spools.)
  int failInterrupted();

  // --- for the HTTP API, live events and retention ---
  // Called after every successful insert, update, requestCancel, failIfQueued
  // and markPurged with the job's id, on the writer's thread, outside the
  // store's lock (an observer may read the store, but must not add or remove
  // observers). Observers must be quick: hand the id to another thread.
  // After removeObserver() returns, the observer is not running and is
  // never called again.
  using Observer = std::function<void(const std::string& job_id)>;
  std::uint64_t addObserver(Observer observer);
  void removeObserver(std::uint64_t id);
  // Marks a job that is still queued failed with `reason`, atomically (a job
  // the runner took meanwhile is left alone). true when it was queued.
  Result<bool> failIfQueued(const std::string& id, const std::string& reason);
  // Records that the job's data was deleted (purged_ms = now_ms).
  Status markPurged(const std::string& id, std::int64_t now_ms);
  // Done or failed jobs not purged yet, last written before `before_ms`.
  std::vector<JobRecord> finishedBefore(JobState state, std::int64_t before_ms, int limit = 100);
  // Number of jobs per state (states with no job are absent).
  std::map<JobState, int> countByState();

 private:
  explicit JobStore(sqlite3* db);
  std::optional<JobRecord> queryOne(const std::string& where, const std::string& arg);
  std::vector<JobRecord> query(const std::string& sql_tail, const std::string& arg, int limit);

  // The writes behind insert/update/requestCancel; the public ones notify.
  Status insertRow(const JobRecord& job);
  Status updateRow(const JobRecord& job);
  Status setCancelRequested(const std::string& id);
  void notify(const std::string& id);

  std::mutex mutex_;  // guards db_
  sqlite3* db_;       // owned; closed in the destructor
  std::mutex observers_mutex_;  // guards observers_ and is held while they run
  std::map<std::uint64_t, Observer> observers_;
  std::uint64_t next_observer_ = 1;
};

std::int64_t nowMillis();

}  // namespace booth
