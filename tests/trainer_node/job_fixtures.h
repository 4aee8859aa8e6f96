#pragma once
// Puts a job into the store in any state the way the trainer does: inserted
// receiving, then walked through the state machine's events. Fields of the
// record (clip, timings, detail as the failure's reason) are kept.
#include <string>
#include <vector>

#include "trainer_node/store/job_store.h"

namespace booth::test {

inline std::vector<JobEvent> pathTo(JobState state) {
  using E = JobEvent;
  switch (state) {
    case JobState::kReceiving:
      return {};
    case JobState::kQueued:
      return {E::kReceived};
    case JobState::kClaimed:
      return {E::kReceived, E::kClaim};
    case JobState::kTraining:
      return {E::kReceived, E::kClaim, E::kStartTraining};
    case JobState::kRendering:
      return {E::kReceived, E::kClaim, E::kStartRendering};
    case JobState::kDone:
      return {E::kReceived, E::kClaim, E::kStartRendering, E::kFinish};
    case JobState::kFailed:
      return {E::kFail};
    case JobState::kCancelled:
      return {E::kCancel};
    case JobState::kExpired:
      return {E::kFail, E::kExpire};
  }
  return {};
}

// Inserts `job` and moves it to job.state. Returns the error of the first
// step that failed.
inline Status insertInState(JobStore& store, JobRecord job) {
  const JobState target = job.state;
  const std::string detail = job.detail.empty() ? "failed in a test" : job.detail;
  job.state = JobState::kReceiving;
  if (auto st = store.insert(job); !st.ok()) return st;
  for (JobEvent event : pathTo(target)) {
    const std::string reason =
        event == JobEvent::kFail || event == JobEvent::kCancel ? detail : job.detail;
    if (auto st = store.transition(job, event, reason); !st.ok()) return st;
  }
  return okStatus();
}

}  // namespace booth::test
