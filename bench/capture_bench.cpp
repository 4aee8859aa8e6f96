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

#include "capture_node/source/frame_source.h"
#include "capture_node/v4l2/fake/fake_v4l2_driver.h"
#include "capture_node/v4l2/fake/real_time_clock.h"
#include "capture_node/v4l2/v4l2_camera.h"
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

// Frames handed from a camera thread to whoever stores them. Never blocks
// the producer: a full queue refuses the frame (counted, and missing from
// delivered_pct).
class BoundedFrameQueue {
 public:
  explicit BoundedFrameQueue(std::size_t capacity) : capacity_(capacity) {}

  bool tryPush(CapturedFrame&& frame) {
    std::lock_guard lock(mutex_);
    if (frames_.size() >= capacity_) return false;
    frames_.push_back(std::move(frame));
    return true;
  }

  std::optional<CapturedFrame> tryPop() {
    std::lock_guard lock(mutex_);
    if (frames_.empty()) return std::nullopt;
    CapturedFrame frame = std::move(frames_.front());
    frames_.pop_front();
    return frame;
  }

 private:
  const std::size_t capacity_;
  std::mutex mutex_;  // guards frames_
  std::deque<CapturedFrame> frames_;
};

struct LoopResult {
  std::uint64_t slots = 0;        // frame slots the loop was run for
  std::uint64_t queued = 0;       // frames of those slots that reached the queue
  std::uint64_t queue_full = 0;   // frames refused by a full queue
  std::int64_t cpu_ns = 0;        // camera thread CPU time in the loop
  std::int64_t max_block_us = 0;  // see acquire()
  SourceStats stats;
  std::string error;
};

