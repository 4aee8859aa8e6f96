// JobStateMachine: the whole transition table (every state x every event),
// then the guards, on a hand-moved clock.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <utility>

#include "trainer_node/jobs/job_state_machine.h"

namespace booth {
namespace {
using S = JobState;
using E = JobEvent;

// The table as the README draws it: (state, event) -> state. Every pair
// not listed is refused.
const std::map<std::pair<S, E>, S>& expectedTable() {
  static const std::map<std::pair<S, E>, S> table = {
      {{S::kReceiving, E::kReceived}, S::kQueued},
      {{S::kReceiving, E::kFail}, S::kFailed},
      {{S::kReceiving, E::kCancel}, S::kCancelled},
      {{S::kQueued, E::kClaim}, S::kClaimed},
      {{S::kQueued, E::kFail}, S::kFailed},
      {{S::kQueued, E::kCancel}, S::kCancelled},
      {{S::kClaimed, E::kStartTraining}, S::kTraining},
      {{S::kClaimed, E::kStartRendering}, S::kRendering},
      {{S::kClaimed, E::kFail}, S::kFailed},
      {{S::kClaimed, E::kCancel}, S::kCancelled},
      {{S::kClaimed, E::kRelease}, S::kQueued},
      {{S::kClaimed, E::kRecover}, S::kQueued},
      {{S::kClaimed, E::kReleaseUnreachable}, S::kQueued},
      {{S::kTraining, E::kStartRendering}, S::kRendering},
      {{S::kTraining, E::kFail}, S::kFailed},
      {{S::kTraining, E::kCancel}, S::kCancelled},
      {{S::kTraining, E::kRelease}, S::kQueued},
      {{S::kTraining, E::kRecover}, S::kQueued},
      {{S::kTraining, E::kReleaseUnreachable}, S::kQueued},
      {{S::kRendering, E::kFinish}, S::kDone},
      {{S::kRendering, E::kFail}, S::kFailed},
      {{S::kRendering, E::kCancel}, S::kCancelled},
      {{S::kRendering, E::kRelease}, S::kQueued},
      {{S::kRendering, E::kRecover}, S::kQueued},
      {{S::kRendering, E::kReleaseUnreachable}, S::kQueued},
      {{S::kDone, E::kExpire}, S::kExpired},
      {{S::kFailed, E::kExpire}, S::kExpired},
      {{S::kCancelled, E::kExpire}, S::kExpired},
  };
  return table;
}

class JobStateMachineTest : public ::testing::Test {
 protected:
  JobFacts facts(S state, int attempts = 1, bool has_clip = true) {
    return JobFacts{"j1", state, attempts, has_clip};
  }
  ManualClock clock_;
  JobStateMachine machine_{JobStateMachineConfig{3}, clock_};
};

TEST_F(JobStateMachineTest, EveryStateAndEventFollowsTheTable) {
  ASSERT_EQ(allJobStates().size(), static_cast<std::size_t>(kJobStateCount));
  ASSERT_EQ(allJobEvents().size(), static_cast<std::size_t>(kJobEventCount));
  int allowed = 0;
  for (S state : allJobStates()) {
    for (E event : allJobEvents()) {
      SCOPED_TRACE(std::string(jobStateName(state)) + " x " + jobEventName(event));
      const auto it = expectedTable().find({state, event});
      EXPECT_EQ(JobStateMachine::target(state, event),
                it == expectedTable().end() ? std::nullopt : std::optional<S>(it->second));
      auto change = machine_.apply(facts(state), event, "a reason");
      if (it == expectedTable().end()) {
        ASSERT_FALSE(change.ok());
        EXPECT_NE(change.error().find(std::string("is ") + jobStateName(state)), std::string::npos)
            << change.error();
        EXPECT_NE(change.error().find(std::string("cannot ") + jobEventName(event)),
                  std::string::npos)
            << change.error();
      } else {
        ASSERT_TRUE(change.ok()) << change.error();
        EXPECT_EQ(change->state, it->second);
        ++allowed;
      }
    }
  }
  EXPECT_EQ(allowed, static_cast<int>(expectedTable().size()));
}

TEST_F(JobStateMachineTest, NamesRoundTripAndUnknownNamesAreRefused) {
  for (S state : allJobStates()) EXPECT_EQ(jobStateFromName(jobStateName(state)), state);
  EXPECT_EQ(jobStateFromName("running"), std::nullopt);
  EXPECT_STREQ(jobStateName(S::kCancelled), "cancelled");
  EXPECT_STREQ(jobStateName(S::kExpired), "expired");
}

TEST_F(JobStateMachineTest, ClaimCountsAnAttemptAndReleaseGivesItBack) {
  auto claimed = machine_.apply(facts(S::kQueued, 1), E::kClaim);
  ASSERT_TRUE(claimed.ok()) << claimed.error();
  EXPECT_EQ(claimed->attempts, 2);
  EXPECT_EQ(claimed->detail, "claimed (attempt 2 of 3)");
  auto released = machine_.apply(facts(S::kTraining, 2), E::kRelease);
  ASSERT_TRUE(released.ok()) << released.error();
  EXPECT_EQ(released->state, S::kQueued);
  EXPECT_EQ(released->attempts, 1);
}

TEST_F(JobStateMachineTest, AReleaseForAnUnreachableStoreKeepsTheAttemptCounted) {
  auto released = machine_.apply(facts(S::kTraining, 2), E::kReleaseUnreachable, "db away");
  ASSERT_TRUE(released.ok()) << released.error();
  EXPECT_EQ(released->state, S::kQueued);
  EXPECT_EQ(released->attempts, 2);
  EXPECT_EQ(released->detail, "db away");
}

TEST_F(JobStateMachineTest, AReleaseForAnUnreachableStoreFailsAJobThatUsedMaxAttempts) {
  auto gone = machine_.apply(facts(S::kRendering, 3), E::kReleaseUnreachable, "db away");
  ASSERT_TRUE(gone.ok()) << gone.error();
  EXPECT_EQ(gone->state, S::kFailed);
  EXPECT_NE(gone->detail.find("3 attempts"), std::string::npos) << gone->detail;
  EXPECT_NE(gone->detail.find("db away"), std::string::npos) << gone->detail;
}

TEST_F(JobStateMachineTest, RecoverQueuesAgainBelowMaxAttempts) {
  auto again = machine_.apply(facts(S::kTraining, 2), E::kRecover);
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_EQ(again->state, S::kQueued);
  EXPECT_EQ(again->attempts, 2);  // the lost run stays counted
}

TEST_F(JobStateMachineTest, RecoverFailsAJobThatUsedMaxAttempts) {
  auto gone = machine_.apply(facts(S::kRendering, 3), E::kRecover);
  ASSERT_TRUE(gone.ok()) << gone.error();
  EXPECT_EQ(gone->state, S::kFailed);
  EXPECT_NE(gone->detail.find("3 times"), std::string::npos) << gone->detail;
  EXPECT_NE(gone->detail.find("rendering"), std::string::npos) << gone->detail;
}

TEST_F(JobStateMachineTest, FinishNeedsAClip) {
  auto refused = machine_.apply(facts(S::kRendering, 1, /*has_clip=*/false), E::kFinish);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("no clip"), std::string::npos) << refused.error();
}

TEST_F(JobStateMachineTest, FailNeedsAReasonAndKeepsIt) {
  EXPECT_FALSE(machine_.apply(facts(S::kTraining), E::kFail, "").ok());
  auto failed = machine_.apply(facts(S::kTraining), E::kFail, "disk full");
  ASSERT_TRUE(failed.ok()) << failed.error();
  EXPECT_EQ(failed->detail, "disk full");
}

TEST_F(JobStateMachineTest, CancelWithoutAReasonSaysTheOperatorDidIt) {
  auto cancelled = machine_.apply(facts(S::kQueued), E::kCancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error();
  EXPECT_EQ(cancelled->detail, "cancelled by the operator");
}

TEST_F(JobStateMachineTest, ExpireKeepsTheDetail) {
  auto expired = machine_.apply(facts(S::kFailed), E::kExpire);
  ASSERT_TRUE(expired.ok()) << expired.error();
  EXPECT_TRUE(expired->detail.empty());  // empty: the store keeps the failure's reason
}

TEST_F(JobStateMachineTest, ChangesAreStampedWithTheInjectedClock) {
  const auto first = machine_.apply(facts(S::kQueued), E::kClaim);
  clock_.advance(std::chrono::seconds(5));
  const auto later = machine_.apply(facts(S::kQueued), E::kClaim);
  ASSERT_TRUE(first.ok() && later.ok());
  EXPECT_EQ(later->at_ms - first->at_ms, 5000);
}

TEST_F(JobStateMachineTest, AFinishedJobRefusesEveryEventButExpire) {
  for (E event : allJobEvents()) {
    if (event == E::kExpire) continue;
    auto change = machine_.apply(facts(S::kDone), event, "x");
    ASSERT_FALSE(change.ok());
    EXPECT_NE(change.error().find("it has finished"), std::string::npos) << change.error();
  }
}

// A job taken from its worker while still loading (claimed) resumes the
// phase it was claimed for: a job waiting for a re-render is not trained
// again from the base.
TEST(ResumePhase, ClaimedKeepsThePhaseItWasClaimedFor) {
  EXPECT_EQ(resumePhaseFrom(JobState::kClaimed, "rendering"), "rendering");
  EXPECT_EQ(resumePhaseFrom(JobState::kClaimed, ""), "training");
  EXPECT_EQ(resumePhaseFrom(JobState::kTraining, "rendering"), "training");
  EXPECT_EQ(resumePhaseFrom(JobState::kRendering, ""), "rendering");
}

}  // namespace
}  // namespace booth

