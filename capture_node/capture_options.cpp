#include "capture_node/capture_options.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "common/app/command_line.h"
#include "common/core/safe_id.h"
#include "common/transport/curve_keys.h"

namespace booth {
namespace po = boost::program_options;

Result<CameraSpec> parseCameraSpec(const std::string& text, int index) {
  CameraSpec spec;
  spec.camera_id = "cam" + std::to_string(index);
  std::vector<std::string> parts;
  std::stringstream ss(text);
  for (std::string part; std::getline(ss, part, ':');) parts.push_back(part);
  if (parts.empty())
    return fail("--camera is empty; use auto, synthetic, video:PATH or v4l2:DEVICE");
  const std::string& kind = parts[0];
  if (kind == "auto" && parts.size() == 1) {
    spec.kind = CameraSpec::Kind::kAuto;
  } else if (kind == "synthetic" && parts.size() <= 4) {
    spec.kind = CameraSpec::Kind::kSynthetic;
    if (parts.size() > 1 && !parts[1].empty()) spec.performer = parts[1];
    if (parts.size() > 2 && !parts[2].empty()) spec.choreography = parts[2];
    if (parts.size() > 3) {
      try {
        spec.seed = std::stoull(parts[3]);
      } catch (const std::exception&) {
        return fail("--camera " + text + ": seed '" + parts[3] + "' is not a number");
      }
    }
  } else if ((kind == "video" || kind == "v4l2") && parts.size() >= 2) {
    spec.kind = kind == "video" ? CameraSpec::Kind::kVideo : CameraSpec::Kind::kV4l2;
    // Paths may contain ':'; everything after the first one is the path.
    spec.path = text.substr(kind.size() + 1);
    if (spec.path.empty()) return fail("--camera " + text + ": the path is empty");
  } else {
    return fail("--camera '" + text +
                "' is not understood; use auto, synthetic[:PERFORMER[:CHOREOGRAPHY[:SEED]]], "
                "video:PATH or v4l2:DEVICE");
  }
  return spec;
}

Result<std::pair<std::string, cv::Rect2f>> parsePerformanceZone(const std::string& text) {
  std::string camera;
  std::string numbers = text;
  if (const auto eq = text.find('='); eq != std::string::npos) {
    camera = text.substr(0, eq);
    numbers = text.substr(eq + 1);
    if (!isSafeId(camera)) {
      return fail("--performance-zone '" + text + "': camera '" + camera + "' is not a camera id");
    }
  }
  float v[4] = {};
  char comma[3] = {};
  std::istringstream in(numbers);
  in >> v[0] >> comma[0] >> v[1] >> comma[1] >> v[2] >> comma[2] >> v[3];
  const bool parsed = !in.fail() && in.eof() && comma[0] == ',' && comma[1] == ',' && comma[2] == ',';
  const cv::Rect2f zone(v[0], v[1], v[2], v[3]);
  if (!parsed || !(zone.x >= 0 && zone.y >= 0 && zone.width > 0 && zone.height > 0 &&
                   zone.x + zone.width <= 1.0001f && zone.y + zone.height <= 1.0001f)) {
    return fail("--performance-zone '" + text +
                "' is not [CAMERA=]X,Y,W,H with a rectangle inside the frame in 0..1 "
                "(e.g. 0.25,0.25,0.5,0.75)");
  }
  return std::pair{camera, zone};
}

Result<CaptureOptions> parseCaptureOptions(int argc, const char* const* argv) {
  CaptureOptions opt;
  // Defaults: the performer stands in the middle of the frame.
  opt.node.pose.tracker.zone = cv::Rect2f(0.25f, 0.25f, 0.5f, 0.75f);
  std::vector<std::string> zones;
  std::vector<std::string> cameras;
  double connect_timeout_s = 10;
  int resend_ms = 3000;
  std::string pose_input = "auto";
  std::string spool_dir = opt.node.spool_dir.string();
  double spool_budget_mb = static_cast<double>(opt.node.spool_budget_bytes >> 20);
  int stall_ms = static_cast<int>(opt.node.camera.stall_after.count());
  int window = static_cast<int>(opt.node.default_credit_records);
  std::string secret_key_file, trainer_key_file, preview_dir;
  std::vector<std::string> trainers;
  int failover_ms = static_cast<int>(opt.node.link.failover_after.count());

  po::options_description desc(
      "capture_node: captures booth sessions from cameras and streams frames and keypoints to the "
      "trainer.\nOptions (also accepted as key=value lines in --config)");
  addStandardOptions(desc);
  // clang-format off
  desc.add_options()
    ("node-id", po::value(&opt.node.node_id)->default_value(opt.node.node_id), "name of this node, unique per trainer")
    ("trainer", po::value(&trainers)->composing(), "trainer ingest endpoint (default tcp://127.0.0.1:5555); several, comma-separated or repeated: the node moves to the next when one goes silent")
    ("trainer-failover-ms", po::value(&failover_ms)->default_value(failover_ms), "with several --trainer endpoints: silence from the current one for this long moves to the next")
    ("curve-secret-key", po::value(&secret_key_file), "this node's secret key file (make a pair with 'capture_node keygen --out BASE')")
    ("trainer-public-key", po::value(&trainer_key_file), "the trainer's public key file (its keygen's .pub)")
    ("insecure", po::bool_switch(&opt.node.link.insecure), "no keys: plain TCP, only to a loopback trainer (demos); the trainer must say --insecure too")
    ("camera", po::value(&cameras)->composing(), "camera source, repeatable: auto | synthetic[:PERFORMER[:CHOREOGRAPHY[:SEED]]] | video:PATH | v4l2:DEVICE (default auto)")
    ("width", po::value(&opt.width)->default_value(opt.width), "capture width (v4l2, synthetic)")
    ("height", po::value(&opt.height)->default_value(opt.height), "capture height (v4l2, synthetic)")
    ("fps", po::value(&opt.fps)->default_value(opt.fps), "capture frame rate (v4l2, synthetic)")
    ("pose", po::value(&opt.pose)->default_value(opt.pose), "pose stage: auto (ground truth for synthetic cameras, else the network) | ground-truth | network")
    ("pose-model", po::value(&opt.pose_model), "pose model manifest for the network pose stage (e.g. capture_node/pose/models/tfpose_mobilenet_v2_small.json)")
    ("pose-input", po::value(&pose_input)->default_value(pose_input), "network input WxH, or auto (the manifest's default pixel count at the first camera's aspect)")
    ("pose-mode", po::value(&opt.pose_mode)->default_value(opt.pose_mode), "top-down: the --pose-model network finds people at --pose-finder-hz, the crop network poses the performer on every frame | single: the --pose-model network alone on every frame")
    ("pose-crop-model", po::value(&opt.pose_crop_model)->default_value(opt.pose_crop_model), "top-down: the crop network's manifest (auto: movenet_singlepose_lightning.json beside --pose-model)")
    ("pose-finder-hz", po::value(&opt.node.top_down.finder_hz)->default_value(opt.node.top_down.finder_hz), "top-down: person finder runs per second per camera, more while the performer is uncertain (0: every frame)")
    ("performance-zone", po::value(&zones)->composing(), "[CAMERA=]X,Y,W,H: the floor mark, normalised to the frame; the performer is who stands (feet) in it when capture starts; repeatable, one per camera (default 0.25,0.25,0.5,0.75 for every camera)")
    ("pose-max-fps", po::value(&opt.node.pose.max_pose_fps)->default_value(opt.node.pose.max_pose_fps), "run the networks on at most this many frames per second per camera; the frames in between are interpolated (0: every frame, the camera's rate)")
    ("synthetic-loop-frames", po::value(&opt.synthetic_loop_frames)->default_value(0), "synthetic cameras render this many frames once and loop them (cheap high frame rates; 0 = render every frame)")
    ("preview-dir", po::value(&preview_dir), "write a live preview (newest posed frame with the performer's stick figure) to DIR/<camera>.jpg")
    ("preview-fps", po::value(&opt.node.preview_fps)->default_value(opt.node.preview_fps), "live preview updates per second")
    ("pose-workers", po::value(&opt.pose_workers)->default_value(opt.pose_workers), "pose worker threads (one network each)")
    ("spool-dir", po::value(&spool_dir)->default_value(spool_dir), "where sessions are spooled until the trainer has them (created 0700)")
    ("spool-budget-mb", po::value(&spool_budget_mb)->default_value(spool_budget_mb), "disk the spool may use; a full spool ends the capture, marked incomplete")
    ("max-capture-seconds", po::value(&opt.node.controller.max_capture_seconds)->default_value(opt.node.controller.max_capture_seconds), "longest capture this node accepts from the trainer")
    ("stall-ms", po::value(&stall_ms)->default_value(stall_ms), "a camera that delivers nothing for this long is reported stalled")
    ("window", po::value(&window)->default_value(window), "records in flight before the trainer grants its own credit")
    ("resend-ms", po::value(&resend_ms)->default_value(resend_ms), "resend a frame not acked within this many milliseconds")
    ("connect-timeout", po::value(&connect_timeout_s)->default_value(connect_timeout_s), "seconds to wait for the trainer to answer at start-up")
    ("max-sessions", po::value(&opt.node.max_sessions)->default_value(0), "exit after this many sessions (0 = serve until stopped)")
    ("log-level", po::value(&opt.log_level)->default_value(opt.log_level), "trace | debug | info | warn | error")
    ("list-cameras", po::bool_switch(&opt.list_cameras), "print every V4L2 device under /dev (card, driver, bus, pixel formats, frame sizes and frame intervals) and exit");
  // clang-format on
  auto parsed = parseCommandLine(argc, argv, desc, "capture_node");
  if (!parsed.ok()) return fail(parsed.error());
  opt.help_text = parsed->help_text;
  if (parsed->help) {
    opt.help = true;
    return opt;
  }
  if (opt.list_cameras) return opt;  // nothing else is used, so nothing else can be wrong

  if (cameras.empty()) cameras.push_back("auto");
  for (std::size_t i = 0; i < cameras.size(); ++i) {
    auto spec = parseCameraSpec(cameras[i], static_cast<int>(i));
    if (!spec.ok()) return fail(spec.error());
    opt.cameras.push_back(spec.value());
  }
  if (opt.width < 64 || opt.height < 64 || opt.width > 4096 || opt.height > 4096) {
    return fail("--width/--height " + std::to_string(opt.width) + "x" + std::to_string(opt.height) +
                " out of range; use 64..4096");
  }
  if (!(opt.fps > 0 && opt.fps <= 240)) {
    return fail("--fps " + std::to_string(opt.fps) + " out of range; use 0 < fps <= 240");
  }
  if (opt.pose != "auto" && opt.pose != "ground-truth" && opt.pose != "network") {
    return fail("--pose '" + opt.pose + "' is not one of auto, ground-truth, network");
  }
  if (window < 1 || window > 100000) {
    return fail("--window " + std::to_string(window) + " out of range; use 1..100000");
  }
  if (pose_input != "auto") {
    int w = 0;
    int h = 0;
    char x = 0;
    std::istringstream in(pose_input);
    if (!(in >> w >> x >> h) || x != 'x' || !in.eof() || w < 16 || h < 16 || w > 4096 ||
        h > 4096) {
      return fail("--pose-input '" + pose_input + "' is not WxH (e.g. 424x320) or auto");
    }
    opt.pose_input_width = w;
    opt.pose_input_height = h;
  }
  if (!(opt.node.pose.max_pose_fps >= 0 && opt.node.pose.max_pose_fps <= 240)) {
    return fail("--pose-max-fps " + std::to_string(opt.node.pose.max_pose_fps) +
                " out of range; use 0 (every frame) .. 240");
  }
  if (opt.pose_mode != "top-down" && opt.pose_mode != "single") {
    return fail("--pose-mode '" + opt.pose_mode + "' is not top-down or single");
  }
  if (opt.pose_crop_model.empty()) return fail("--pose-crop-model is empty (auto or a manifest)");
  if (!(opt.node.top_down.finder_hz >= 0 && opt.node.top_down.finder_hz <= 240)) {
    return fail("--pose-finder-hz " + std::to_string(opt.node.top_down.finder_hz) +
                " out of range; use 0 (every frame) .. 240");
  }
  for (const std::string& z : zones) {
    auto zone = parsePerformanceZone(z);
    if (!zone) return fail(zone.error());
    if (zone->first.empty()) {
      opt.node.pose.tracker.zone = zone->second;
    } else {
      opt.node.pose.zones[zone->first] = zone->second;
    }
  }
  if (opt.pose_workers < 1 || opt.pose_workers > 64) {
    return fail("--pose-workers " + std::to_string(opt.pose_workers) + " out of range; use 1..64");
  }
  if (!(spool_budget_mb >= 1)) {
    return fail("--spool-budget-mb must be at least 1, got " + std::to_string(spool_budget_mb));
  }
  if (!(opt.node.controller.max_capture_seconds > 0 &&
        opt.node.controller.max_capture_seconds <= 3600)) {
    return fail("--max-capture-seconds must be in (0, 3600]");
  }
  if (stall_ms < 100) return fail("--stall-ms " + std::to_string(stall_ms) + " too small; use >= 100");
  if (spool_dir.empty()) return fail("--spool-dir is empty");
  if (resend_ms < 10)
    return fail("--resend-ms " + std::to_string(resend_ms) + " too small; use >= 10");
  if (!(connect_timeout_s > 0)) {
    return fail("--connect-timeout must be positive, got " + std::to_string(connect_timeout_s));
  }
  if (!isSafeId(opt.node.node_id)) {
    return fail("--node-id '" + opt.node.node_id +
                "' is not valid: use 1-64 letters, digits, '.', '_' or '-' (e.g. booth-1)");
  }
  if (!trainers.empty()) {
    opt.node.link.endpoints.clear();
    for (const std::string& value : trainers) {
      std::size_t start = 0;
      while (start <= value.size()) {
        const std::size_t comma = std::min(value.find(',', start), value.size());
        std::string one = value.substr(start, comma - start);
        one.erase(0, one.find_first_not_of(" \t"));
        one.erase(one.find_last_not_of(" \t") + 1);
        if (!one.empty()) opt.node.link.endpoints.push_back(one);
        start = comma + 1;
      }
    }
    if (opt.node.link.endpoints.empty()) return fail("--trainer names no endpoint");
  }
  for (const std::string& endpoint : opt.node.link.endpoints) {
    if (endpoint.rfind("tcp://", 0) != 0 && endpoint.rfind("ipc://", 0) != 0) {
      return fail("--trainer '" + endpoint + "' is not a ZeroMQ endpoint; use tcp://HOST:PORT");
    }
  }
  if (failover_ms < 100) {
    return fail("--trainer-failover-ms " + std::to_string(failover_ms) + " too small; use >= 100");
  }
  opt.node.link.failover_after = std::chrono::milliseconds(failover_ms);

  opt.node.streamer.resend_after = std::chrono::milliseconds(resend_ms);
  opt.node.spool_dir = spool_dir;
  opt.node.spool_budget_bytes = static_cast<std::uint64_t>(spool_budget_mb * 1024 * 1024);
  opt.node.camera.stall_after = std::chrono::milliseconds(stall_ms);
  opt.node.default_credit_records = static_cast<std::uint64_t>(window);
  opt.node.preview_dir = preview_dir;
  if (!(opt.node.preview_fps > 0 && opt.node.preview_fps <= 60)) {
    return fail("--preview-fps must be in (0, 60]");
  }
  if (!secret_key_file.empty() || !trainer_key_file.empty()) {
    if (secret_key_file.empty() || trainer_key_file.empty()) {
      return fail("--curve-secret-key and --trainer-public-key go together");
    }
    auto keys = loadCurveSecretKey(secret_key_file);
    if (!keys.ok()) return fail("--curve-secret-key: " + keys.error());
    auto trainer = loadCurvePublicKey(trainer_key_file);
    if (!trainer.ok()) return fail("--trainer-public-key: " + trainer.error());
    opt.node.link.node_keys = keys.value();
    opt.node.link.trainer_public_key = trainer.value();
  } else if (!opt.node.link.insecure) {
    return fail("no keys: give --curve-secret-key and --trainer-public-key, or --insecure for a "
                "loopback-only demo");
  } else {
    for (const std::string& endpoint : opt.node.link.endpoints) {
      if (!isLoopbackEndpoint(endpoint)) {
        return fail("--insecure only reaches a loopback trainer, not " + endpoint +
                    "; use keys for a trainer on another machine");
      }
    }
  }
  opt.node.connect_timeout =
      std::chrono::milliseconds(static_cast<long long>(connect_timeout_s * 1000));
  return opt;
}

}  // namespace booth
