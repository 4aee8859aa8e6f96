// CameraWorker over V4l2Camera over FakeV4l2Driver, all on one simulated
// clock: the camera worker's watchdog and end-of-stream handling driven by
// what a V4L2 device really does when it stalls or is unplugged. The
// simulated time runs as fast as the camera thread calls in, so these
// tests take milliseconds and never depend on the machine's speed.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "capture_node/camera/camera_worker.h"
#include "capture_node/v4l2/fake/fake_v4l2_driver.h"
#include "capture_node/v4l2/fake/simulated_clock.h"
#include "capture_node/v4l2/v4l2_camera.h"

namespace booth {
namespace {
using namespace std::chrono_literals;

struct Events {
  std::mutex mutex;
  std::vector<CameraEvent> list;
  std::size_t count() {
    std::lock_guard lock(mutex);
    return list.size();
  }
};

// Waits (in real time, generously) for the camera thread to get somewhere.
template <class Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 2000 && !pred(); ++i) std::this_thread::sleep_for(5ms);
  return pred();
}

struct Rig {
  Rig() : driver(FakeV4l2Config{}, clock) {
    V4l2Config config;
    config.camera_id = "cam0";
    config.device = driver.path();
    CameraWorkerConfig worker_config;
    worker_config.poll = 50ms;
    worker_config.stall_after = 2s;
    worker = std::make_unique<CameraWorker>(std::make_unique<V4l2Camera>(config, driver.device()),
                                            clock, worker_config);
  }

  Status start() {
    return worker->start([](CapturedFrame&) { return true; },
                         [this](const CameraEvent& e) {
                           std::lock_guard lock(events.mutex);
                           events.list.push_back(e);
                         });
  }

  SimulatedClock clock;
  FakeV4l2Driver driver;
  std::unique_ptr<CameraWorker> worker;
  Events events;
};

TEST(CameraWorkerOnV4l2, UnpluggedCameraEndsItsWorkerWithTheDisconnect) {
  Rig rig;
  rig.driver.disconnectAt(5);
  ASSERT_TRUE(rig.start().ok());
  ASSERT_TRUE(eventually([&] { return rig.events.count() == 1; }));
  rig.worker->stop();
  std::lock_guard lock(rig.events.mutex);
  EXPECT_EQ(rig.events.list[0].kind, CameraEvent::Kind::kEnded);
  EXPECT_EQ(rig.events.list[0].reason.rfind("/dev/video-fake0 disconnected", 0), 0u)
      << rig.events.list[0].reason;
  EXPECT_EQ(rig.worker->stats().delivered, 5u);
  EXPECT_EQ(rig.worker->stats().state, CameraState::kGone);
}

TEST(CameraWorkerOnV4l2, StalledCameraIsReportedAndResumes) {
  Rig rig;
  rig.driver.stall(3, 5s);
  rig.driver.disconnectAt(10);  // ends the run after the resume
  ASSERT_TRUE(rig.start().ok());
  ASSERT_TRUE(eventually([&] { return rig.events.count() == 3; }));
  rig.worker->stop();
  std::lock_guard lock(rig.events.mutex);
  EXPECT_EQ(rig.events.list[0].kind, CameraEvent::Kind::kStalled);
  EXPECT_NE(rig.events.list[0].reason.find("no frame for"), std::string::npos);
  EXPECT_EQ(rig.events.list[1].kind, CameraEvent::Kind::kResumed);
  EXPECT_EQ(rig.events.list[2].kind, CameraEvent::Kind::kEnded);
  EXPECT_EQ(rig.worker->stats().stalls, 1u);
  EXPECT_EQ(rig.worker->stats().delivered, 10u);
}

TEST(CameraWorkerOnV4l2, WorkerReportsTheSourcesLossesOnce) {
  Rig rig;
  rig.driver.dropFrames(2, 3);
  rig.driver.failFrames(8);
  rig.driver.disconnectAt(12);
  ASSERT_TRUE(rig.start().ok());
  ASSERT_TRUE(eventually([&] { return rig.events.count() == 1; }));
  rig.worker->stop();
  EXPECT_EQ(rig.worker->stats().source_gaps, 4u);  // 3 dropped + 1 error frame
  EXPECT_EQ(rig.worker->stats().delivered, 8u);    // 12 slots - 4 lost
}

}  // namespace
}  // namespace booth