std::int64_t threadCpuNanos() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The acquisition loop under test: one camera thread, copying each frame
// into `queue`, for the first `slots` frame slots of the camera (or until
// `give_up_us` on the steady clock, if the camera stops delivering).
// This is the piece that capture_node/camera/camera_worker.h (CameraWorker)
// replaces once it exists: swap this function's body for a CameraWorker
// feeding `queue`, keep the measurements.
//
// Block time of a frame: from when it was ready (its driver timestamp) or
// when the thread finished the previous frame, whichever is later, to when
// it is in the queue. Waiting for the camera is not in it; wake-up latency,
// dequeue, copy, requeue, the queue push and any preemption meanwhile are.
LoopResult acquire(FrameSource& source, BoundedFrameQueue& queue, std::uint64_t slots,
                   std::int64_t give_up_us) {
  LoopResult result;
  result.slots = slots;
  if (Status started = source.start(); !started.ok()) {
    result.error = started.error();
    return result;
  }
  const std::int64_t cpu0 = threadCpuNanos();
  std::int64_t free_at = steadyMicros();
  for (;;) {
    const SourceStats seen = source.stats();
    if (seen.delivered + seen.lost() >= slots || steadyMicros() >= give_up_us) break;
    auto next = source.next(std::chrono::milliseconds(100));
    if (!next.ok()) {
      result.error = next.error();
      break;
    }
    if (!next.value()) continue;
    CapturedFrame& frame = *next.value();
    const bool counts = frame.sequence < slots;
    const std::int64_t ready = frame.capture_time_us;
    if (queue.tryPush(std::move(frame))) {
      if (counts) ++result.queued;
    } else {
      ++result.queue_full;
    }
    const std::int64_t pushed = steadyMicros();
    result.max_block_us = std::max(result.max_block_us, pushed - std::max(ready, free_at));
    free_at = pushed;
  }
  result.cpu_ns = threadCpuNanos() - cpu0;
  result.stats = source.stats();
  source.stop();
  return result;
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
  std::vector<std::unique_ptr<FakeV4l2Driver>> drivers;
  std::vector<std::unique_ptr<V4l2Camera>> cameras;
  std::vector<std::unique_ptr<BoundedFrameQueue>> queues;
  for (int i = 0; i < options.cameras; ++i) {
    fake.path = "/dev/video-fake" + std::to_string(i);
    drivers.push_back(std::make_unique<FakeV4l2Driver>(fake, clock));
    drivers.back()->setPayloads({payload});
    V4l2Config config;
    config.camera_id = "cam" + std::to_string(i);
    config.device = fake.path;
    config.width = options.width;
    config.height = options.height;
    config.fps = options.fps;
    cameras.push_back(std::make_unique<V4l2Camera>(config, drivers.back()->device()));
    // A second of frames: far more than a storing thread ever lags here.
    queues.push_back(std::make_unique<BoundedFrameQueue>(static_cast<std::size_t>(rate)));
  }

  const auto slots = static_cast<std::uint64_t>(std::llround(options.seconds * options.fps));
  const std::int64_t give_up =
      steadyMicros() + static_cast<std::int64_t>((options.seconds + 2.0) * 1e6);
  std::vector<LoopResult> results(cameras.size());
  {
    // One thread empties every queue (the spool writer's place), frees the
    // frames and checks them.
    std::atomic<std::uint64_t> wrong_payloads{0};
    std::jthread drain([&](std::stop_token stop) {
      while (!stop.stop_requested()) {
        bool any = false;
        for (auto& q : queues) {
          while (auto frame = q->tryPop()) {
            any = true;
            if (frame->data.size() != payload.size()) wrong_payloads.fetch_add(1);
          }
        }
        if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
    std::vector<std::jthread> threads;
    for (std::size_t i = 0; i < cameras.size(); ++i) {
      threads.emplace_back(
          [&, i] { results[i] = acquire(*cameras[i], *queues[i], slots, give_up); });
    }
    for (auto& t : threads) t.join();
    drain.request_stop();
    drain.join();
    if (wrong_payloads.load() != 0) {
      std::cerr << "capture_bench: " << wrong_payloads.load()
                << " frames did not carry the payload\n";
      return 1;
    }
  }

  std::uint64_t total_slots = 0, queued = 0, delivered = 0;
  std::int64_t cpu_ns = 0, max_block_us = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const LoopResult& r = results[i];
    if (!r.error.empty()) {
      std::cerr << "capture_bench: cam" << i << ": " << r.error << "\n";
      return 1;
    }
    total_slots += r.slots;
    queued += r.queued;
    delivered += r.stats.delivered;
    cpu_ns += r.cpu_ns;
    max_block_us = std::max(max_block_us, r.max_block_us);
    std::printf(
        "# cam%zu: %llu slots, %llu queued, %llu driver drops (%llu overruns), %llu error "
        "frames, %llu refused by a full queue, %.1f us CPU/frame, max block %.2f ms\n",
        i, static_cast<unsigned long long>(r.slots), static_cast<unsigned long long>(r.queued),
        static_cast<unsigned long long>(r.stats.driver_dropped),
        static_cast<unsigned long long>(drivers[i]->overruns()),
        static_cast<unsigned long long>(r.stats.error_frames),
        static_cast<unsigned long long>(r.queue_full),
        r.stats.delivered ? r.cpu_ns / 1e3 / r.stats.delivered : 0.0, r.max_block_us / 1e3);
  }
  const std::string p = "cameras=" + std::to_string(options.cameras);
  std::printf(
      "# %dx%d MJPEG at %.0f fps for %.1f s; payload %zu bytes (synthetic performer, "
      "JPEG quality %d); fake driver on the wall clock\n",
      options.width, options.height, options.fps, options.seconds, payload.size(), quality);
  std::printf("capture.delivered_pct[%s] = %.2f %%  (target 100)\n", p.c_str(),
              100.0 * static_cast<double>(queued) / static_cast<double>(total_slots));
  std::printf("capture.us_per_frame[%s] = %.1f us  (target <= 50)\n", p.c_str(),
              delivered ? cpu_ns / 1e3 / static_cast<double>(delivered) : 0.0);
  std::printf("capture.max_block_ms[%s] = %.2f ms  (target < %.1f, one frame period)\n", p.c_str(),
              max_block_us / 1e3, 1000.0 / options.fps);
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
