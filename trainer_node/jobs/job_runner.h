#pragma once
// JobRunner: a worker. Takes queued jobs from the JobQueue one at a time
// (claim with a lease) and runs each on its own thread: loads the session's
// frames (SessionFrameSource: the data folder's session files, or with a
// shared database the ingest's segment blobs, materialized into the scratch
// folder and checked complete first), builds the training set (the session's last frames held out),
// creates the model from the booth's base checkpoint, fine-tunes it, keeps
// the best weights, renders the clip and marks the job done. Any failure
// fails the job with the reason; the runner goes on with the next job.
// Every change of the job goes through the queue's worker writes (advance,
// progress, checkpoint, finish, fail, release), each checked against the
// claim's fence (trainer_node/jobs/job_queue.h).
//
// Any number of runners, in one process or many (on PostgreSQL), share one
// queue: each claims with its own worker id.
//
// Lease: the claim holds the job for `lease` (30 s). A thread of the job
// renews it every lease/3, and the training and render loops renew it too
// (at most once a second, which is also how a cancel is noticed). A runner
// whose process dies stops renewing: once the lease has run out, the
// periodic recoverExpired() sweep of any worker process (every 2 s, or
// lease/3 when shorter) queues the job again, and the next worker resumes it: from the last
// published checkpoint when it was training (charged only the budget it
// has left: the schedule keeps the length planned at its start), or
// rendered again from the trained model.
//
// Lost jobs: when a write, a heartbeat or a fenced blob commit says the
// claim is lost (kFenced: claimed again since; kNotRunning: cancelled,
// failed or recovered), the runner stops the job at once and publishes
// nothing: no checkpoint, no clip, no done. lostJobs() counts them.
//
// Blobs: the training state, the trained model and the clip are written to
// the worker's own scratch folder (work_dir/<worker id>) by the libraries
// that make them, then published to the BlobStore under
//   sessions/<session>/train_state.pt   (checkpointBlobKey)
//   sessions/<session>/generator.pt     (modelBlobKey)
//   clips/<token>.mp4                   (clipBlobKey, store/clip_names.h)
// each with the queue's fenceCheck(claim) as its BeforeCommit hook: a
// worker that lost its lease can never publish. With a LocalBlobStore
// rooted at the data folder these are the files the HTTP side and the
// retention sweeper already know (the clip's clip_path is its file). The
// job record's checkpoint_path and model_path hold blob keys.
//
// Budget: a job's budget (its budget_seconds, else TrainConfig's) is
// wall-clock time for the whole job: loading, training and rendering. The
// training schedule gets what is left after loading and a measured
// estimate of the render.
//
// Stop: a runner stopped while running a job saves and publishes the
// training state, then releases the job (back to queued, the attempt given
// back, resume_phase set) for any worker to resume.
//
// Poison: anything a job's stages throw (a bad_alloc in a decode, a
// filesystem_error, a c10::Error) fails that job with the reason, and the
// runner goes on; the threads have last-resort catches of their own. A
// full disk fails the job "disk full: ...". A job that crashes its worker
// every time fails after max_attempts claims (the queue's recover).
//
// Database unavailable: progress writes are skipped; the stage writes
// (advance, checkpoint, finish, fail, release), loading the frames and
// fetching the training state or trained model of an earlier attempt from
// the blob store are retried with back-off (0.5 s doubling to 5 s) while
// the claim's lease lasts (a missing or damaged segment fails at once). A
// stage whose store stays unreachable releases the job with its state
// kept (ReleaseCause::kStoreUnreachable: the attempt stays counted, so a
// stage that breaks the connection every time fails at max_attempts).
//
// Idle: a worker with nothing to do sleeps until the queue announces a
// change (its observer: PostgreSQL's NOTIFY, or the embedded store's write),
// polling every 2 s besides.
//
// Threading: start() runs the jobs on one thread and the sweeps (worker
// heartbeat every lease/3, recoverExpired) on another; a running job adds its lease
// thread. Everything shared goes through JobQueue and BlobStore
// (thread-safe).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "trainer_node/jobs/job_queue.h"
#include "trainer_node/render/clip_renderer.h"
#include "trainer_node/store/blob_store.h"
#include "trainer_node/store/session_frame_source.h"
#include "trainer_node/train/pose_to_image_model.h"

