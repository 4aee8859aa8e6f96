#include "capture_node/capture_options.h"

#include "common/app/command_line.h"

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

Result<CaptureOptions> parseCaptureOptions(int argc, const char* const* argv) {
  CaptureOptions opt;
  std::vector<std::string> cameras;
  double connect_timeout_s = 10;
  int resend_ms = 3000;

  po::options_description desc(
      "capture_node: captures booth sessions from cameras and streams frames and keypoints to the "
      "trainer.\nOptions (also accepted as key=value lines in --config)");
  addStandardOptions(desc);
  // clang-format off
  desc.add_options()
    ("node-id", po::value(&opt.node.node_id)->default_value(opt.node.node_id), "name of this node, unique per trainer")
    ("trainer", po::value(&opt.node.trainer_endpoint)->default_value(opt.node.trainer_endpoint), "trainer ingest endpoint")
    ("camera", po::value(&cameras)->composing(), "camera source, repeatable: auto | synthetic[:PERFORMER[:CHOREOGRAPHY[:SEED]]] | video:PATH | v4l2:DEVICE (default auto)")
    ("width", po::value(&opt.width)->default_value(opt.width), "capture width (v4l2, synthetic)")
    ("height", po::value(&opt.height)->default_value(opt.height), "capture height (v4l2, synthetic)")
    ("fps", po::value(&opt.fps)->default_value(opt.fps), "capture frame rate (v4l2, synthetic)")
    ("pose", po::value(&opt.pose)->default_value(opt.pose), "pose stage: auto (ground truth for synthetic cameras, else the network) | ground-truth | network")
    ("pose-model", po::value(&opt.pose_model), "OpenPose-style TensorFlow graph for the network pose stage (e.g. tfpose_mobilenet_v2_small_368x432.pb)")
    ("window", po::value(&opt.node.window)->default_value(opt.node.window), "frames in flight before acks (credit)")
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
  if (opt.node.window < 1 || opt.node.window > 100000) {
    return fail("--window " + std::to_string(opt.node.window) + " out of range; use 1..100000");
  }
  if (resend_ms < 10)
    return fail("--resend-ms " + std::to_string(resend_ms) + " too small; use >= 10");
  if (!(connect_timeout_s > 0)) {
    return fail("--connect-timeout must be positive, got " + std::to_string(connect_timeout_s));
  }
  if (opt.node.node_id.empty()) return fail("--node-id is empty; give this node a name");
  if (opt.node.trainer_endpoint.rfind("tcp://", 0) != 0 &&
      opt.node.trainer_endpoint.rfind("ipc://", 0) != 0) {
    return fail("--trainer '" + opt.node.trainer_endpoint +
                "' is not a ZeroMQ endpoint; use tcp://HOST:PORT");
  }
  opt.node.resend_after = std::chrono::milliseconds(resend_ms);
  opt.node.connect_timeout =
      std::chrono::milliseconds(static_cast<long long>(connect_timeout_s * 1000));
  return opt;
}

}  // namespace booth
