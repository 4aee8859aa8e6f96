#pragma once
// VideoFileSource: a video file played as if it were a camera, for tests,
// benchmarks and demos with recorded people. Frames are decoded with OpenCV
// (FFmpeg backend) and re-encoded as JPEG (quality 90), so downstream code
// sees exactly what a MJPEG camera would deliver.
//
// Pacing: with `realtime`, frames come out at the file's frame rate, on a
// fixed schedule from the first frame; a consumer that falls more than one
// frame behind gets the next frame at once and the schedule restarts from
// there (no burst to catch up, no frames skipped). Without `realtime`,
// next() returns the next frame immediately: for tests and offline runs.
//
// End of file: with `loop`, playback restarts at the first frame and
// sequence numbers keep increasing; without it, next() returns Error
// ("end of video file <path>").
//
// Threading: start/next/stop from the one thread that owns the object.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include "capture_node/source/frame_source.h"
#include "common/core/result.h"

namespace booth {

struct VideoFileConfig {
  std::string camera_id;
  std::string path;
  bool loop = true;
  bool realtime = true;
};

class VideoFileSource final : public FrameSource {
 public:
  // Used when the container does not state a usable rate.
  static constexpr double kDefaultFps = 30.0;

  explicit VideoFileSource(VideoFileConfig config);
  ~VideoFileSource() override;
  VideoFileSource(const VideoFileSource&) = delete;
  VideoFileSource& operator=(const VideoFileSource&) = delete;

  // width/height/fps are the file's after start().
  const CameraDescription& description() const override { return description_; }
  Status start() override;
  Result<std::optional<CapturedFrame>> next(std::chrono::milliseconds timeout) override;
  void stop() override;
  SourceStats stats() const override { return {delivered_.load(std::memory_order_relaxed), 0, 0}; }

 private:
  Status open();
  Result<cv::Mat> readFrame();

  VideoFileConfig config_;
  CameraDescription description_;
  cv::VideoCapture capture_;
  bool started_ = false;
  cv::Mat pending_;  // first frame, decoded by start() to prove the file is readable
  std::uint64_t sequence_ = 0;
  std::atomic<std::uint64_t> delivered_{0};  // written by the camera thread, read by any
  std::chrono::steady_clock::duration period_{};
  std::optional<std::chrono::steady_clock::time_point> next_due_;
};

}  // namespace booth
