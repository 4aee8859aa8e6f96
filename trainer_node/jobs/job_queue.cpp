#include "trainer_node/jobs/job_queue.h"

#include <algorithm>

namespace booth {

const char* jobQueueErrorName(JobQueueError error) {
  switch (error) {
    case JobQueueError::kNotFound:
      return "not found";
    case JobQueueError::kRefused:
      return "refused";
    case JobQueueError::kFenced:
      return "fenced";
    case JobQueueError::kNotRunning:
      return "not running";
    case JobQueueError::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

void applyProgress(JobRecord& j, const JobProgress& p) {
  if (!p.detail.empty()) j.detail = p.detail;
  j.progress = p.progress;
  j.generator_steps = p.generator_steps;
  j.face_steps = p.face_steps;
  j.generator_steps_per_second = p.generator_steps_per_second;
  j.face_steps_per_second = p.face_steps_per_second;
  j.loss_g = p.loss_g;
  j.loss_d = p.loss_d;
  j.loss_l1 = p.loss_l1;
  j.eta_seconds = p.eta_seconds;
  j.budget_spent_seconds = p.budget_spent_seconds;
}

void applyCheckpoint(JobRecord& j, const JobCheckpoint& c) {
  j.checkpoint_path = c.checkpoint_path;
  j.model_path = c.model_path;
  j.budget_spent_seconds = c.budget_spent_seconds;
  j.train_budget_planned = c.train_budget_planned;
  j.train_seconds = c.train_seconds;
}

void applyClip(JobRecord& j, const JobClip& c) {
  j.clip_token = c.clip_token;
  j.clip_path = c.clip_path;
  j.clip_frames = c.frames;
  j.clip_width = c.width;
  j.clip_height = c.height;
  j.clip_bytes = c.bytes;
  j.render_seconds = c.render_seconds;
  j.budget_spent_seconds = c.budget_spent_seconds;
  j.progress = 1;
  j.eta_seconds = 0;
}

std::optional<double> queueWaitSeconds(int position, int live_workers, double job_seconds) {
  if (live_workers <= 0 || position <= 0) return std::nullopt;
  // Jobs ahead of it: position - 1. Each worker finishes its current job
  // (half of one, on average) and then the ones ahead of it in turn.
  const int rounds_ahead = (position - 1) / live_workers;
  return std::max(0.0, job_seconds) * (0.5 + rounds_ahead);
}

}  // namespace booth
