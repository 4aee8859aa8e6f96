// capture_bench: the acquisition path (V4l2Camera on FakeV4l2Driver) at a
// camera's real rate, N cameras at once, each on its own camera thread that
// only copies frames into a bounded queue. Prints the figures of
// `bench/run.sh capture` (see bench/README.md for what each one means and why
// the fake runs on the wall clock):
//   capture.delivered_pct[cameras=N]   frames in the queue / frames the cameras produced
//   capture.us_per_frame[cameras=N]    camera-thread CPU time per frame
//   capture.max_block_ms[cameras=N]    longest a frame kept its camera thread busy
//
//   capture_bench [--cameras N] [--seconds S] [--fps F] [--width W] [--height H]
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "capture_node/camera/camera_worker.h"
#include "capture_node/source/frame_source.h"
#include "capture_node/v4l2/fake/fake_v4l2_driver.h"
#include "capture_node/v4l2/fake/real_time_clock.h"
#include "capture_node/v4l2/v4l2_camera.h"
#include "common/core/bounded_queue.h"
#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"

namespace booth {
namespace {

struct Options {
  int cameras = 1;
  double seconds = 15;
  double fps = 120;
  int width = 640;
  int height = 480;
};

// One camera under test: the fake driver (owned here), the camera's
// CameraWorker (which owns the V4l2Camera) and the queue its sink fills.
struct CameraRun {
  std::unique_ptr<FakeV4l2Driver> driver;
  const FrameSource* source = nullptr;  // the worker's source, for its thread-safe stats()
  std::unique_ptr<CameraWorker> worker;
  std::unique_ptr<BoundedQueue<CapturedFrame>> queue;
  // Written only by the camera thread (in the sink), read after stop().
  std::uint64_t queued = 0;      // frames of the measured slots that reached the queue
  std::uint64_t queue_full = 0;  // frames the queue refused
  std::int64_t free_at_us = 0;
  std::int64_t max_block_us = 0;
  std::string ended;  // the source's error, if its stream ended
};

// The acquisition loop under test: the capture node's CameraWorker, one
// camera thread per camera, its sink copying each frame into a bounded
// queue (as SpoolWriter::offer does), run until every camera has seen
// `slots` frame slots (or until `give_up_us` on the steady clock, if a
// camera stops delivering). Measured in the sink, on the camera thread:
// block time of a frame, from when it was ready (its driver timestamp) or
// when the thread finished the previous frame, whichever is later, to when
// it is in the queue. Waiting for the camera is not in it; wake-up latency,
// dequeue, copy, requeue, the queue push and any preemption meanwhile are.
Status acquire(std::vector<CameraRun>& runs, std::uint64_t slots, std::int64_t give_up_us) {
  for (CameraRun& run : runs) {
    run.free_at_us = steadyMicros();
    auto sink = [&run, slots](CapturedFrame& frame) {
      const bool counts = frame.sequence < slots;
      const std::int64_t ready = frame.capture_time_us;
      const bool taken = run.queue->tryPush(frame);
      if (taken && counts) ++run.queued;
      if (!taken) ++run.queue_full;
      const std::int64_t pushed = steadyMicros();
      run.max_block_us = std::max(run.max_block_us, pushed - std::max(ready, run.free_at_us));
      run.free_at_us = pushed;
      return taken;
    };
    auto events = [&run](const CameraEvent& event) {
      if (event.kind == CameraEvent::Kind::kEnded) run.ended = event.reason;
    };
    if (Status st = run.worker->start(sink, events); !st.ok()) return st;
  }
  auto done = [&] {
    return std::all_of(runs.begin(), runs.end(), [&](const CameraRun& run) {
      const SourceStats seen = run.source->stats();
      return seen.delivered + seen.lost() >= slots || !run.worker->running() ||
             run.worker->stats().state == CameraState::kGone;
    });
  };
  while (!done() && steadyMicros() < give_up_us) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (CameraRun& run : runs) run.worker->stop();
  for (const CameraRun& run : runs) {
    if (!run.ended.empty()) return fail(run.worker->cameraId() + ": " + run.ended);
  }
  return okStatus();
}

// A synthetic performer frame as a camera would send it: with sensor-like
// noise (a flat render compresses far better than any camera image) and
// the JPEG quality whose size is nearest `target_bytes`.
std::string performerJpeg(int width, int height, std::size_t target_bytes, int& quality) {
  const PerformerLook& look = builtinPerformers().front();
  PerformerLook scaled = look;
  scaled.body.height_px *= static_cast<float>(height) / 480.f;
  const Choreography dance(*findChoreography("warmup"), scaled.body, Stage{cv::Size(width, height)},
                           7);
  cv::Mat image = renderPerformer(scaled, dance.poseAt(2.0), cv::Size(width, height));
  cv::Mat noise(image.size(), CV_16SC3);
  cv::RNG rng(42);
  rng.fill(noise, cv::RNG::NORMAL, 0, 3);
  cv::Mat noisy;
  image.convertTo(noisy, CV_16SC3);
  noisy += noise;
  noisy.convertTo(image, CV_8UC3);
  std::string best;
  for (int q = 50; q <= 98; q += 2) {
    std::vector<unsigned char> jpeg;
    cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, q});
    const auto distance = [&](std::size_t n) {
      return n > target_bytes ? n - target_bytes : target_bytes - n;
    };
    if (best.empty() || distance(jpeg.size()) < distance(best.size())) {
      best.assign(jpeg.begin(), jpeg.end());
      quality = q;
    }
  }
  return best;
}

