#pragma once
// JobStateMachine: the one owner of a job's state. Every change of a job's
// state in the trainer is an event given to this machine; the job store
// applies what it answers, in the same transaction as the rest of the row.
// No I/O, no threads: time comes from the injected Clock, so the whole
// transition table is unit-tested by hand.
//
//   receiving --received--> queued --claim--> claimed --start_training--> training
//                                                 |                          |
//                                                 +--start_rendering--> rendering --finish--> done
//   training --start_rendering--> rendering
//   receiving, queued, claimed, training, rendering --fail(reason)--> failed
//   receiving, queued, claimed, training, rendering --cancel--> cancelled
//   claimed, training, rendering --release--> queued    (the worker stops cleanly: the
//                                                         attempt is given back)
//   claimed, training, rendering --release_unreachable--> queued (the shared store could
//                                   or failed        not be reached: the attempt stays
//                                                    counted; failed once the job has used
//                                                    max_attempts, so a stage that breaks
//                                                    the connection every time ends)
//   claimed, training, rendering --recover--> queued    (the worker was lost: crash, restart,
//                                   or failed        lease expired; failed once the job has
//                                                    used max_attempts)
//   done, failed, cancelled --expire--> expired           (retention or the operator deleted
//                                                          the visitor's data)
//
// Guards: claim counts an attempt; recover and release_unreachable fail the
// job when its attempts reached max_attempts; finish needs a clip; fail needs a reason. Anything
// else is refused with an error naming the job's state and the event.
//
// Threading: immutable after construction; any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/core/clock.h"
#include "common/core/result.h"

namespace booth {

enum class JobState {
  kReceiving,  // the capture nodes are sending the session
  kQueued,     // complete and verified, waiting for a worker
  kClaimed,    // a worker took it and is loading its frames
  kTraining,
  kRendering,
  kDone,       // the clip is ready
  kFailed,     // with a reason
  kCancelled,  // by the operator
  kExpired,    // finished, and the visitor's data has been deleted
};
inline constexpr int kJobStateCount = 9;
const char* jobStateName(JobState state);  // "receiving", "queued", ...
std::optional<JobState> jobStateFromName(const std::string& name);
// done, failed, cancelled, expired: nothing runs any more.
bool isFinished(JobState state);
// claimed, training, rendering: a worker holds the job.
bool isRunning(JobState state);
// Where a running job taken from its worker (released or recovered) in
// `from` resumes: "rendering" from rendering, "training" from training
// (from its checkpoint, if any). A job taken while still `claimed` (its
// worker was loading) keeps the phase it was claimed to resume, `current`,
// so a job waiting for a re-render is not trained again; "training" when it
// had none. JobRecord::resume_phase.
std::string resumePhaseFrom(JobState from, const std::string& current);

enum class JobEvent {
  kReceived,        // every capture node closed the session and it verified
  kClaim,           // a worker takes the oldest queued job
  kStartTraining,
  kStartRendering,
  kFinish,          // the clip is written
  kFail,            // with the reason
  kCancel,          // the operator cancelled it
  kRelease,         // the worker stops cleanly (trainer shutdown); resumes later
  kRecover,         // the worker that held it is gone (restart, crash, lost lease)
  kExpire,          // the visitor's data was deleted
  kReleaseUnreachable,  // the worker gives it back: the shared store could not be reached
};
inline constexpr int kJobEventCount = 11;
const char* jobEventName(JobEvent event);
std::vector<JobState> allJobStates();
std::vector<JobEvent> allJobEvents();

struct JobStateMachineConfig {
  // A job that was claimed this many times without finishing (its worker
  // crashed, or the trainer died under it) is failed at the next recover.
  int max_attempts = 3;
};

// What the guards look at.
struct JobFacts {
  std::string id;  // for errors
  JobState state = JobState::kReceiving;
  int attempts = 0;       // claims that did not end in a release
  bool has_clip = false;  // the clip is written (finish)
};

// What the store writes.
struct JobChange {
  JobState state = JobState::kReceiving;
  std::string detail;       // the job's new detail line (why, for failed and cancelled);
                            // empty: the job keeps the detail it has
  int attempts = 0;         // the new count
  std::int64_t at_ms = 0;   // wall-clock milliseconds since the epoch (the injected clock)
};

class JobStateMachine {
 public:
  explicit JobStateMachine(JobStateMachineConfig config = {},
                           const Clock& clock = SystemClock::instance());

  // The change `event` makes to `job`, or why it is refused (naming the
  // job, its state and the event). `reason` is the detail for fail and
  // cancel (and, when given, for the other events).
  Result<JobChange> apply(const JobFacts& job, JobEvent event,
                          const std::string& reason = {}) const;

  // The unguarded table: where `event` leads from `from`, nullopt when it
  // is not a transition at all. recover lists its usual target, queued.
  static std::optional<JobState> target(JobState from, JobEvent event);

  const JobStateMachineConfig& config() const { return config_; }

 private:
  JobStateMachineConfig config_;
  const Clock& clock_;
};

}  // namespace booth
