#pragma once
// JobRecord: one visitor's job as every part of the trainer sees it: what
// was asked, what was received, where it stands and what it made. A plain
// value; the job store keeps it, and only the store changes `state`,
// `attempts` and `fence` (through JobStateMachine and the claim).
#include <cstdint>
#include <string>
#include <vector>

#include "trainer_node/jobs/job_state_machine.h"

namespace booth {

// Frames one camera of one node sent for the session.
struct CameraFrames {
  std::string node;
  std::string camera;
  std::int64_t frames = 0;
  bool operator==(const CameraFrames&) const = default;
};

struct JobRecord {
  std::string id;
  std::string session_id;
  JobState state = JobState::kReceiving;
  std::string detail;  // what is happening now, or why it failed
  // Request.
  double capture_seconds_requested = 15;
  double train_budget_seconds = 0;
  std::string choreography;
  std::vector<std::string> nodes;  // capture nodes asked to capture
  // Progress of the current state.
  double progress = 0;
  float loss_g = 0, loss_d = 0, loss_l1 = 0;
  double eta_seconds = 0;
  // The two kinds of training step, counted and timed apart (a face-GAN
  // step costs a small fraction of a generator step; their sum means
  // nothing). Rates: steps per wall-clock second of that phase.
  std::int64_t generator_steps = 0, face_steps = 0;
  double generator_steps_per_second = 0, face_steps_per_second = 0;
  // Received data, per camera (node id, then camera id).
  std::vector<CameraFrames> cameras;
  std::int64_t frames_received = 0;
  // Timings in seconds, filled in as the job goes.
  double capture_seconds = 0, pose_seconds = 0, transfer_seconds = 0;
  double train_seconds = 0, render_seconds = 0;
  // Result.
  std::string clip_token;  // unguessable, names the clip (store/clip_names.h)
  std::string clip_path;  // its file (local blob store) or its blob key (PostgreSQL)
  int clip_frames = 0, clip_width = 0, clip_height = 0;
  std::int64_t clip_bytes = 0;
  // Resume after a lost worker (the job runner's bookkeeping).
  double budget_spent_seconds = 0;   // job time charged so far, all runs together
  double train_budget_planned = 0;   // length of the training schedule, fixed at its start
  std::string resume_phase;          // "training" or "rendering" when re-queued after a loss
  std::string checkpoint_path;       // blob key of the training state, published periodically
  std::string model_path;            // blob key of the trained model the clip is rendered from
  // Claims that did not end in a clean release (JobStateMachine).
  int attempts = 0;
  // Bumped by every claim. A copy of the record carries the fence it was
  // read with; the store refuses a write from a copy whose fence is stale
  // (its worker lost the job to a later claim), so it can never publish.
  std::uint64_t fence = 0;
  // Wall-clock milliseconds since the epoch.
  std::int64_t created_ms = 0, updated_ms = 0;
  // When retention (or the operator) deleted the visitor's frames, model and
  // clip; 0 while they exist. A purged job's clip link answers 404.
  std::int64_t purged_ms = 0;
  // The visitor's choice at the booth (off unless the operator ticked it):
  // their frames and poses may be kept after the clip is gone, for
  // `trainer_node pretrain --sessions`, until --consented-retention-days
  // after the session or until withdrawn. Like the state, these change only
  // through the store's own calls (withdrawConsent, expire, markFramesPurged),
  // never through update().
  bool may_improve_booth = false;
  std::int64_t consent_withdrawn_ms = 0;  // when the visitor withdrew it; 0: never
  // When the frames and poses were deleted; 0 while they are stored. Equal
  // to purged_ms unless consent kept them longer than the clip.
  std::int64_t frames_purged_ms = 0;
  // The ingest gateway that receives the session (IngestConfig::gateway_id):
  // after a restart a gateway reopens only its own receiving jobs. Empty in
  // jobs made before gateways were named (any gateway reopens those).
  std::string gateway_id;
};

// Whether the visitor agreed to improve the booth and has not withdrawn it.
bool consentHolds(const JobRecord& job);

// The camera a job trains on: the first (by node id, then camera id) that
// sent frames; nullptr when none did.
const CameraFrames* primaryCamera(const JobRecord& job);

// The typed lists as the stores keep them (JSON arrays: SQLite text,
// PostgreSQL jsonb). Invalid UTF-8 is replaced; reading skips what is not
// well-formed (a non-array gives an empty list, an entry of the wrong type
// is passed over) instead of throwing.
std::string nodesToJson(const std::vector<std::string>& nodes);
std::vector<std::string> nodesFromJson(const std::string& text);
std::string camerasToJson(const std::vector<CameraFrames>& cameras);
std::vector<CameraFrames> camerasFromJson(const std::string& text);

}  // namespace booth