namespace booth {

struct JobRunnerConfig {
  ModelConfig model;
  TrainConfig train;  // budget_seconds: the default whole-job budget
  RenderConfig render;
  std::string device = "cpu";
  std::string base_checkpoint;      // the booth's base; empty = from scratch
  double held_out_fraction = 0.1;   // of the session's frames, at its end
  double checkpoint_seconds = 30;   // training state saved (and published) this often
  // Scratch files of the running job go in work_dir/<worker_id>; removed
  // after each job, and folders of workers idle for a day at start.
  std::filesystem::path work_dir;
  std::string public_url;           // base of clip URLs, e.g. http://127.0.0.1:8080
  // This worker's name in the queue (claims, the live-worker count); empty:
  // host-pid-random.
  std::string worker_id;
  std::chrono::milliseconds lease{30000};
  // The clock, in seconds (steady_clock when empty); tests inject one.
  std::function<double()> now_seconds;
  // Test seam: called at the start of each stage of a job ("load",
  // "train", "render"); whatever it throws or returns as an error is what
  // that stage would have thrown or failed with. Empty in production.
  std::function<Status(const std::string& stage)> stage_hook;
};

// Start-up checks that need libtorch: the device exists, the model config
// is valid there, the base checkpoint loads into it. One line on failure.
Status preflight(const JobRunnerConfig& config);

// The blob keys of a session's training state and trained model.
std::string checkpointBlobKey(const std::string& session_id);
std::string modelBlobKey(const std::string& session_id);
// host-pid-random, in blob-key-safe characters.
std::string newWorkerId();

class JobLease;

class JobRunner {
 public:
  JobRunner(JobRunnerConfig config, JobQueue& queue, BlobStore& blobs,
            SessionFrameSource& sessions);
  ~JobRunner();
  // Call once before start(): removes scratch folders left by dead workers
  // and runs one recoverExpired() sweep (with the embedded queue after a
  // restart: every job the last run left claimed, training or rendering).
  // Returns how many jobs it recovered (queued again, or failed at
  // max_attempts).
  int recoverInterrupted();
  void start();
  void stop();
  // Claims the oldest queued job and runs it on the calling thread (used by
  // the thread and by tests). It ends done, failed or cancelled, is
  // released back to the queue when `stop` came first, or is dropped when
  // the claim was lost. false when no job was queued.
  bool runNext(std::stop_token stop);

  const std::string& workerId() const { return config_.worker_id; }
  // Jobs this runner stopped because their claim was lost (fenced, or no
  // longer running), publishing nothing.
  int lostJobs() const { return lost_jobs_; }

 private:
  void loop(std::stop_token stop);
  void sweep(std::stop_token stop);
  void runJob(JobQueue::Claimed claimed, std::stop_token stop);
  // Ends a job that did not finish: released, cancelled, failed or dropped.
  void endJob(JobRecord& job, JobLease& lease, const std::string& error, std::stop_token stop);
  Status runStages(JobRecord& job, JobLease& lease, std::stop_token stop);
  Status stage(const std::string& name);
  std::filesystem::path scratchDir() const;

  JobRunnerConfig config_;
  JobQueue& queue_;
  BlobStore& blobs_;
  SessionFrameSource& sessions_;
  std::atomic<int> lost_jobs_{0};
  int claim_failures_ = 0;  // claims failed in a row (the thread of runNext only)
  // An idle loop sleeps until a change in the queue (its observer) wakes it.
  std::uint64_t observer_ = 0;
  std::mutex wake_mutex_;
  std::condition_variable_any wake_;
  bool woken_ = false;  // guarded by wake_mutex_
  std::jthread sweeper_;
  std::jthread thread_;
};

}  // namespace booth
