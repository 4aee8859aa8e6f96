#pragma once
// PoseWorkerPool: N pose workers, each a thread with its own estimator
// (networks are not shared between threads). Workers take frames from the
// spool in order, per camera, as soon as the spool writer has appended
// them, so pose runs alongside capture; when the network is slower than
// the cameras the workers fall behind during the session and catch up
// after it. Each camera's estimates go through its PoseFinalizer, which
// puts them back in order, tracks the performer, smooths, and appends the
// final records to the spool.
//
// Two modes. Single network: the estimator on every (sampled) frame, frames
// of one camera on several workers at once, tracked in the finalizer.
// Top-down (crop estimators given): per camera a TopDownPose (the estimator
// as the person finder at TopDownConfig::finder_hz, the crop network on
// every frame around the performer), which needs the camera's frames in
// order: a camera has at most one frame in a worker at a time, so the
// cameras, not the frames, spread over the workers.
//
// A frame that does not decode (including a JPEG whose header claims an
// absurd size), or that a network fails or throws on, gets a record with
// the error and no pose; the session goes on. Each worker's loop has a
// last-resort catch that fails the frame, never the thread or the process.
//
// Lifecycle: construct with the estimators (their threads start) ->
// addSession() per session -> captureComplete() when its cameras stop ->
// `on_complete` once every frame of the session is final -> removeSession()
// -> destructor joins.
// Threading: the public methods from the node's control thread.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture_node/pose/pose_estimator.h"
#include "capture_node/pose/pose_finalizer.h"
#include "capture_node/pose/pose_sampler.h"
#include "capture_node/pose/top_down_pose.h"
#include "capture_node/spool/session_spool.h"
#include "common/core/clock.h"

namespace booth {

struct PoseStageStats {
  std::uint64_t frames_posed = 0;
  std::uint64_t frames_failed = 0;  // undecodable or estimator error
  std::uint64_t frames_skipped = 0;  // not posed on purpose (PoseSampler), interpolated
  std::uint64_t finder_runs = 0;    // top-down: frames the person finder ran on
  double busy_seconds = 0;          // summed over workers
  double finder_seconds = 0;        // top-down: the part of busy_seconds in finder frames
};

class PoseWorkerPool {
 public:
  using CompletionHandler = std::function<void(const std::string& session_id, Status result)>;

  // `crop`: empty (single network), or one MoveNetEstimator per estimator
  // (top-down, with `top_down`).
  PoseWorkerPool(std::vector<std::unique_ptr<PoseEstimator>> estimators,
                 PoseFinalizerConfig finalizer, const Clock& clock,
                 std::vector<std::unique_ptr<MoveNetEstimator>> crop = {},
                 TopDownConfig top_down = {});
  ~PoseWorkerPool();
  PoseWorkerPool(const PoseWorkerPool&) = delete;
  PoseWorkerPool& operator=(const PoseWorkerPool&) = delete;

  // Starts posing the session's frames (from the first one without a final
  // pose). The spool must outlive removeSession(). `on_complete` is called
  // on a worker thread.
  void addSession(SessionSpool& spool, CompletionHandler on_complete);
  // No more frames will come for this session.
  void captureComplete(const std::string& session_id);
  // Stops working on the session; returns once no worker touches it.
  void removeSession(const std::string& session_id);
  // New frames are in some spool.
  void notify();

  std::size_t workers() const { return threads_.size(); }
  PoseOrigin origin() const { return origin_; }
  std::string describe() const { return description_; }
  PoseStageStats stats() const;

 private:
  struct CameraWork {
    CameraSpool* spool = nullptr;
    PoseSampler sampler{0, 0};  // which frames the network runs on
    std::unique_ptr<PoseFinalizer> finalizer;
    std::unique_ptr<TopDownPose> top_down;  // top-down mode only; one frame at a time
    std::size_t next_dispatch = 0;  // next frame index to hand to a worker
    std::size_t in_progress = 0;
    bool failed = false;
  };
  struct SessionWork {
    SessionSpool* spool = nullptr;
    std::vector<CameraWork> cameras;
    bool capture_complete = false;
    bool completed = false;
    Clock::TimePoint capture_done_at{};
    CompletionHandler on_complete;
  };
  struct Task {
    SessionWork* session = nullptr;
    std::size_t camera = 0;
    std::size_t index = 0;
  };

  struct Networks {
    PoseEstimator* estimator = nullptr;
    MoveNetEstimator* crop = nullptr;  // top-down only
  };
  void run(std::stop_token stop, Networks networks);
  bool nextTask(Task& task);           // mutex_ held
  void maybeComplete(SessionWork& s);  // mutex_ held
  FrameEstimate estimate(Networks networks, const CameraWork& camera, std::size_t index);
  // A frame's record after an unexpected exception (last resort).
  static FrameEstimate failedFrame(const CameraWork& camera, std::size_t index, const std::string& why);

  std::vector<std::unique_ptr<PoseEstimator>> estimators_;
  std::vector<std::unique_ptr<MoveNetEstimator>> crop_;
  TopDownConfig top_down_;
  PoseFinalizerConfig finalizer_config_;
  const Clock& clock_;
  PoseOrigin origin_;
  std::string description_;

  mutable std::mutex mutex_;  // guards sessions_, stats_, rr_
  std::condition_variable_any work_;
  std::condition_variable idle_;  // a task finished (removeSession waits on it)
  std::vector<std::unique_ptr<SessionWork>> sessions_;
  std::size_t rr_ = 0;  // round-robin over (session, camera)
  PoseStageStats stats_;
  std::vector<std::jthread> threads_;
};

}  // namespace booth
