#pragma once
// Pretrainer: `trainer_node pretrain`, which trains the booth's base
// checkpoint that every visitor's fine-tuning starts from. The corpus is
// the built-in synthetic performers x choreographies (synthetic_corpus.h),
// the stored sessions of a trainer's data directory whose visitors agreed
// (stored_sessions.h) and dance videos (video_clips.h); training
// follows the model's schedule by iteration count (reproducible on any
// machine), optionally capped in wall-clock seconds.
//
// Faults: the full training state is saved to "<out>.resume" every
// checkpoint_seconds and on stop; a later run with the same model config
// resumes from it. The base is written to `out` (atomically) at the end,
// and the resume file is removed.
//
// Threading: the run happens on the Pretrainer's own thread; start()
// returns at once, wait() blocks until it ends, stop() asks it to end
// (checkpointing first) and is also what the destructor does. Progress
// lines go to the ostream given at construction, from that thread.
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/core/result.h"
#include "trainer_node/pretrain/synthetic_corpus.h"
#include "trainer_node/pretrain/video_clips.h"
#include "trainer_node/train/model_config.h"

namespace booth {

struct PretrainConfig {
  ModelConfig model;
  // budget_seconds caps the wall-clock time, max_iterations is the schedule.
  TrainConfig train;
  std::string device = "cpu";
  std::filesystem::path out = "base.pt";
  double checkpoint_seconds = 60;
  bool synthetic = true;
  SyntheticCorpusOptions corpus;
  // A trainer's --data-dir: its sessions whose visitors agreed to improve
  // the booth (stored_sessions.h); empty: none.
  std::filesystem::path sessions_dir;
  // Dance videos, posed as import-choreography does (video_clips.h); empty: none.
  std::filesystem::path videos_dir;
  VideoCorpusOptions video;  // its pose path (training options are set by the run)
  // Progress: a bar redrawn in place (a terminal) or a line every
  // progress_seconds (a log).
  bool progress_bar = false;
  double progress_seconds = 30;
};

Status validate(const PretrainConfig& config);

struct PretrainSummary {
  std::int64_t iterations = 0;  // schedule steps (both kinds, --iterations counts these)
  std::int64_t generator_steps = 0;
  std::int64_t face_steps = 0;
  double seconds = 0;
  bool finished = false;  // false: stopped early, "<out>.resume" kept
  std::filesystem::path written;  // out, or the resume file when stopped
};

class Pretrainer {
 public:
  Pretrainer(PretrainConfig config, std::ostream& log);
  ~Pretrainer();
  Pretrainer(const Pretrainer&) = delete;
  Pretrainer& operator=(const Pretrainer&) = delete;

  // Starts the run on the owned thread; `on_done` is called from it at the end.
  void start(std::function<void()> on_done = nullptr);
  void stop();
  // Blocks until the run ended; its result.
  Result<PretrainSummary> wait();

  // The whole run on the calling thread (start() calls this).
  Result<PretrainSummary> run(std::stop_token stop);

  static std::filesystem::path resumePath(const std::filesystem::path& out);

 private:
  PretrainConfig config_;
  std::ostream& log_;
  std::mutex mutex_;  // guards result_
  std::optional<Result<PretrainSummary>> result_;
  std::jthread thread_;
};

}  // namespace booth
