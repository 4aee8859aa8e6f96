// CameraWorker: a camera thread that only copies, never waits, and turns
// silence and failure into events.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "capture_node/camera/camera_worker.h"
#include "scripted_source.h"

namespace booth {
namespace {
using namespace std::chrono_literals;
using test::makeFrame;

struct Collected {
  std::mutex mutex;
  std::vector<std::uint64_t> sequences;
  std::vector<CameraEvent> events;
  std::size_t frames() {
    std::lock_guard lock(mutex);
    return sequences.size();
  }
  std::size_t eventCount() {
    std::lock_guard lock(mutex);
    return events.size();
  }
};

template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 400 && !pred(); ++i) std::this_thread::sleep_for(5ms);
  return pred();
}

TEST(CameraWorker, HandsEveryFrameOverAndCountsSourceGaps) {
  auto source = std::make_unique<test::ScriptedSource>(
      "cam0", std::deque<test::Step>{makeFrame("cam0", 0), makeFrame("cam0", 1),
                                     makeFrame("cam0", 4)});
  CameraWorker worker(std::move(source), SystemClock::instance());
  Collected got;
  ASSERT_TRUE(worker
                  .start(
                      [&](CapturedFrame& f) {
                        std::lock_guard lock(got.mutex);
                        got.sequences.push_back(f.sequence);
                        return true;
                      },
                      nullptr)
                  .ok());
  ASSERT_TRUE(eventually([&] { return got.frames() == 3; }));
  worker.stop();
  EXPECT_EQ(got.sequences, (std::vector<std::uint64_t>{0, 1, 4}));
  const auto s = worker.stats();
  EXPECT_EQ(s.delivered, 3u);
  EXPECT_EQ(s.source_gaps, 2u);  // 2 and 3, counted once
  EXPECT_EQ(s.state, CameraState::kIdle);
}

TEST(CameraWorker, AFullSinkDropsAndCountsNeverBlocks) {
  auto source = std::make_unique<test::ScriptedSource>(
      "cam0", std::deque<test::Step>{makeFrame("cam0", 0), makeFrame("cam0", 1)});
  CameraWorker worker(std::move(source), SystemClock::instance());
  std::atomic<int> offered{0};
  ASSERT_TRUE(worker.start([&](CapturedFrame&) { return ++offered > 1; }, nullptr).ok());
  ASSERT_TRUE(eventually([&] { return offered.load() == 2; }));
  worker.stop();
  EXPECT_EQ(worker.stats().sink_dropped, 1u);
  EXPECT_EQ(worker.stats().delivered, 1u);
}

TEST(CameraWorker, SilenceBecomesAStallEventAndFramesResumeIt) {
  auto source = std::make_unique<test::ScriptedSource>("cam0");
  test::ScriptedSource* script = source.get();
  ManualClock clock;
  CameraWorkerConfig config;
  config.poll = 5ms;
  config.stall_after = 2s;
  CameraWorker worker(std::move(source), clock, config);
  Collected got;
  ASSERT_TRUE(worker
                  .start([](CapturedFrame&) { return true; },
                         [&](const CameraEvent& e) {
                           std::lock_guard lock(got.mutex);
                           got.events.push_back(e);
                         })
                  .ok());
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(got.eventCount(), 0u);
  clock.advance(3s);
  ASSERT_TRUE(eventually([&] { return got.eventCount() == 1; }));
  EXPECT_EQ(worker.stats().state, CameraState::kStalled);
  script->push(makeFrame("cam0", 0));
  ASSERT_TRUE(eventually([&] { return got.eventCount() == 2; }));
  worker.stop();
  std::lock_guard lock(got.mutex);
  EXPECT_EQ(got.events[0].kind, CameraEvent::Kind::kStalled);
  EXPECT_NE(got.events[0].reason.find("no frame for"), std::string::npos);
  EXPECT_EQ(got.events[1].kind, CameraEvent::Kind::kResumed);
  EXPECT_EQ(worker.stats().stalls, 1u);
}

TEST(CameraWorker, ASourceErrorEndsThisCameraWithTheReason) {
  auto source = std::make_unique<test::ScriptedSource>(
      "cam1", std::deque<test::Step>{makeFrame("cam1", 0),
                                     test::Fail{"camera /dev/video1 disconnected (ENODEV)"}});
  CameraWorker worker(std::move(source), SystemClock::instance());
  Collected got;
  ASSERT_TRUE(worker
                  .start([](CapturedFrame&) { return true; },
                         [&](const CameraEvent& e) {
                           std::lock_guard lock(got.mutex);
                           got.events.push_back(e);
                         })
                  .ok());
  ASSERT_TRUE(eventually([&] { return got.eventCount() == 1; }));
  worker.stop();
  EXPECT_EQ(got.events[0].kind, CameraEvent::Kind::kEnded);
  EXPECT_EQ(got.events[0].camera_id, "cam1");
  EXPECT_NE(got.events[0].reason.find("disconnected"), std::string::npos);
  EXPECT_EQ(worker.stats().state, CameraState::kGone);
}

TEST(CameraWorker, AStartFailureNamesTheCamera) {
  auto source = std::make_unique<test::ScriptedSource>("cam3");
  source->failStart("cannot open /dev/video3: No such file or directory");
  CameraWorker worker(std::move(source), SystemClock::instance());
  auto st = worker.start([](CapturedFrame&) { return true; }, nullptr);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("cam3"), std::string::npos) << st.error();
  EXPECT_FALSE(worker.running());
}

}  // namespace
}  // namespace booth
