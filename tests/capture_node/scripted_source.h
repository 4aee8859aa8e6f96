#pragma once
// Test support: a FrameSource that plays a script: frames (with chosen
// sequence numbers), "nothing yet" answers and a final error, without
// threads or clocks of its own.
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>

#include "capture_node/source/frame_source.h"

namespace booth::test {

struct Nothing {};  // next() answers "no frame yet"
struct Fail {
  std::string error;
};
using Step = std::variant<CapturedFrame, Nothing, Fail>;

inline CapturedFrame makeFrame(const std::string& camera, std::uint64_t sequence,
                               std::string data = "jpeg-bytes") {
  CapturedFrame f;
  f.camera_id = camera;
  f.sequence = sequence;
  f.capture_time_us = 1000 * static_cast<std::int64_t>(sequence);
  f.encoding = FrameEncoding::kJpeg;
  f.width = 64;
  f.height = 48;
  f.data = std::move(data);
  return f;
}

class ScriptedSource final : public FrameSource {
 public:
  explicit ScriptedSource(std::string camera_id, std::deque<Step> script = {})
      : description_{std::move(camera_id), "scripted", 64, 48, 30}, script_(std::move(script)) {}
  const CameraDescription& description() const override { return description_; }
  Status start() override {
    if (!start_error_.empty()) return fail(start_error_);
    return okStatus();
  }
  Result<std::optional<CapturedFrame>> next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    if (script_.empty()) {
      lock.unlock();
      std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(5)));
      return std::optional<CapturedFrame>{};
    }
    Step step = std::move(script_.front());
    script_.pop_front();
    if (auto* f = std::get_if<CapturedFrame>(&step)) return std::optional<CapturedFrame>(std::move(*f));
    if (auto* e = std::get_if<Fail>(&step)) return fail(e->error);
    return std::optional<CapturedFrame>{};
  }
  void stop() override {}
  void push(Step step) {
    std::lock_guard lock(mutex_);
    script_.push_back(std::move(step));
  }
  void failStart(std::string error) { start_error_ = std::move(error); }

 private:
  CameraDescription description_;
  std::mutex mutex_;
  std::deque<Step> script_;
  std::string start_error_;
};

}  // namespace booth::test
