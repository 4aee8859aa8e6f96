#pragma once
// JobRunner: runs queued jobs one at a time on its own thread: loads the
// session's frames, builds the training set (the session's last frames
// held out), creates the model from the booth's base checkpoint,
// fine-tunes it, keeps the best weights, renders the clip and marks the job
// done. Any failure marks the job failed with the reason; the runner goes
// on with the next job. Every change of the job's state is an event to the
// job store's state machine (trainer_node/jobs/job_state_machine.h):
// claim (queued -> claimed, an attempt counted) before anything that can
// fail, start_training once the frames are loaded and the model built,
// start_rendering, finish; fail, cancel or release when it ends otherwise.
//
// Budget: a job's budget (its budget_seconds, else TrainConfig's) is
// wall-clock time for the whole job: loading, training and rendering. The
// training schedule gets what is left after loading and a measured
// estimate of the render.
//
// Faults: while training, the full training state is saved to the session
// folder every checkpoint_seconds. When the trainer stops cleanly, the job
// is released (back to queued, the attempt given back, resume_phase set);
// when it dies, the job stays claimed/training/rendering and
// recoverInterrupted() at the next start recovers it: queued again, or
// failed once it has been claimed max_attempts times (a job that crashes
// its worker every time does not crash the trainer for ever). A resumed
// job continues from its last checkpoint, charged only the budget it has
// left, or is rendered again from the saved model. Clips are written under
// a temporary name and renamed when complete (see clip_renderer.h).
//
// Poison: anything a job's stages throw (a bad_alloc in a decode, a
// filesystem_error, a c10::Error) fails that job with the reason, and the
// runner goes on; the thread has a last-resort catch of its own. A full
// disk fails the job "disk full: ..."; when the store cannot write even
// that, it keeps the failure in memory and writes it once space allows.
//
// Cancel: an operator's JobStore::requestCancel() is seen within a second
// while loading, training or rendering; the job fails with "cancelled by
// the operator" and no clip is left.
//
// Threading: one worker thread owned here; everything it shares goes
// through JobStore (thread-safe). Every artefact of a job lives under the
// session's folder (SessionStore::sessionDir) or is the clip.
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>
#include <thread>

#include "trainer_node/render/clip_renderer.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/session_store.h"
#include "trainer_node/train/pose_to_image_model.h"

namespace booth {

struct JobRunnerConfig {
  ModelConfig model;
  TrainConfig train;  // budget_seconds: the default whole-job budget
  RenderConfig render;
  std::string device = "cpu";
  std::string base_checkpoint;      // the booth's base; empty = from scratch
  double held_out_fraction = 0.1;   // of the session's frames, at its end
  double checkpoint_seconds = 30;   // training state saved this often
  std::filesystem::path clips_dir;  // where clips are written
  std::string public_url;           // base of clip URLs, e.g. http://127.0.0.1:8080
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

class JobRunner {
 public:
  JobRunner(JobRunnerConfig config, JobStore& jobs, SessionStore& sessions);
  ~JobRunner();
  // Call once before start(): recovers jobs a previous process left
  // claimed, training or rendering (JobEvent::kRecover: queued again, or
  // failed at max_attempts), and removes partial clips. Returns how many
  // jobs will be resumed.
  int recoverInterrupted();
  void start();
  void stop();
  // Claims the oldest queued job and runs it on the calling thread (used by
  // the thread and by tests). It ends done, failed or cancelled, or is
  // released back to the queue when `stop` came first. false when no job
  // was queued.
  bool runNext(std::stop_token stop);

 private:
  void loop(std::stop_token stop);
  void runJob(JobRecord job, std::stop_token stop);
  // Ends a job that did not finish: released, cancelled or failed.
  void endJob(JobRecord& job, const std::string& error, std::stop_token stop);
  Status runStages(JobRecord& job, std::stop_token stop);
  Status stage(const std::string& name);
  // Writes the job's progress; false when the job is no longer the
  // runner's (cancelled, failed elsewhere): it must stop.
  bool save(JobRecord& job);

  JobRunnerConfig config_;
  JobStore& jobs_;
  SessionStore& sessions_;
  bool lost_ = false;  // the running job is no longer this runner's (runner thread only)
  std::jthread thread_;
};

}  // namespace booth
