#pragma once
// CaptureNode: the edge process's stages wired together, and the control
// thread that drives them.
//
//   CameraWorker (one thread per camera, only copies)
//     -> SpoolWriter (one thread per camera: JPEG if needed, append, sync)
//     -> SessionSpool on disk (frames, final poses, acks, notes)
//     -> PoseWorkerPool (N threads, one estimator each; in order per camera;
//        tracker + fixed-lag smoother) -> final pose records in the spool
//     -> Streamer (per session, socket-free) -> TrainerLink (the socket's thread)
//
// The control thread (run()) owns no socket and no disk loop: it feeds the
// SessionController with the trainer's commands, the stages' events and
// the passing of time, and carries out the controller's actions. Events
// reach it through one bounded queue.
//
// Restart safety: at start the spool is searched for sessions a previous
// run left; they are listed in Hello and streamed again once the trainer
// resumes them, so a crash after capture loses nothing.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stop_token>
#include <string>
#include <variant>
#include <vector>

#include "capture_node/camera/camera_worker.h"
#include "capture_node/link/trainer_link.h"
#include "capture_node/live/live_preview.h"
#include "capture_node/pose/pose_estimator.h"
#include "capture_node/pose/pose_finalizer.h"
#include "capture_node/pose/top_down_pose.h"
#include "capture_node/session/session_controller.h"
#include "capture_node/spool/spool_writer.h"
#include "capture_node/stream/credit.h"
#include "capture_node/stream/streamer.h"
#include "common/core/bounded_queue.h"
#include "common/core/clock.h"

namespace booth {

class PoseWorkerPool;
class Spool;
class SessionSpool;

struct CaptureNodeConfig {
  // Live preview of what the pose stage sees (empty dir: off).
  std::filesystem::path preview_dir;
  double preview_fps = 5;
  std::string node_id = "booth-1";
  TrainerLinkConfig link;
  std::filesystem::path spool_dir = "spool";
  std::uint64_t spool_budget_bytes = 8ull << 30;
  SessionControllerConfig controller;
  StreamerConfig streamer;
  CameraWorkerConfig camera;
  SpoolWriterConfig writer;
  PoseFinalizerConfig pose;
  TopDownConfig top_down;  // used when crop networks are given
  std::chrono::milliseconds heartbeat{1000};
  // The performer's box per camera (PerformerStatus, for the operator
  // page's countdown) is sent at most this often, when it changed; 0: never.
  std::chrono::milliseconds performer_status_interval{250};
  std::chrono::milliseconds connect_timeout{10000};
  // Used until the trainer grants credit in HelloAck.
  std::uint64_t default_credit_records = 64;
  std::uint64_t default_credit_bytes = 32ull << 20;
  int max_sessions = 0;  // exit after this many sessions ended; 0 = serve forever
};

class CaptureNode {
 public:
  CaptureNode(CaptureNodeConfig config, std::vector<std::unique_ptr<FrameSource>> sources,
              std::vector<std::unique_ptr<PoseEstimator>> estimators,
              const Clock& clock = SystemClock::instance(),
              std::vector<std::unique_ptr<MoveNetEstimator>> crop = {});
  ~CaptureNode();
  CaptureNode(const CaptureNode&) = delete;
  CaptureNode& operator=(const CaptureNode&) = delete;

  // Blocks until `stop` is requested or max_sessions have ended. Fails when
  // the spool cannot be opened or the trainer does not answer within
  // connect_timeout.
  Status run(std::stop_token stop);

 private:
  struct PoseDone {
    std::string session_id;
    Status result;
  };
  struct SpoolFailure {
    std::string session_id;
    std::string reason;
  };
  // The link moved to another trainer endpoint (the current one went silent).
  struct LinkSwitched {
    std::string endpoint;
  };
  using Event = std::variant<v2::Envelope, CameraEvent, PoseDone, SpoolFailure, LinkSwitched>;

  // One session this node holds (capturing, draining or closing).
  struct Active {
    std::unique_ptr<SessionSpool> spool;
    std::unique_ptr<Streamer> streamer;
    std::vector<std::unique_ptr<SpoolWriter>> writers;  // while capturing
    Clock::TimePoint capture_started{};
    bool capture_done = false;
    bool pose_done = false;
    bool in_pose_pool = false;
  };

  void post(Event event);
  void handleMessage(v2::Envelope& env);
  void handleCameraEvent(const CameraEvent& event);
  void carryOut(const ControllerActions& actions);
  void startCapture(const std::string& id, double seconds);
  void stopCapture(const std::string& id);
  void dropSession(const std::string& id);
  void refuse(const std::string& id, const std::string& reason);
  void sendManifest(const std::string& id);
  void stream();
  void checkDrained();
  v2::Envelope hello() const;
  void sendPerformerStatus();
  Active* find(const std::string& id);

  CaptureNodeConfig config_;
  const Clock& clock_;
  std::vector<std::unique_ptr<CameraWorker>> cameras_;
  LiveTap<LiveFrame> live_{1};
  PerformerBoard performer_board_;  // before pose_: its finalizers post here
  std::unique_ptr<LivePreview> preview_;
  std::unique_ptr<PoseWorkerPool> pose_;
  std::unique_ptr<Spool> spool_;
  SessionController controller_;
  TrainerLink link_;
  BoundedQueue<Event> events_;
  Credit credit_;
  std::string capturing_;  // id of the session the cameras run for, if any
  std::uint64_t performer_status_sent_ = 0;  // the board's version last sent
  std::map<std::string, Active> active_;
};

}  // namespace booth
