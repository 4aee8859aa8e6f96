#include "trainer_node/trainer_options.h"

#include "common/app/command_line.h"
#include "common/transport/curve_keys.h"

#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"

namespace booth {
namespace po = boost::program_options;

Result<TrainerOptions> parseTrainerOptions(int argc, const char* const* argv) {
  TrainerOptions opt;
  std::string data_dir = opt.data_dir.string();
  ModelConfig& m = opt.runner.model;
  TrainConfig& t = opt.runner.train;
  RenderConfig& r = opt.runner.render;
  double node_timeout_s = 5;
  double stall_timeout_s = 60;
  std::string secret_key_file, allow_file;
  double max_frame_mb = static_cast<double>(opt.ingest.max_frame_bytes) / (1 << 20);
  std::string token_file;
  double http_timeout_s = 10, retention_hours = 72, failed_retention_minutes = 60;
  double clip_mb_per_s = 16;
  HttpConfig& h = opt.http;

  po::options_description desc(
      "trainer_node: receives booth sessions, fine-tunes the pose-to-image generator, renders and "
      "serves the clips.\nOptions (also accepted as key=value lines in --config)");
  addStandardOptions(desc);
  // clang-format off
  desc.add_options()
    ("data-dir", po::value(&data_dir)->default_value(data_dir), "sessions, clips and the job database live here")
    ("fsync", po::value(&opt.fsync)->default_value(true), "fsync every received frame before acking it")
    ("ingest", po::value(&opt.ingest.endpoint)->default_value(opt.ingest.endpoint), "ZeroMQ endpoint capture nodes connect to (bound here)")
    ("curve-secret-key", po::value(&secret_key_file), "the trainer's secret key file (make a pair with 'trainer_node keygen --out BASE')")
    ("allowed-nodes", po::value(&allow_file), "allow-list of capture nodes: lines '<node-id> <public key>'")
    ("insecure", po::bool_switch(&opt.ingest.insecure), "no keys: any client on a loopback ingest is taken at its word (demos only)")
    ("node-timeout", po::value(&node_timeout_s)->default_value(node_timeout_s), "seconds without a heartbeat before a capture node is dropped")
    ("session-stall-timeout", po::value(&stall_timeout_s)->default_value(stall_timeout_s), "seconds a session member may send nothing new before the session fails")
    ("credit-records", po::value(&opt.ingest.credit_records)->default_value(opt.ingest.credit_records), "records (frames + poses) each capture node may have unacked")
    ("credit-mb", po::value(&opt.ingest.credit_bytes)->default_value(opt.ingest.credit_bytes >> 20), "megabytes of frames each capture node may have unacked")
    ("max-frame-mb", po::value(&max_frame_mb)->default_value(max_frame_mb), "largest frame accepted")
    ("max-frame-pixels", po::value(&opt.ingest.max_frame_pixels)->default_value(opt.ingest.max_frame_pixels), "largest frame accepted, in pixels (width x height)")
    ("max-frames-per-session", po::value(&opt.ingest.max_frames_per_session)->default_value(opt.ingest.max_frames_per_session), "frames one session may hold, all cameras together")
    ("http-host", po::value(&opt.http.host)->default_value(opt.http.host), "HTTP listen address")
    ("http-port", po::value(&opt.http.port)->default_value(opt.http.port), "HTTP port (0 = any free port)")
    ("public-url", po::value(&opt.http.public_url), "base URL in clip links (default http://HOST:PORT)")
    ("capture-seconds", po::value(&opt.http.default_capture_seconds)->default_value(15), "default session length")
    ("operator-token-file", po::value(&token_file), "file holding the operator token (mode 0600); default DATA/operator_token, created when missing")
    ("max-train-budget", po::value(&h.max_train_budget_seconds)->default_value(h.max_train_budget_seconds), "the most training seconds a session may ask for")
    ("http-threads", po::value(&h.limits.threads)->default_value(h.limits.threads), "HTTP worker threads (each serves one connection at a time)")
    ("http-timeout", po::value(&http_timeout_s)->default_value(http_timeout_s), "seconds a client may take to send a request; also each write's timeout")
    ("http-max-body", po::value(&h.limits.max_body_bytes)->default_value(h.limits.max_body_bytes), "largest request body in bytes")
    ("http-max-downloads", po::value(&h.max_downloads)->default_value(h.max_downloads), "clip downloads served at once (more are told to retry)")
    ("http-max-streams", po::value(&h.max_event_streams)->default_value(h.max_event_streams), "operator pages following live events at once")
    ("http-nice", po::value(&h.limits.worker_nice)->default_value(h.limits.worker_nice), "nice value of HTTP worker threads (training keeps priority)")
    ("clip-bandwidth", po::value(&clip_mb_per_s)->default_value(clip_mb_per_s), "MB/s for all clip downloads together (0 = unlimited)")
    ("retention-hours", po::value(&retention_hours)->default_value(retention_hours), "hours a finished visitor's frames, model and clip are kept (0 = until deleted by hand)")
    ("failed-retention-minutes", po::value(&failed_retention_minutes)->default_value(failed_retention_minutes), "minutes a failed session's frames (and orphaned files) are kept")
    ("device", po::value(&opt.runner.device)->default_value("cpu"), "cpu | cuda | cuda:N")
    ("warm-start", po::value(&opt.runner.warm_start), "generator checkpoint to fine-tune from (default: from scratch)")
    ("train-budget", po::value(&t.budget_seconds)->default_value(t.budget_seconds), "training wall-clock seconds per job")
    ("max-iterations", po::value(&t.max_iterations)->default_value(0), "stop training after this many steps (0 = budget only)")
    ("batch-size", po::value(&t.batch_size)->default_value(t.batch_size), "frame pairs per training step")
    ("learning-rate", po::value(&t.learning_rate)->default_value(t.learning_rate), "Adam learning rate")
    ("lambda-l1", po::value(&t.lambda_l1)->default_value(t.lambda_l1), "weight of the L1 reconstruction loss")
    ("resolution", po::value(&m.resolution)->default_value(m.resolution), "model resolution (square)")
    ("ngf", po::value(&m.ngf)->default_value(m.ngf), "generator width")
    ("ndf", po::value(&m.ndf)->default_value(m.ndf), "discriminator width")
    ("downsamples", po::value(&m.downsamples)->default_value(m.downsamples), "generator down/up-sampling steps")
    ("blocks", po::value(&m.blocks)->default_value(m.blocks), "generator residual blocks")
    ("choreography", po::value(&r.choreography)->default_value(r.choreography), "default reference choreography of clips")
    ("reference-performer", po::value(&r.reference_performer)->default_value(r.reference_performer), "who dances the reference in the clip's first panel")
    ("clip-seconds", po::value(&r.seconds)->default_value(r.seconds), "clip length")
    ("clip-fps", po::value(&r.fps)->default_value(r.fps), "clip frame rate")
    ("panel-size", po::value(&r.panel_size)->default_value(r.panel_size), "pixel size of each of the clip's three panels")
    ("log-level", po::value(&opt.log_level)->default_value(opt.log_level), "trace | debug | info | warn | error");
  // clang-format on
  auto parsed = parseCommandLine(argc, argv, desc, "trainer_node");
  if (!parsed.ok()) return fail(parsed.error());
  opt.help_text = parsed->help_text;
  if (parsed->help) {
    opt.help = true;
    return opt;
  }

  opt.data_dir = data_dir;
  opt.ingest.node_timeout =
      std::chrono::milliseconds(static_cast<long long>(node_timeout_s * 1000));
  if (!(node_timeout_s > 0)) return fail("--node-timeout must be positive");
  if (!(stall_timeout_s >= 1)) return fail("--session-stall-timeout must be at least 1 second");

  opt.ingest.session_stall_timeout =
      std::chrono::milliseconds(static_cast<long long>(stall_timeout_s * 1000));
  if (opt.ingest.credit_records < 1 || opt.ingest.credit_records > 100000) {
    return fail("--credit-records must be in 1..100000");
  }
  if (opt.ingest.credit_bytes < 1 || opt.ingest.credit_bytes > 4096) {
    return fail("--credit-mb must be in 1..4096");
  }
  opt.ingest.credit_bytes <<= 20;
  if (!(max_frame_mb > 0 && max_frame_mb <= 64)) return fail("--max-frame-mb must be in (0, 64]");
  opt.ingest.max_frame_bytes = static_cast<std::size_t>(max_frame_mb * (1 << 20));
  opt.ingest.max_message_bytes = opt.ingest.max_frame_bytes + (1 << 20);
  if (opt.ingest.max_frame_pixels < 64 * 64) return fail("--max-frame-pixels is too small");
  if (opt.ingest.max_frames_per_session < 2) return fail("--max-frames-per-session is too small");
  if (opt.http.port < 0 || opt.http.port > 65535) {
    return fail("--http-port " + std::to_string(opt.http.port) + " out of range; use 0..65535");
  }
  if (!(opt.http.default_capture_seconds > 0 && opt.http.default_capture_seconds <= 120)) {
    return fail("--capture-seconds must be in (0, 120]");
  }
  if (!(t.budget_seconds > 0)) {
    return fail("--train-budget must be positive, got " + std::to_string(t.budget_seconds));
  }
  if (t.batch_size < 1 || t.batch_size > 256) return fail("--batch-size must be in 1..256");
  if (m.resolution < 32 || m.resolution > 1024) return fail("--resolution must be in 32..1024");
  if (!(r.seconds > 0 && r.seconds <= 600)) return fail("--clip-seconds must be in (0, 600]");
  if (!(r.fps > 0 && r.fps <= 60)) return fail("--clip-fps must be in (0, 60]");
  if (r.panel_size < 16 || r.panel_size % 2) return fail("--panel-size must be even and >= 16");
  if (!findChoreography(r.choreography)) {
    std::string names;
    for (const auto& c : builtinChoreographies()) names += " " + c.name;
    return fail("--choreography '" + r.choreography + "' is unknown; built-in:" + names);
  }
  if (!findPerformer(r.reference_performer)) {
    return fail("--reference-performer '" + r.reference_performer + "' is unknown");
  }
  if (!opt.runner.warm_start.empty() && !std::filesystem::exists(opt.runner.warm_start)) {
    return fail("--warm-start checkpoint '" + opt.runner.warm_start +
                "' does not exist; give a generator.pt from a previous job or leave it out");
  }
  if (!(h.max_train_budget_seconds > 0 && h.max_train_budget_seconds <= 24 * 3600)) {
    return fail("--max-train-budget must be in (0, 86400] seconds");
  }
  if (t.budget_seconds > h.max_train_budget_seconds) {
    return fail("--train-budget " + std::to_string(t.budget_seconds) +
                " is above --max-train-budget " + std::to_string(h.max_train_budget_seconds));
  }
  h.default_train_budget_seconds = t.budget_seconds;
  if (h.limits.threads < 4 || h.limits.threads > 1024) return fail("--http-threads must be in 4..1024");
  if (h.max_downloads < 1 || h.max_downloads > 1024 || h.max_event_streams < 1 ||
      h.max_event_streams > 1024) {
    return fail("--http-max-downloads and --http-max-streams must be in 1..1024");
  }
  if (h.max_downloads + h.max_event_streams >= h.limits.threads) {
    return fail("--http-max-downloads + --http-max-streams must leave threads for the page and "
                "API: raise --http-threads above " +
                std::to_string(h.max_downloads + h.max_event_streams));
  }
  if (!(http_timeout_s >= 1 && http_timeout_s <= 600)) return fail("--http-timeout must be in [1, 600] seconds");
  h.limits.request_deadline = std::chrono::milliseconds(static_cast<long long>(http_timeout_s * 1000));
  h.limits.write_timeout = h.limits.request_deadline;
  h.limits.read_timeout = std::min(h.limits.read_timeout, h.limits.request_deadline);
  if (h.limits.max_body_bytes < 1024 || h.limits.max_body_bytes > 16 * 1024 * 1024) {
    return fail("--http-max-body must be in 1024..16777216 bytes");
  }
  if (h.limits.worker_nice < 0 || h.limits.worker_nice > 19) return fail("--http-nice must be in 0..19");
  if (!(clip_mb_per_s >= 0)) return fail("--clip-bandwidth must be >= 0 MB/s (0 = unlimited)");
  h.clip_bytes_per_second = clip_mb_per_s * 1e6;
  if (!(retention_hours >= 0)) return fail("--retention-hours must be >= 0 (0 = keep until deleted)");
  if (!(failed_retention_minutes >= 1)) return fail("--failed-retention-minutes must be at least 1");
  opt.retention.keep_done = std::chrono::seconds(static_cast<long long>(retention_hours * 3600));
  opt.retention.keep_failed =
      std::chrono::seconds(static_cast<long long>(failed_retention_minutes * 60));
  h.create_operator_token = token_file.empty();
  h.operator_token_file = token_file.empty() ? opt.data_dir / "operator_token"
                                             : std::filesystem::path(token_file);
  if (!secret_key_file.empty() || !allow_file.empty()) {
    if (secret_key_file.empty() || allow_file.empty()) {
      return fail("--curve-secret-key and --allowed-nodes go together");
    }
    auto keys = loadCurveSecretKey(secret_key_file);
    if (!keys.ok()) return fail("--curve-secret-key: " + keys.error());
    auto allow = CurveAllowList::load(allow_file);
    if (!allow.ok()) return fail("--allowed-nodes: " + allow.error());
    if (allow->size() == 0) {
      return fail("--allowed-nodes " + allow_file + " lists no capture node");
    }
    opt.ingest.server_keys = keys.value();
    opt.ingest.allow = allow.value();
  } else if (!opt.ingest.insecure) {
    return fail("no keys: give --curve-secret-key and --allowed-nodes, or --insecure for a "
                "loopback-only demo");
  } else if (!isLoopbackEndpoint(opt.ingest.endpoint)) {
    return fail("--insecure only listens on loopback, not " + opt.ingest.endpoint +
                "; use keys for capture nodes on other machines");
  }
  for (const auto& c : builtinChoreographies()) opt.http.choreographies.push_back(c.name);
  opt.runner.clips_dir = opt.data_dir / "clips";
  return opt;
}

}  // namespace booth
