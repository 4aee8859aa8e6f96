#pragma once
// JobRunner: runs queued jobs one at a time on its own thread: loads the
// session's frames, builds the training set (the session's last frames
// held out), creates the model from the booth's base checkpoint,
// fine-tunes it, keeps the best weights, renders the clip and marks the job
// done. Any failure marks the job failed with the reason; the runner goes
// on with the next job.
//
// Budget: a job's budget (its budget_seconds, else TrainConfig's) is
// wall-clock time for the whole job: loading, training and rendering. The
// training schedule gets what is left after loading and a measured
// estimate of the render.
//
// Faults: while training, the full training state is saved to the session
// folder every checkpoint_seconds. When the trainer stops (or dies), the
// job stays "training" or "rendering" in the job store; at the next start
// recoverInterrupted() re-queues it and it continues from its last
// checkpoint, charged only the budget it has left, or is rendered again
// from the saved model. Clips are written under a temporary name and
// renamed when complete (see clip_renderer.h).
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
};

// Start-up checks that need libtorch: the device exists, the model config
// is valid there, the base checkpoint loads into it. One line on failure.
Status preflight(const JobRunnerConfig& config);

class JobRunner {
 public:
  JobRunner(JobRunnerConfig config, JobStore& jobs, SessionStore& sessions);
  ~JobRunner();
  // Call once before start(): re-queues jobs a previous process left in
  // training or rendering, and removes partial clips. Returns how many
  // jobs will be resumed.
  int recoverInterrupted();
  void start();
  void stop();
  // Runs one job on the calling thread (used by the thread and by tests).
  // It ends done or failed, or stays training/rendering when `stop` came
  // first (then recoverInterrupted() resumes it at the next start).
  void runJob(JobRecord job, std::stop_token stop);

 private:
  void loop(std::stop_token stop);
  Status runStages(JobRecord& job, std::stop_token stop);
  void save(JobRecord& job);

  JobRunnerConfig config_;
  JobStore& jobs_;
  SessionStore& sessions_;
  std::jthread thread_;
};

std::string clipUrl(const std::string& public_url, const std::string& token);

}  // namespace booth
