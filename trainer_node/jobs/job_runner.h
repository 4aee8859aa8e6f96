#pragma once
// JobRunner: runs queued jobs one at a time on its own thread: loads the
// session's frames, builds the training set, creates the model (from the
// warm-start checkpoint when one is configured), fine-tunes it within the
// job's budget, renders the clip and marks the job done. Any failure marks
// the job failed with the reason; the runner goes on with the next job.
//
// Threading: one worker thread owned here; everything it shares goes
// through JobStore (thread-safe).
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "trainer_node/render/clip_renderer.h"
#include "trainer_node/store/job_store.h"
#include "trainer_node/store/session_store.h"
#include "trainer_node/train/pose_to_image_model.h"

namespace booth {

struct JobRunnerConfig {
  ModelConfig model;
  TrainConfig train;
  RenderConfig render;
  std::string device = "cpu";
  std::string warm_start;           // checkpoint path; empty = from scratch
  std::filesystem::path clips_dir;  // where clips are written
  std::string public_url;           // base of clip URLs, e.g. http://127.0.0.1:8080
};

class JobRunner {
 public:
  JobRunner(JobRunnerConfig config, JobStore& jobs, SessionStore& sessions);
  ~JobRunner();
  void start();
  void stop();
  // Runs one job to completion on the calling thread (used by the thread
  // and by tests). The job ends done or failed.
  void runJob(JobRecord job, std::stop_token stop);

 private:
  void loop(std::stop_token stop);
  Status trainAndRender(JobRecord& job, std::stop_token stop);
  void save(JobRecord& job);

  JobRunnerConfig config_;
  JobStore& jobs_;
  SessionStore& sessions_;
  std::jthread thread_;
};

std::string clipUrl(const std::string& public_url, const std::string& token);

}  // namespace booth
