#include "capture_node/capture_node.h"

#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "capture_node/stream/session_streamer.h"
#include "common/transport/wire.h"

namespace booth {
namespace {

using Clock = std::chrono::steady_clock;

v1::Envelope helloEnvelope(const CaptureNodeConfig& config,
                           const std::vector<std::unique_ptr<FrameSource>>& sources,
                           const PoseEstimator& estimator) {
  v1::Envelope env;
  v1::Hello* hello = env.mutable_hello();
  hello->set_node_id(config.node_id);
  hello->set_pose_source(estimator.describe());
  for (const auto& s : sources) {
    const CameraDescription& d = s->description();
    v1::CameraInfo* c = hello->add_cameras();
    c->set_camera_id(d.camera_id);
    c->set_kind(d.kind);
    c->set_width(static_cast<uint32_t>(d.width));
    c->set_height(static_cast<uint32_t>(d.height));
    c->set_fps(d.fps);
  }
  return env;
}

}  // namespace

CaptureNode::CaptureNode(CaptureNodeConfig config,
                         std::vector<std::unique_ptr<FrameSource>> sources,
                         std::unique_ptr<PoseEstimator> estimator)
    : config_(std::move(config)), sources_(std::move(sources)), estimator_(std::move(estimator)) {}

CaptureNode::~CaptureNode() {
  if (worker_.joinable()) {
    worker_.request_stop();
    worker_.join();
  }
}

void CaptureNode::startCapture(const std::string& session_id, double seconds) {
  if (worker_.joinable()) worker_.join();  // the previous capture has finished
  current_session_ = session_id;
  abandoned_.clear();
  {
    std::lock_guard lock(mutex_);
    capturing_ = true;
    result_.reset();
  }
  worker_ = std::jthread([this, session_id, seconds](std::stop_token stop) {
    auto result = captureSession(session_id, seconds, sources_, *estimator_, stop);
    std::lock_guard lock(mutex_);
    result_ = std::move(result);
    capturing_ = false;
  });
}

Status CaptureNode::run(std::stop_token stop) {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  try {
    socket.set(zmq::sockopt::routing_id, config_.node_id);
    socket.set(zmq::sockopt::linger, 1000);
    socket.set(zmq::sockopt::sndhwm, 0);  // credit flow bounds what is queued
    socket.connect(config_.trainer_endpoint);
  } catch (const zmq::error_t& e) {
    return fail("cannot connect to trainer at '" + config_.trainer_endpoint + "': " + e.what() +
                " (use --trainer tcp://HOST:PORT)");
  }

  const v1::Envelope hello = helloEnvelope(config_, sources_, *estimator_);
  sendEnvelope(socket, hello);
  bool connected = false;
  const auto connect_deadline = Clock::now() + config_.connect_timeout;
  auto last_hello = Clock::now();
  auto last_heard = Clock::now();

  std::optional<SessionStreamer> streamer;
  std::optional<v1::SessionManifest> manifest;  // sent, waiting for ManifestAck
  auto manifest_sent = Clock::time_point{};
  int sessions_done = 0;

  while (!stop.stop_requested()) {
    zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(streamer ? 5 : 50));
    const auto now = Clock::now();

    // Drain everything that arrived.
    while (true) {
      auto in = receiveEnvelope(socket, /*router=*/false);
      if (!in.ok()) {
        spdlog::warn("ignoring malformed message from trainer: {}", in.error());
        continue;
      }
      if (!in.value()) break;
      last_heard = now;
      const v1::Envelope& env = in.value()->envelope;
      switch (env.body_case()) {
        case v1::Envelope::kHelloAck:
          if (!connected) {
            spdlog::info("connected to trainer {} at {}", env.hello_ack().trainer_id(),
                         config_.trainer_endpoint);
          }
          connected = true;
          break;
        case v1::Envelope::kSessionStart: {
          const auto& start = env.session_start();
          bool busy;
          {
            std::lock_guard lock(mutex_);
            busy = capturing_ || result_.has_value();
          }
          if (busy || streamer || manifest) {
            spdlog::warn("session {} refused: this node is still busy with the previous session",
                         start.session_id());
            v1::Envelope reply;
            auto* m = reply.mutable_manifest();
            m->set_session_id(start.session_id());
            m->set_node_id(config_.node_id);
            m->set_error("capture node " + config_.node_id + " was busy with another session");
            sendEnvelope(socket, reply);
            break;
          }
          spdlog::info("session {}: capturing {:.1f} s from {} camera(s)", start.session_id(),
                       start.seconds(), sources_.size());
          startCapture(start.session_id(), start.seconds());
          break;
        }
        case v1::Envelope::kSessionStop: {
          const auto& stop_msg = env.session_stop();
          if (stop_msg.session_id() != current_session_ || abandoned_ == current_session_) break;
          spdlog::error("session {}: the trainer stopped it: {}", stop_msg.session_id(),
                        stop_msg.reason());
          bool in_flight = streamer.has_value() || manifest.has_value();
          {
            std::lock_guard lock(mutex_);
            in_flight = in_flight || capturing_ || result_.has_value();
          }
          if (in_flight) ++sessions_done;  // it ends here, one way or the other
          if (worker_.joinable()) worker_.request_stop();
          // What is captured but not yet delivered has nowhere to go.
          if (streamer && streamer->sessionId() == stop_msg.session_id()) streamer.reset();
          if (manifest && manifest->session_id() == stop_msg.session_id()) manifest.reset();
          abandoned_ = stop_msg.session_id();
          break;
        }
        case v1::Envelope::kAck:
          if (streamer) streamer->onAck(env.ack());
          break;
        case v1::Envelope::kManifestAck:
          if (manifest && env.manifest_ack().session_id() == manifest->session_id()) {
            if (env.manifest_ack().ok()) {
              spdlog::info("session {}: trainer verified the manifest", manifest->session_id());
            } else {
              spdlog::error("session {}: trainer rejected the manifest: {}", manifest->session_id(),
                            env.manifest_ack().error());
            }
            manifest.reset();
            ++sessions_done;
          }
          break;
        default:
          spdlog::warn("ignoring unexpected message (case {}) from trainer",
                       static_cast<int>(env.body_case()));
      }
    }

    if (!connected && now > connect_deadline) {
      return fail("trainer at " + config_.trainer_endpoint + " did not answer within " +
                  std::to_string(config_.connect_timeout.count() / 1000.0).substr(0, 4) +
                  " s; start trainer_node first or fix --trainer");
    }
    if (now - last_hello >= config_.heartbeat) {
      sendEnvelope(socket, hello);
      last_hello = now;
    }

    // A finished capture becomes a stream (or an error manifest).
    {
      std::lock_guard lock(mutex_);
      if (result_ && !abandoned_.empty() && abandoned_ == current_session_) {
        result_.reset();  // the trainer stopped this session while it was captured
        abandoned_.clear();
      }
      if (result_ && !streamer && !manifest) {
        if (result_->ok()) {
          streamer.emplace(std::move(result_->value()), config_.window, config_.resend_after);
          spdlog::info("session {}: streaming {} frames", streamer->sessionId(), streamer->total());
        } else {
          spdlog::error("capture failed: {}", result_->error());
          v1::Envelope reply;
          auto* m = reply.mutable_manifest();
          m->set_session_id(current_session_);
          m->set_node_id(config_.node_id);
          m->set_error(result_->error());
          manifest = *m;
        }
        result_.reset();
      }
    }
    if (streamer) {
      for (const v1::Envelope& env : streamer->due(now)) sendEnvelope(socket, env);
      if (streamer->allAcked()) {
        manifest = streamer->manifest(config_.node_id);
        spdlog::info("session {}: all {} frames acked ({} resends); sending manifest",
                     streamer->sessionId(), streamer->total(), streamer->resends());
        streamer.reset();
      }
    }
    if (manifest && now - manifest_sent >= config_.resend_after) {
      v1::Envelope env;
      *env.mutable_manifest() = *manifest;
      sendEnvelope(socket, env);
      manifest_sent = now;
    }
    if (config_.max_sessions > 0 && sessions_done >= config_.max_sessions) break;
  }
  return okStatus();
}

}  // namespace booth