bool parse(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const double value = std::atof(argv[i + 1]);
    if (name == "--cameras") {
      options.cameras = static_cast<int>(value);
    } else if (name == "--seconds") {
      options.seconds = value;
    } else if (name == "--fps") {
      options.fps = value;
    } else if (name == "--width") {
      options.width = static_cast<int>(value);
    } else if (name == "--height") {
      options.height = static_cast<int>(value);
    } else {
      std::cerr << "capture_bench: unknown option " << name << "\n";
      return false;
    }
  }
  if (argc % 2 == 0 || options.cameras < 1 || options.cameras > 16 || !(options.seconds > 0) ||
      !(options.fps > 0) || options.width < 16 || options.height < 16) {
    std::cerr << "usage: capture_bench [--cameras 1..16] [--seconds S] [--fps F] [--width W] "
                 "[--height H]\n";
    return false;
  }
  return true;
}

int run(const Options& options) {
  int quality = 0;
  const std::string payload = performerJpeg(options.width, options.height, 40'000, quality);
  FakeV4l2Config fake;
  FakeFormat mjpeg;
  mjpeg.fourcc = V4L2_PIX_FMT_MJPEG;
  mjpeg.description = "Motion-JPEG";
  const auto rate = static_cast<std::uint32_t>(std::lround(options.fps));
  mjpeg.sizes = {{static_cast<std::uint32_t>(options.width),
                  static_cast<std::uint32_t>(options.height),
                  {{1, rate}}}};
  fake.formats = {mjpeg};

  RealTimeClock clock;
  std::vector<CameraRun> runs(static_cast<std::size_t>(options.cameras));
  for (int i = 0; i < options.cameras; ++i) {
    CameraRun& run = runs[static_cast<std::size_t>(i)];
    fake.path = "/dev/video-fake" + std::to_string(i);
    run.driver = std::make_unique<FakeV4l2Driver>(fake, clock);
    run.driver->setPayloads({payload});
    V4l2Config config;
    config.camera_id = "cam" + std::to_string(i);
    config.device = fake.path;
    config.width = options.width;
    config.height = options.height;
    config.fps = options.fps;
    auto camera = std::make_unique<V4l2Camera>(config, run.driver->device());
    run.source = camera.get();
    run.worker = std::make_unique<CameraWorker>(std::move(camera), clock);
    // A second of frames, as the spool writer's queue holds two.
    run.queue = std::make_unique<BoundedQueue<CapturedFrame>>(static_cast<std::size_t>(rate));
  }

  const auto slots = static_cast<std::uint64_t>(std::llround(options.seconds * options.fps));
  const std::int64_t give_up =
      steadyMicros() + static_cast<std::int64_t>((options.seconds + 2.0) * 1e6);
  Status status = okStatus();
  std::atomic<std::uint64_t> wrong_payloads{0};
  {
    // One thread empties every queue (the spool writers' place), checks and
    // frees the frames.
    std::jthread drain([&](std::stop_token stop) {
      while (!stop.stop_requested()) {
        bool any = false;
        for (CameraRun& run : runs) {
          while (auto frame = run.queue->tryPop()) {
            any = true;
            if (frame->data != payload) wrong_payloads.fetch_add(1);
          }
        }
        if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    status = acquire(runs, slots, give_up);
  }
  if (!status.ok()) {
    std::cerr << "capture_bench: " << status.error() << "\n";
    return 1;
  }
  if (wrong_payloads.load() != 0) {
    std::cerr << "capture_bench: " << wrong_payloads.load()
              << " frames did not carry the payload\n";
    return 1;
  }

  std::uint64_t total_slots = 0, queued = 0, handled = 0;
  double cpu_us = 0;
  std::int64_t max_block_us = 0;
  for (const CameraRun& run : runs) {
    const SourceStats source = run.source->stats();
    const CameraWorkerStats worker = run.worker->stats();
    const std::uint64_t frames = worker.delivered + worker.sink_dropped;
    total_slots += slots;
    queued += run.queued;
    handled += frames;
    cpu_us += worker.busy_us_per_frame * static_cast<double>(frames);
    max_block_us = std::max(max_block_us, run.max_block_us);
    std::printf(
        "# %s: %llu slots, %llu queued, %llu driver drops (%llu overruns), %llu error frames, "
        "%llu refused by a full queue, %.1f us CPU/frame, max block %.2f ms (worker's own "
        "hand-over maximum %.2f ms)\n",
        run.worker->cameraId().c_str(), static_cast<unsigned long long>(slots),
        static_cast<unsigned long long>(run.queued),
        static_cast<unsigned long long>(source.driver_dropped),
        static_cast<unsigned long long>(run.driver->overruns()),
        static_cast<unsigned long long>(source.error_frames),
        static_cast<unsigned long long>(run.queue_full), worker.busy_us_per_frame,
        static_cast<double>(run.max_block_us) / 1e3, worker.max_block_ms);
  }
  const std::string p = "cameras=" + std::to_string(options.cameras);
  std::printf(
      "# %dx%d MJPEG at %.0f fps for %.1f s; payload %zu bytes (synthetic performer, "
      "JPEG quality %d); fake driver on the wall clock; loop: CameraWorker\n",
      options.width, options.height, options.fps, options.seconds, payload.size(), quality);
  std::printf("capture.delivered_pct[%s] = %.2f %%  (target 100)\n", p.c_str(),
              100.0 * static_cast<double>(queued) / static_cast<double>(total_slots));
  std::printf("capture.us_per_frame[%s] = %.1f us  (target <= 50)\n", p.c_str(),
              handled ? cpu_us / static_cast<double>(handled) : 0.0);
  std::printf("capture.max_block_ms[%s] = %.2f ms  (target < %.1f, one frame period)\n", p.c_str(),
              static_cast<double>(max_block_us) / 1e3, 1000.0 / options.fps);
  return 0;
}

}  // namespace
}  // namespace booth

int main(int argc, char** argv) {
  booth::Options options;
  if (!booth::parse(argc, argv, options)) return 2;
  spdlog::set_level(spdlog::level::warn);  // the figures only, not each camera's grant
  return booth::run(options);
}
