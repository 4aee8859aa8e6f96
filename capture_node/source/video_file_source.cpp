#include "capture_node/source/video_file_source.h"

#include <cmath>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

#include <opencv2/imgcodecs.hpp>

namespace booth {
namespace {

constexpr int kJpegQuality = 90;

}  // namespace

VideoFileSource::VideoFileSource(VideoFileConfig config) : config_(std::move(config)) {
  description_.camera_id = config_.camera_id;
  description_.kind = "video";
}

VideoFileSource::~VideoFileSource() { stop(); }

Status VideoFileSource::open() {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(config_.path, ec)) {
    return fail(
        "video file " + config_.path +
        (std::filesystem::exists(config_.path, ec) ? " is not a regular file" : " does not exist"));
  }
  try {
    if (!capture_.open(config_.path, cv::CAP_ANY)) {
      return fail("cannot open video file " + config_.path +
                  " (not a video OpenCV can decode; try an H.264 .mp4 or MJPG .avi)");
    }
  } catch (const cv::Exception& e) {
    return fail("cannot open video file " + config_.path + ": " + e.what());
  }
  return okStatus();
}

Status VideoFileSource::start() {
  if (started_) return fail("video file " + config_.path + " is already started");
  if (Status s = open(); !s) return s;

  Result<cv::Mat> first = readFrame();
  if (!first || first->empty()) {
    capture_.release();
    return fail("video file " + config_.path + " has no decodable frames" +
                (first ? std::string{} : ": " + first.error()));
  }
  pending_ = std::move(first.value());

  double fps = 0;
  try {
    fps = capture_.get(cv::CAP_PROP_FPS);
  } catch (const cv::Exception&) {
    fps = 0;
  }
  if (!std::isfinite(fps) || fps <= 0 || fps > 1000) fps = kDefaultFps;
  description_.width = pending_.cols;
  description_.height = pending_.rows;
  description_.fps = fps;
  // A file has no request: what it holds is what was asked for.
  description_.requested_width = description_.width;
  description_.requested_height = description_.height;
  description_.requested_fps = fps;
  period_ = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(1.0 / fps));
  sequence_ = 0;
  delivered_.store(0, std::memory_order_relaxed);
  next_due_.reset();
  started_ = true;
  return okStatus();
}

Result<cv::Mat> VideoFileSource::readFrame() {
  cv::Mat frame;
  try {
    if (!capture_.read(frame)) return cv::Mat{};
  } catch (const cv::Exception& e) {
    return fail("decoding video file " + config_.path + " failed: " + e.what());
  }
  return frame;
}

Result<std::optional<CapturedFrame>> VideoFileSource::next(std::chrono::milliseconds timeout) {
  if (!started_) return fail("video file " + config_.path + " is not started");

  std::int64_t capture_time_us = 0;
  if (config_.realtime) {
    const auto now = std::chrono::steady_clock::now();
    if (!next_due_ || *next_due_ + period_ < now) next_due_ = now;  // first frame, or resync
    if (*next_due_ > now + timeout) {
      std::this_thread::sleep_for(timeout);
      return std::optional<CapturedFrame>{};
    }
    std::this_thread::sleep_until(*next_due_);
    capture_time_us =
        std::chrono::duration_cast<std::chrono::microseconds>(next_due_->time_since_epoch())
            .count();
  }

  cv::Mat image = std::move(pending_);
  pending_ = cv::Mat{};
  if (image.empty()) {
    Result<cv::Mat> read = readFrame();
    if (!read) return Error{read.error()};
    image = std::move(read.value());
  }
  if (image.empty()) {
    if (!config_.loop) return fail("end of video file " + config_.path);
    // Reopening rather than seeking to frame 0: seeking is unreliable in
    // some containers and backends, reopening always lands on frame 0.
    capture_.release();
    if (Status s = open(); !s) return Error{s.error()};
    Result<cv::Mat> read = readFrame();
    if (!read) return Error{read.error()};
    if (read->empty()) return fail("video file " + config_.path + " yields no frames after rewind");
    image = std::move(read.value());
  }

  std::vector<unsigned char> jpeg;
  try {
    if (!cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, kJpegQuality})) {
      return fail("JPEG encoding of a frame of " + config_.path + " failed");
    }
  } catch (const cv::Exception& e) {
    return fail("JPEG encoding of a frame of " + config_.path + " failed: " + e.what());
  }

  if (config_.realtime) {
    *next_due_ += period_;
  } else {
    capture_time_us = steadyMicros();
  }

  CapturedFrame frame;
  frame.camera_id = config_.camera_id;
  frame.sequence = sequence_++;
  frame.capture_time_us = capture_time_us;
  frame.encoding = FrameEncoding::kJpeg;
  frame.width = image.cols;
  frame.height = image.rows;
  frame.data.assign(jpeg.begin(), jpeg.end());
  delivered_.fetch_add(1, std::memory_order_relaxed);
  return std::optional<CapturedFrame>{std::move(frame)};
}

void VideoFileSource::stop() {
  if (!started_) return;
  capture_.release();
  pending_ = cv::Mat{};
  started_ = false;
}

}  // namespace booth
