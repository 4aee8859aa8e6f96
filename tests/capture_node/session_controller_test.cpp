// SessionController: the node's session state machine on a hand-moved clock.
#include <gtest/gtest.h>

#include "capture_node/session/session_controller.h"

namespace booth {
namespace {
using namespace std::chrono_literals;
using Kind = ControllerAction::Kind;

class SessionControllerTest : public ::testing::Test {
 protected:
  SessionControllerConfig config() {
    SessionControllerConfig c;
    c.max_capture_seconds = 60;
    c.manifest_resend = 3s;
    c.trainer_silence = 4s;
    return c;
  }
  static bool has(const ControllerActions& a, Kind kind, const std::string& id = {}) {
    for (const auto& x : a) {
      if (x.kind == kind && (id.empty() || x.session_id == id)) return true;
    }
    return false;
  }
  ManualClock clock_;
};

TEST_F(SessionControllerTest, CapturesUntilTheDeadlineThenDrainsClosesAndEnds) {
  SessionController c(config(), clock_);
  auto start = c.onSessionStart("s1", 15);
  ASSERT_EQ(start.size(), 1u);
  EXPECT_EQ(start[0].kind, Kind::kStartCapture);
  EXPECT_DOUBLE_EQ(start[0].seconds, 15);
  EXPECT_EQ(c.phase("s1"), SessionPhase::kCapturing);
  EXPECT_EQ(c.streaming(), std::vector<std::string>{"s1"});  // frames leave during capture
  clock_.advance(14s);
  EXPECT_TRUE(c.tick().empty());
  clock_.advance(1s);
  EXPECT_TRUE(has(c.tick(), Kind::kStopCapture, "s1"));
  EXPECT_EQ(c.phase("s1"), SessionPhase::kDraining);
  EXPECT_TRUE(has(c.onDrained("s1"), Kind::kSendManifest, "s1"));
  EXPECT_EQ(c.phase("s1"), SessionPhase::kClosing);
  EXPECT_TRUE(has(c.onManifestAck("s1", true, ""), Kind::kDeleteSpool, "s1"));
  EXPECT_FALSE(c.phase("s1"));
  EXPECT_EQ(c.sessionsEnded(), 1u);
}

TEST_F(SessionControllerTest, TooLongOrNonsenseCapturesAreRefused) {
  SessionController c(config(), clock_);
  for (double seconds : {0.0, -1.0, 61.0, 1e300}) {
    auto a = c.onSessionStart("s" + std::to_string(seconds), seconds);
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].kind, Kind::kRefuse) << seconds;
    EXPECT_NE(a[0].reason.find("at most 60"), std::string::npos) << a[0].reason;
  }
  EXPECT_FALSE(c.capturing());
}

TEST_F(SessionControllerTest, ASecondCaptureWhileCapturingIsRefusedARepeatIsIgnored) {
  SessionController c(config(), clock_);
  c.onSessionStart("s1", 10);
  EXPECT_TRUE(c.onSessionStart("s1", 10).empty());
  auto second = c.onSessionStart("s2", 10);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].kind, Kind::kRefuse);
}

TEST_F(SessionControllerTest, ANewCaptureMayStartWhileTheLastOneStillStreams) {
  SessionController c(config(), clock_);
  c.onSessionStart("s1", 1);
  clock_.advance(2s);
  c.tick();
  EXPECT_TRUE(has(c.onSessionStart("s2", 1), Kind::kStartCapture, "s2"));
  EXPECT_EQ(c.streaming(), (std::vector<std::string>{"s1", "s2"}));  // oldest first
}

TEST_F(SessionControllerTest, TheManifestGoesAgainUntilAnswered) {
  SessionController c(config(), clock_);
  c.onTrainerHeard();
  c.onSessionStart("s1", 1);
  clock_.advance(1s);
  c.tick();
  c.onDrained("s1");
  clock_.advance(2s);
  c.onTrainerHeard();
  EXPECT_FALSE(has(c.tick(), Kind::kSendManifest));
  clock_.advance(1s);
  EXPECT_TRUE(has(c.tick(), Kind::kSendManifest, "s1"));
}

TEST_F(SessionControllerTest, TheTrainerStoppingASessionEndsCaptureAndSpool) {
  SessionController c(config(), clock_);
  c.onSessionStart("s1", 10);
  auto a = c.onSessionStop("s1", "cancelled by the operator");
  EXPECT_TRUE(has(a, Kind::kStopCapture, "s1"));
  EXPECT_TRUE(has(a, Kind::kDeleteSpool, "s1"));
  EXPECT_FALSE(c.capturing());
  EXPECT_TRUE(c.onSessionStop("unknown", "x").empty());
}

TEST_F(SessionControllerTest, RecoveredSessionsWaitForTheTrainerToResumeThem) {
  SessionController c(config(), clock_);
  c.onRecovered("old");
  EXPECT_EQ(c.waiting(), std::vector<std::string>{"old"});
  EXPECT_TRUE(c.streaming().empty());
  c.onSessionResume("old");
  EXPECT_EQ(c.phase("old"), SessionPhase::kDraining);
  EXPECT_EQ(c.streaming(), std::vector<std::string>{"old"});
  EXPECT_TRUE(c.waiting().empty());
}

TEST_F(SessionControllerTest, AllCamerasGoneEndsTheCaptureEarly) {
  SessionController c(config(), clock_);
  c.onSessionStart("s1", 10);
  EXPECT_TRUE(has(c.onAllCamerasEnded("s1"), Kind::kStopCapture, "s1"));
  EXPECT_EQ(c.phase("s1"), SessionPhase::kDraining);
  clock_.advance(20s);
  EXPECT_FALSE(has(c.tick(), Kind::kStopCapture));  // not stopped twice
}

TEST_F(SessionControllerTest, ATrainerBackFromSilenceGetsEverythingInFlightAgain) {
  SessionController c(config(), clock_);
  c.onTrainerHeard();
  c.onSessionStart("s1", 10);
  EXPECT_TRUE(c.onTrainerHeard().empty());
  clock_.advance(5s);
  c.tick();
  EXPECT_FALSE(c.trainerPresent());
  EXPECT_TRUE(has(c.onTrainerHeard(), Kind::kResendAll, "s1"));
}

TEST_F(SessionControllerTest, ACaptureThatCannotStartIsRefusedAndEnded) {
  SessionController c(config(), clock_);
  c.onSessionStart("s1", 10);
  auto a = c.onCaptureFailed("s1", "no camera could start");
  EXPECT_TRUE(has(a, Kind::kRefuse, "s1"));
  EXPECT_TRUE(has(a, Kind::kDeleteSpool, "s1"));
  EXPECT_FALSE(c.phase("s1"));
}

}  // namespace
}  // namespace booth
