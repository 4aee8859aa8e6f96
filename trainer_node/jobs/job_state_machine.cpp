#include "trainer_node/jobs/job_state_machine.h"

#include <array>
#include <chrono>

namespace booth {
namespace {

constexpr std::array<const char*, kJobStateCount> kStateNames = {
    "receiving", "queued", "claimed",   "training", "rendering",
    "done",      "failed", "cancelled", "expired"};
constexpr std::array<const char*, kJobEventCount> kEventNames = {
    "received", "claim",  "start_training", "start_rendering", "finish",
    "fail",     "cancel", "release",        "recover",         "expire",
    "release_unreachable"};

constexpr const char* kCancelledByOperator = "cancelled by the operator";

}  // namespace

const char* jobStateName(JobState state) { return kStateNames.at(static_cast<int>(state)); }

std::optional<JobState> jobStateFromName(const std::string& name) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i) {
    if (name == kStateNames[i]) return static_cast<JobState>(i);
  }
  return std::nullopt;
}

const char* jobEventName(JobEvent event) { return kEventNames.at(static_cast<int>(event)); }

bool isFinished(JobState state) {
  return state == JobState::kDone || state == JobState::kFailed ||
         state == JobState::kCancelled || state == JobState::kExpired;
}

bool isRunning(JobState state) {
  return state == JobState::kClaimed || state == JobState::kTraining ||
         state == JobState::kRendering;
}

std::string resumePhaseFrom(JobState from, const std::string& current) {
  if (from == JobState::kRendering) return "rendering";
  if (from == JobState::kClaimed && !current.empty()) return current;
  return "training";
}

std::vector<JobState> allJobStates() {
  std::vector<JobState> out;
  for (int i = 0; i < kJobStateCount; ++i) out.push_back(static_cast<JobState>(i));
  return out;
}

std::vector<JobEvent> allJobEvents() {
  std::vector<JobEvent> out;
  for (int i = 0; i < kJobEventCount; ++i) out.push_back(static_cast<JobEvent>(i));
  return out;
}

JobStateMachine::JobStateMachine(JobStateMachineConfig config, const Clock& clock)
    : config_(config), clock_(clock) {}

std::optional<JobState> JobStateMachine::target(JobState from, JobEvent event) {
  const bool live = !isFinished(from);
  switch (event) {
    case JobEvent::kReceived:
      if (from == JobState::kReceiving) return JobState::kQueued;
      break;
    case JobEvent::kClaim:
      if (from == JobState::kQueued) return JobState::kClaimed;
      break;
    case JobEvent::kStartTraining:
      if (from == JobState::kClaimed) return JobState::kTraining;
      break;
    case JobEvent::kStartRendering:
      if (from == JobState::kClaimed || from == JobState::kTraining) return JobState::kRendering;
      break;
    case JobEvent::kFinish:
      if (from == JobState::kRendering) return JobState::kDone;
      break;
    case JobEvent::kFail:
      if (live) return JobState::kFailed;
      break;
    case JobEvent::kCancel:
      if (live) return JobState::kCancelled;
      break;
    case JobEvent::kRelease:
    case JobEvent::kRecover:
    case JobEvent::kReleaseUnreachable:
      if (isRunning(from)) return JobState::kQueued;
      break;
    case JobEvent::kExpire:
      if (from == JobState::kDone || from == JobState::kFailed || from == JobState::kCancelled)
        return JobState::kExpired;
      break;
  }
  return std::nullopt;
}

Result<JobChange> JobStateMachine::apply(const JobFacts& job, JobEvent event,
                                         const std::string& reason) const {
  const auto to = target(job.state, event);
  auto refuse = [&](const std::string& why) {
    return fail("job '" + job.id + "' is " + jobStateName(job.state) + ": cannot " +
                jobEventName(event) + " (" + why + ")");
  };
  if (!to) {
    return refuse(isFinished(job.state) ? "it has finished"
                                        : "not a transition from this state");
  }
  JobChange change;
  change.state = *to;
  change.attempts = job.attempts;
  change.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                     clock_.wall().time_since_epoch())
                     .count();
  change.detail = reason;
  switch (event) {
    case JobEvent::kReceived:
      if (change.detail.empty()) change.detail = "queued for training";
      break;
    case JobEvent::kClaim:
      change.attempts = job.attempts + 1;
      if (change.detail.empty()) {
        change.detail = "claimed (attempt " + std::to_string(change.attempts) + " of " +
                        std::to_string(config_.max_attempts) + ")";
      }
      break;
    case JobEvent::kStartTraining:
    case JobEvent::kStartRendering:
      break;
    case JobEvent::kFinish:
      if (!job.has_clip) return refuse("no clip was written");
      if (change.detail.empty()) change.detail = "clip ready";
      break;
    case JobEvent::kFail:
      if (reason.empty()) return refuse("a failure needs a reason");
      break;
    case JobEvent::kCancel:
      if (change.detail.empty()) change.detail = kCancelledByOperator;
      break;
    case JobEvent::kRelease:
      // A clean stop is not the job's fault: the claim is given back.
      change.attempts = job.attempts > 0 ? job.attempts - 1 : 0;
      if (change.detail.empty()) change.detail = "released by its worker; resumes later";
      break;
    case JobEvent::kRecover:
      if (job.attempts >= config_.max_attempts) {
        change.state = JobState::kFailed;
        change.detail = "its worker stopped without finishing it " +
                        std::to_string(job.attempts) + " times (crashed or lost while " +
                        jobStateName(job.state) + " the last time); giving up" +
                        (reason.empty() ? "" : ": " + reason);
      } else if (change.detail.empty()) {
        change.detail = "its worker was lost while " + std::string(jobStateName(job.state)) +
                        "; queued again";
      }
      break;
    case JobEvent::kReleaseUnreachable:
      // Not the job's fault, but the attempt stays counted: a stage that
      // breaks the connection the same way every time must end.
      if (job.attempts >= config_.max_attempts) {
        change.state = JobState::kFailed;
        change.detail = "the shared store could not be reached in " +
                        std::to_string(job.attempts) + " attempts (the last one while " +
                        jobStateName(job.state) + "); giving up" +
                        (reason.empty() ? "" : ": " + reason);
      } else if (change.detail.empty()) {
        change.detail = "released by its worker: the shared store could not be reached";
      }
      break;
    case JobEvent::kExpire:
      break;  // the detail (a failure's reason) stays
  }
  return change;
}

}  // namespace booth
