#pragma once
// CaptureNode: the edge process. Connects to the trainer (DEALER socket),
// announces its cameras, waits for SessionStart commands, captures (on a
// worker thread, so heartbeats and acks keep flowing), streams every frame
// with its keypoints under credit flow control, resends what is not acked,
// and closes each session with a manifest.
//
// Threading: run() is called from one thread and owns the socket for its
// whole life; the capture worker never touches the socket and hands its
// result back through a mutex-guarded slot.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "capture_node/capture_session.h"
#include "capture_node/pose/pose_estimator.h"
#include "capture_node/source/frame_source.h"

namespace booth {

struct CaptureNodeConfig {
  std::string node_id = "booth-1";
  std::string trainer_endpoint = "tcp://127.0.0.1:5555";
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds heartbeat{1000};
  int window = 64;  // frames in flight
  std::chrono::milliseconds resend_after{3000};
  int max_sessions = 0;  // exit after this many; 0 = serve forever
};

class CaptureNode {
 public:
  CaptureNode(CaptureNodeConfig config, std::vector<std::unique_ptr<FrameSource>> sources,
              std::unique_ptr<PoseEstimator> estimator);
  ~CaptureNode();

  // Blocks until `stop` is requested (or max_sessions are done). Fails when
  // the trainer does not answer within connect_timeout.
  Status run(std::stop_token stop);

 private:
  struct Pending;  // a finished capture waiting to be streamed
  void startCapture(const std::string& session_id, double seconds);

  CaptureNodeConfig config_;
  std::vector<std::unique_ptr<FrameSource>> sources_;
  std::unique_ptr<PoseEstimator> estimator_;

  std::mutex mutex_;  // guards result_ and capturing_
  std::optional<Result<SessionCapture>> result_;
  bool capturing_ = false;
  std::string current_session_;  // control thread only
  std::string abandoned_;        // control thread only: stopped by the trainer mid-capture
  std::jthread worker_;          // the capture of the current session
};

}  // namespace booth
