#include "trainer_node/trainer_options.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "capture_node/pose/model_manifest.h"
#include "common/app/command_line.h"
#include "common/core/safe_id.h"
#include "common/transport/curve_keys.h"
#include "common/pose/choreography_file.h"
#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "trainer_node/store/pg/pg_database.h"

namespace booth {
namespace po = boost::program_options;
namespace {

// The same after a restart of this gateway, different for two gateways:
// the host's name and the endpoint its capture nodes connect to.
std::string defaultGatewayId(const std::string& endpoint) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') return "gateway " + endpoint;
  return std::string(host) + " " + endpoint;
}

// Model and training options shared by the server and pretrain; strings
// that need parsing are read into `text` and converted in finishModelOptions.
struct ModelOptionText {
  std::string precision = "fp32";
  std::string generator = "pose";
};

void addModelOptions(po::options_description& desc, ModelConfig& m, TrainConfig& t,
                     std::string& device, int& threads, ModelConfig defaults_m,
                     TrainConfig defaults_t, ModelOptionText& text) {
  // clang-format off
  desc.add_options()
    ("device", po::value(&device)->default_value(device), "cpu | cuda | cuda:N (cuda needs a libtorch built with CUDA)")
    ("threads", po::value(&threads)->default_value(threads), "libtorch CPU threads (0 = every CPU this process may use)")
    ("generator", po::value(&text.generator)->default_value(text.generator), "pose: the stick figure and the previous frame (Everybody Dance Now) | warp: also the visitor's nearest own frame warped part by part to the pose (a checkpoint holds one kind)")
    ("resolution", po::value(&m.resolution)->default_value(defaults_m.resolution), "model resolution (square)")
    ("ngf", po::value(&m.ngf)->default_value(defaults_m.ngf), "generator width")
    ("downsamples", po::value(&m.downsamples)->default_value(defaults_m.downsamples), "generator down/up-sampling steps")
    ("blocks", po::value(&m.blocks)->default_value(defaults_m.blocks), "generator residual blocks")
    ("ndf", po::value(&m.ndf)->default_value(defaults_m.ndf), "discriminator width")
    ("d-scales", po::value(&m.d_scales)->default_value(defaults_m.d_scales), "discriminator scales (multi-scale PatchGAN)")
    ("d-layers", po::value(&m.d_layers)->default_value(defaults_m.d_layers), "stride-2 layers of each PatchGAN")
    ("face-ngf", po::value(&m.face_ngf)->default_value(defaults_m.face_ngf), "face GAN generator width")
    ("face-blocks", po::value(&m.face_blocks)->default_value(defaults_m.face_blocks), "face GAN residual blocks")
    ("face-ndf", po::value(&m.face_ndf)->default_value(defaults_m.face_ndf), "face GAN discriminator width")
    ("batch-size", po::value(&t.batch_size)->default_value(defaults_t.batch_size), "frame pairs per training step")
    ("learning-rate", po::value(&t.learning_rate)->default_value(defaults_t.learning_rate), "Adam learning rate (constant, then linear decay to 0)")
    ("constant-lr-fraction", po::value(&t.constant_lr_fraction)->default_value(defaults_t.constant_lr_fraction), "share of each phase at the full learning rate")
    ("lambda-l1", po::value(&t.lambda_l1)->default_value(defaults_t.lambda_l1), "weight of the L1 reconstruction loss")
    ("lambda-feat", po::value(&t.lambda_feat)->default_value(defaults_t.lambda_feat), "weight of discriminator feature matching")
    ("lambda-gan", po::value(&t.lambda_gan)->default_value(defaults_t.lambda_gan), "weight of the LSGAN loss")
    ("lambda-l2sp", po::value(&t.lambda_l2sp)->default_value(defaults_t.lambda_l2sp), "L2-SP: pull of the generator's weights towards those training started from (the base), against forgetting; 0 = off")
    ("d-lr-scale", po::value(&t.d_learning_rate_scale)->default_value(defaults_t.d_learning_rate_scale), "the discriminator's learning rate as a multiple of the generator's (two time-scale updates; 1 = the same)")
    ("instance-noise", po::value(&t.instance_noise)->default_value(defaults_t.instance_noise), "std of Gaussian noise on every frame the discriminator sees, fading to 0 over the generator phase (0 = off)")
    ("face-gan", po::value(&t.face_gan)->default_value(defaults_t.face_gan), "train and use the face GAN (true/false)")
    ("face-fraction", po::value(&t.face_fraction)->default_value(defaults_t.face_fraction), "share of the training budget for the face GAN")
    ("eval-seconds", po::value(&t.eval_seconds)->default_value(defaults_t.eval_seconds), "held-out evaluation period (0 = only at phase ends)")
    ("precision", po::value(&text.precision)->default_value(text.precision), "fp32 | bf16 (autocast with bfloat16)")
    ("cuda-graph", po::value(&t.cuda_graph)->default_value(defaults_t.cuda_graph), "capture the training step in a CUDA graph (CUDA only)")
    ("seed", po::value(&t.seed)->default_value(defaults_t.seed), "sampling seed");
  // clang-format on
}

Status finishModelOptions(ModelConfig& m, TrainConfig& t, const std::string& device,
                          int threads, const ModelOptionText& text) {
  auto kind = parseGeneratorKind(text.generator);
  if (!kind.ok()) return fail("--" + kind.error());
  m.generator = kind.value();
  if (text.precision == "fp32") {
    t.precision = Precision::kFloat32;
  } else if (text.precision == "bf16") {
    t.precision = Precision::kBfloat16;
  } else {
    return fail("--precision must be fp32 or bf16, got '" + text.precision + "'");
  }
  if (device != "cpu" && device.rfind("cuda", 0) != 0)
    return fail("--device '" + device + "' is not one of cpu, cuda, cuda:N");
  if (t.cuda_graph && device.rfind("cuda", 0) != 0)
    return fail("--cuda-graph needs --device cuda, got --device " + device);
  if (threads < 0 || threads > 1024) return fail("--threads must be in 0..1024, got " + std::to_string(threads));
  if (m.resolution < 32 || m.resolution > 1024)
    return fail("--resolution must be in 32..1024, got " + std::to_string(m.resolution));
  if (auto s = validate(m); !s) return fail("--resolution/--ngf/...: " + s.error());
  if (t.batch_size < 1 || t.batch_size > 256) return fail("--batch-size must be in 1..256");
  if (!(t.d_learning_rate_scale > 0 && t.d_learning_rate_scale <= 10))
    return fail("--d-lr-scale must be in (0, 10], got " + std::to_string(t.d_learning_rate_scale));
  if (!(t.instance_noise >= 0 && t.instance_noise <= 2))
    return fail("--instance-noise must be in [0, 2], got " + std::to_string(t.instance_noise));
  if (auto s = validate(t); !s) return fail(s.error());
  return okStatus();
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

Result<TrainerRoles> parseTrainerRoles(const std::string& text) {
  TrainerRoles roles{false, false, false};
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string word = text.substr(start, comma - start);
    bool* role = word == "ingest" ? &roles.ingest
                 : word == "worker" ? &roles.worker
                 : word == "http"   ? &roles.http
                                    : nullptr;
    if (!role) {
      return fail("--roles: '" + word.substr(0, 40) +
                  "' is not a role; give a comma-separated set of ingest, worker, http");
    }
    if (*role) return fail("--roles names '" + word + "' twice");
    *role = true;
    start = comma + 1;
  }
  return roles;
}

Result<TrainerOptions> parseTrainerOptions(int argc, const char* const* argv) {
  TrainerOptions opt;
  std::string roles = "ingest,worker,http";
  double lease_s = static_cast<double>(opt.runner.lease.count()) / 1000;
  std::string data_dir = opt.data_dir.string();
  ModelConfig& m = opt.runner.model;
  TrainConfig& t = opt.runner.train;
  RenderConfig& r = opt.runner.render;
  t.budget_seconds = 300;
  double node_timeout_s = 5;
  std::string warm_start;
  std::string choreography_dir;
  ModelOptionText text;
  double stall_timeout_s = 60;
  std::string secret_key_file, allow_file;
  double max_frame_mb = static_cast<double>(opt.ingest.max_frame_bytes) / (1 << 20);
  std::string token_file;
  double http_timeout_s = 10, retention_hours = 72, failed_retention_minutes = 60;
  double consented_retention_days = 90;
  std::string gateway_id;
  double operator_session_hours = 12;
  double clip_mb_per_s = 16;
  double min_free_disk_mb = static_cast<double>(opt.ingest.min_free_bytes >> 20);
  HttpConfig& h = opt.http;

  po::options_description desc(
      "trainer_node: receives booth sessions, fine-tunes the pose-to-image generator, renders and "
      "serves the clips.\n'trainer_node pretrain --help': train the booth's base checkpoint.\n"
      "Options (also accepted as key=value lines in --config)");
  addStandardOptions(desc);
  // clang-format off
  desc.add_options()
    ("data-dir", po::value(&data_dir)->default_value(data_dir), "sessions, clips and the job database live here")
    ("fsync", po::value(&opt.fsync)->default_value(true), "fsync every received frame before acking it")
    ("database", po::value(&opt.database_url), "postgresql://USER:PASSWORD@HOST:PORT/DB: the job queue and the blobs in this PostgreSQL database, shared by several trainer processes (default: SQLite and --data-dir)")
    ("roles", po::value(&roles)->default_value(roles), "what this process runs: a comma-separated set of ingest (capture nodes' sessions), worker (trains and renders jobs), http (operator page, API, clips); a set other than all three needs --database")
    ("lease", po::value(&lease_s)->default_value(lease_s), "seconds a worker's claim on a job lasts without a heartbeat (renewed every third of it); a worker that dies loses its job after this")
    ("worker-id", po::value(&opt.runner.worker_id), "this worker's name in the job queue (default: host-pid-random)")
    ("gateway-id", po::value(&gateway_id), "this ingest gateway's name on the jobs it receives, the same after a restart and different for each gateway sharing a database (default: host name and --ingest endpoint)")
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
    ("min-free-disk-mb", po::value(&min_free_disk_mb)->default_value(min_free_disk_mb), "new sessions are refused while the data disk has less free (MiB)")
    ("max-attempts", po::value(&opt.jobs.max_attempts)->default_value(opt.jobs.max_attempts), "a job whose worker crashed or was lost this many times is failed instead of run again")
    ("http-host", po::value(&opt.http.host)->default_value(opt.http.host), "HTTP listen address")
    ("http-port", po::value(&opt.http.port)->default_value(opt.http.port), "HTTP port (0 = any free port)")
    ("public-url", po::value(&opt.http.public_url), "base URL in clip links (default http://HOST:PORT)")
    ("capture-seconds", po::value(&opt.http.default_capture_seconds)->default_value(15), "default session length")
    ("operator-token-file", po::value(&token_file), "file holding the operator token (mode 0600); default DATA/operator_token, created when missing")
    ("operator-session-hours", po::value(&operator_session_hours)->default_value(operator_session_hours), "hours a signed-in operator page stays signed in (sign-out and a restart end it sooner)")
    ("max-train-budget", po::value(&h.max_train_budget_seconds)->default_value(h.max_train_budget_seconds), "the most training seconds a session may ask for")
    ("http-threads", po::value(&h.limits.threads)->default_value(h.limits.threads), "HTTP worker threads (each serves one connection at a time)")
    ("http-timeout", po::value(&http_timeout_s)->default_value(http_timeout_s), "seconds a client may take to send a request; also each write's timeout")
    ("http-max-connections", po::value(&h.limits.max_connections)->default_value(h.limits.max_connections), "open HTTP connections in all; beyond, the one waiting longest for its request is cut off, or the new one gets 503")
    ("http-max-connections-per-address", po::value(&h.limits.max_connections_per_address)->default_value(h.limits.max_connections_per_address), "open HTTP connections from one client address (same rule)")
    ("http-max-body", po::value(&h.limits.max_body_bytes)->default_value(h.limits.max_body_bytes), "largest request body in bytes")
    ("http-max-downloads", po::value(&h.max_downloads)->default_value(h.max_downloads), "clip downloads served at once (more are told to retry)")
    ("http-max-streams", po::value(&h.max_event_streams)->default_value(h.max_event_streams), "operator pages following live events at once")
    ("http-nice", po::value(&h.limits.worker_nice)->default_value(h.limits.worker_nice), "nice value of HTTP worker threads (training keeps priority)")
    ("clip-bandwidth", po::value(&clip_mb_per_s)->default_value(clip_mb_per_s), "MB/s for all clip downloads together (0 = unlimited)")
    ("retention-hours", po::value(&retention_hours)->default_value(retention_hours), "hours a finished visitor's frames, model and clip are kept (0 = until deleted by hand)")
    ("consented-retention-days", po::value(&consented_retention_days)->default_value(consented_retention_days), "days after the session a visitor who agreed to improve the booth keeps their frames and poses for 'pretrain --sessions' (until withdrawn or deleted; 0 = deleted with the clip)")
    ("failed-retention-minutes", po::value(&failed_retention_minutes)->default_value(failed_retention_minutes), "minutes a failed session's frames (and orphaned files) are kept")
    ("base-checkpoint", po::value(&opt.runner.base_checkpoint), "the booth's base model (from 'trainer_node pretrain'); every job fine-tunes from it (default: from scratch)")
    ("warm-start", po::value(&warm_start), "same as --base-checkpoint (older name)")
    ("train-budget", po::value(&t.budget_seconds)->default_value(t.budget_seconds), "wall-clock seconds per job, loading + training + rendering (a session's budget_seconds overrides)")
    ("held-out-fraction", po::value(&opt.runner.held_out_fraction)->default_value(opt.runner.held_out_fraction), "share of a session's frames (its end) held out to pick the best weights")
    ("checkpoint-every", po::value(&opt.runner.checkpoint_seconds)->default_value(opt.runner.checkpoint_seconds), "seconds between training checkpoints (resume after a restart)")
    ("choreography", po::value(&r.choreography)->default_value(r.choreography), "default reference choreography of clips (built in, or imported into --choreography-dir)")
    ("choreography-dir", po::value(&choreography_dir), "imported choreographies ('capture_node import-choreography --out DIR/NAME.json'), read at start-up (default DATA/choreographies)")
    ("reference-performer", po::value(&r.reference_performer)->default_value(r.reference_performer), "who dances the reference in the clip's first panel")
    ("clip-seconds", po::value(&r.seconds)->default_value(r.seconds), "clip length")
    ("clip-fps", po::value(&r.fps)->default_value(r.fps), "clip frame rate")
    ("panel-size", po::value(&r.panel_size)->default_value(r.panel_size), "pixel size of each of the clip's three panels")
    ("log-level", po::value(&opt.log_level)->default_value(opt.log_level), "trace | debug | info | warn | error");
  // clang-format on
  addModelOptions(desc, m, t, opt.runner.device, opt.threads, ModelConfig{}, t, text);
  auto parsed = parseCommandLine(argc, argv, desc, "trainer_node");
  if (!parsed.ok()) return fail(parsed.error());
  opt.help_text = parsed->help_text;
  if (parsed->help) {
    opt.help = true;
    return opt;
  }

  opt.data_dir = data_dir;
  if (!opt.database_url.empty() && !isPostgresUrl(opt.database_url)) {
    return fail("--database must be a postgresql:// URL, got '" +
                redactDatabaseUrl(opt.database_url).substr(0, 200) + "'");
  }
  auto parsed_roles = parseTrainerRoles(roles);
  if (!parsed_roles.ok()) return fail(parsed_roles.error());
  opt.roles = parsed_roles.value();
  if (!opt.roles.all() && opt.database_url.empty()) {
    return fail("--roles " + roles + " needs --database: without it the jobs and their leases "
                "live in this one process (SQLite and --data-dir), which then runs every role");
  }
  if (!(lease_s >= 3 && lease_s <= 3600)) {
    return fail("--lease must be in [3, 3600] seconds, got " + std::to_string(lease_s));
  }
  opt.runner.lease = std::chrono::milliseconds(static_cast<long long>(lease_s * 1000));
  if (!gateway_id.empty() && !isSafeId(gateway_id)) {
    return fail("--gateway-id '" + gateway_id.substr(0, 80) +
                "' must be 1..64 of [A-Za-z0-9_.-], not starting with '.'");
  }
  // Without a database this is the queue's only gateway: it names none, and
  // reopens every receiving job after a restart whatever its endpoint.
  opt.ingest.gateway_id = opt.database_url.empty() ? std::string()
                          : gateway_id.empty()     ? defaultGatewayId(opt.ingest.endpoint)
                                                   : gateway_id;
  if (!opt.runner.worker_id.empty() && !isSafeId(opt.runner.worker_id)) {
    return fail("--worker-id '" + opt.runner.worker_id.substr(0, 80) +
                "' must be 1..64 of [A-Za-z0-9_.-], not starting with '.'");
  }
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
  if (auto s = finishModelOptions(m, t, opt.runner.device, opt.threads, text); !s) return fail(s.error());
  r.face_gan = t.face_gan;
  if (!(opt.runner.held_out_fraction >= 0 && opt.runner.held_out_fraction <= 0.5))
    return fail("--held-out-fraction must be in [0, 0.5]");
  if (!(opt.runner.checkpoint_seconds > 0)) return fail("--checkpoint-every must be positive");
  if (!(r.seconds > 0 && r.seconds <= 600)) return fail("--clip-seconds must be in (0, 600]");
  if (!(r.fps > 0 && r.fps <= 60)) return fail("--clip-fps must be in (0, 60]");
  if (r.panel_size < 16 || r.panel_size % 2) return fail("--panel-size must be even and >= 16");
  r.choreography_dir = choreography_dir.empty() ? opt.data_dir / "choreographies"
                                                : std::filesystem::path(choreography_dir);
  for (const auto& c : builtinChoreographies()) opt.http.choreographies.push_back(c.name);
  {
    ChoreographyDirScan scan = scanChoreographyDir(r.choreography_dir);
    for (auto& name : scan.names) {
      if (findChoreography(name)) {
        scan.problems.push_back(name + ".json: a built-in choreography has that name; rename it");
      } else {
        opt.http.choreographies.push_back(std::move(name));
      }
    }
    opt.choreography_problems = std::move(scan.problems);
  }
  if (std::find(opt.http.choreographies.begin(), opt.http.choreographies.end(), r.choreography) ==
      opt.http.choreographies.end()) {
    std::string names;
    for (const auto& c : opt.http.choreographies) names += " " + c;
    return fail("--choreography '" + r.choreography + "' is unknown; known:" + names +
                " (imported ones are read from " + r.choreography_dir.string() + ")");
  }
  if (!findPerformer(r.reference_performer)) {
    return fail("--reference-performer '" + r.reference_performer + "' is unknown");
  }
  if (!warm_start.empty()) {
    if (!opt.runner.base_checkpoint.empty() && opt.runner.base_checkpoint != warm_start)
      return fail("--warm-start and --base-checkpoint name different files; give one");
    opt.runner.base_checkpoint = warm_start;
  }
  if (!opt.runner.base_checkpoint.empty() && !std::filesystem::exists(opt.runner.base_checkpoint)) {
    return fail("--base-checkpoint '" + opt.runner.base_checkpoint +
                "' does not exist; make one with 'trainer_node pretrain' or leave it out");
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
  if (h.limits.max_connections < 16 || h.limits.max_connections > 65536) {
    return fail("--http-max-connections must be in 16..65536");
  }
  if (h.limits.max_connections_per_address < 1 ||
      h.limits.max_connections_per_address > h.limits.max_connections) {
    return fail("--http-max-connections-per-address must be in 1..--http-max-connections");
  }
  if (h.limits.worker_nice < 0 || h.limits.worker_nice > 19) return fail("--http-nice must be in 0..19");
  if (!(clip_mb_per_s >= 0)) return fail("--clip-bandwidth must be >= 0 MB/s (0 = unlimited)");
  h.clip_bytes_per_second = clip_mb_per_s * 1e6;
  if (!(retention_hours >= 0)) return fail("--retention-hours must be >= 0 (0 = keep until deleted)");
  if (!(min_free_disk_mb >= 0)) return fail("--min-free-disk-mb must be >= 0");
  opt.ingest.min_free_bytes = static_cast<std::uint64_t>(min_free_disk_mb * 1024 * 1024);
  if (opt.jobs.max_attempts < 1 || opt.jobs.max_attempts > 100) {
    return fail("--max-attempts must be in 1..100, got " + std::to_string(opt.jobs.max_attempts));
  }
  if (!(failed_retention_minutes >= 1)) return fail("--failed-retention-minutes must be at least 1");
  opt.retention.keep_done = std::chrono::seconds(static_cast<long long>(retention_hours * 3600));
  opt.retention.keep_failed =
      std::chrono::seconds(static_cast<long long>(failed_retention_minutes * 60));
  if (!(consented_retention_days >= 0 && consented_retention_days <= 3650)) {
    return fail("--consented-retention-days must be in [0, 3650], got " +
                std::to_string(consented_retention_days));
  }
  opt.retention.keep_consented =
      std::chrono::seconds(static_cast<long long>(consented_retention_days * 86400));
  if (!(operator_session_hours >= 0.01 && operator_session_hours <= 24 * 30)) {
    return fail("--operator-session-hours must be in [0.01, 720], got " +
                std::to_string(operator_session_hours));
  }
  h.operator_session_lifetime =
      std::chrono::seconds(static_cast<long long>(operator_session_hours * 3600));
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
  } else if (!opt.roles.ingest) {
    // No ingest here: no capture node connects to this process.
  } else if (!opt.ingest.insecure) {
    return fail("no keys: give --curve-secret-key and --allowed-nodes, or --insecure for a "
                "loopback-only demo");
  } else if (!isLoopbackEndpoint(opt.ingest.endpoint)) {
    return fail("--insecure only listens on loopback, not " + opt.ingest.endpoint +
                "; use keys for capture nodes on other machines");
  }
  opt.runner.work_dir = opt.data_dir / "work";
  opt.http.scratch_dir = opt.runner.work_dir / "http";
  return opt;
}

Result<PretrainOptions> parsePretrainOptions(int argc, const char* const* argv) {
  PretrainOptions opt;
  PretrainConfig& c = opt.pretrain;
  TrainConfig& t = c.train;
  t.max_iterations = 20000;
  t.budget_seconds = 1e9;
  std::string out = c.out.string();
  std::string sessions;
  std::string videos;
  std::string pose_mode = "top-down";
  std::string crop_model = "auto";
  std::string performers = "ada,ben,cleo,dev";
  std::string choreographies = "warmup,disco,robot,wave";
  std::string hold_out_performers;
  std::string hold_out_choreographies;
  std::string progress = "auto";
  double max_seconds = 0;
  ModelOptionText text;

  po::options_description desc(
      "trainer_node pretrain: trains the booth's base checkpoint, which every visitor's "
      "fine-tuning starts from (--base-checkpoint of the server). Resumes an interrupted run "
      "from OUT.resume.\nOptions (also accepted as key=value lines in --config)");
  addStandardOptions(desc);
  // clang-format off
  desc.add_options()
    ("out", po::value(&out)->default_value(out), "where the base checkpoint is written")
    ("iterations", po::value(&t.max_iterations)->default_value(t.max_iterations), "training steps (the schedule: reproducible on any machine)")
    ("max-seconds", po::value(&max_seconds)->default_value(0), "also stop after this many seconds, the schedule compressed to fit (0 = no limit)")
    ("checkpoint-every", po::value(&c.checkpoint_seconds)->default_value(c.checkpoint_seconds), "seconds between resume checkpoints")
    ("synthetic", po::value(&c.synthetic)->default_value(c.synthetic), "include the built-in synthetic corpus")
    ("performers", po::value(&performers)->default_value(performers), "built-in synthetic performers, comma-separated")
    ("random-performers", po::value(&c.corpus.random_performers)->default_value(12), "plus this many randomly generated performers")
    ("choreographies", po::value(&choreographies)->default_value(choreographies), "built-in choreographies, comma-separated")
    ("hold-out-performers", po::value(&hold_out_performers), "performers left out of the corpus (e.g. the demo's visitor)")
    ("hold-out-choreographies", po::value(&hold_out_choreographies), "choreographies left out of the corpus")
    ("clips-per-pair", po::value(&c.corpus.clips_per_pair)->default_value(2), "clips per (performer, choreography), each with varied energy and tempo")
    ("clip-seconds", po::value(&c.corpus.clip_seconds)->default_value(c.corpus.clip_seconds), "seconds per synthetic clip (30 fps)")
    ("corpus-seed", po::value(&c.corpus.seed)->default_value(c.corpus.seed), "seed of the synthetic corpus")
    ("vary-scenes", po::value(&c.corpus.vary_scenes)->default_value(c.corpus.vary_scenes), "film every synthetic clip of a pair but the first in a random scene (camera distance and height, light, backdrop); false: all in the booth's own scene")
    ("sessions", po::value(&sessions), "also the sessions stored under this trainer --data-dir whose visitors agreed to improve the booth (any other session is refused)")
    ("videos", po::value(&videos), "also every dance video in this folder, posed as 'capture_node import-choreography' does")
    ("pose-model", po::value(&c.video.pose.model_path), "--videos: pose model manifest (e.g. capture_node/pose/models/tfpose_mobilenet_v2_small.json)")
    ("pose-mode", po::value(&pose_mode)->default_value(pose_mode), "--videos: top-down (finder + crop network) | single (the --pose-model network alone)")
    ("pose-crop-model", po::value(&crop_model)->default_value(crop_model), "--videos, top-down: the crop network's manifest (auto: movenet_singlepose_lightning.json beside --pose-model)")
    ("progress", po::value(&progress)->default_value(progress), "bar | lines | auto (a bar on a terminal)");
  // clang-format on
  addModelOptions(desc, c.model, t, c.device, opt.threads, ModelConfig{}, t, text);
  // Skip "pretrain": the subcommand's own options follow it.
  std::vector<const char*> args(argv, argv + argc);
  if (args.size() >= 2) args.erase(args.begin() + 1);
  auto parsed = parseCommandLine(static_cast<int>(args.size()), args.data(), desc,
                                 "trainer_node pretrain");
  if (!parsed.ok()) return fail(parsed.error());
  opt.help_text = parsed->help_text;
  if (parsed->help) {
    opt.help = true;
    return opt;
  }
  if (auto s = finishModelOptions(c.model, t, c.device, opt.threads, text); !s) return fail(s.error());
  if (t.max_iterations <= 0) return fail("--iterations must be positive");
  if (max_seconds < 0) return fail("--max-seconds must be >= 0");
  if (max_seconds > 0) t.budget_seconds = max_seconds;
  c.out = out;
  c.sessions_dir = sessions;
  c.videos_dir = videos;
  if (pose_mode != "top-down" && pose_mode != "single") {
    return fail("--pose-mode '" + pose_mode + "' is not top-down or single");
  }
  if (!videos.empty() && c.video.pose.model_path.empty()) {
    return fail("--videos needs --pose-model: a pose model manifest, e.g. "
                "capture_node/pose/models/tfpose_mobilenet_v2_small.json");
  }
  if (pose_mode == "top-down" && !c.video.pose.model_path.empty()) {
    c.video.crop_model =
        crop_model == "auto" ? defaultCropModel(c.video.pose.model_path) : crop_model;
  }
  opt.progress = progress;
  c.progress_bar = progress == "bar";
  if (progress != "bar" && progress != "lines" && progress != "auto")
    return fail("--progress must be bar, lines or auto, got '" + progress + "'");
  const auto held_p = splitList(hold_out_performers);
  const auto held_c = splitList(hold_out_choreographies);
  for (const auto& name : held_p)
    if (!findPerformer(name)) return fail("--hold-out-performers: unknown performer '" + name + "'");
  for (const auto& name : held_c)
    if (!findChoreography(name)) return fail("--hold-out-choreographies: unknown choreography '" + name + "'");
  for (const auto& name : splitList(performers)) {
    if (!findPerformer(name)) return fail("--performers: unknown performer '" + name + "'");
    if (std::find(held_p.begin(), held_p.end(), name) == held_p.end()) c.corpus.performers.push_back(name);
  }
  for (const auto& name : splitList(choreographies)) {
    if (!findChoreography(name)) return fail("--choreographies: unknown choreography '" + name + "'");
    if (std::find(held_c.begin(), held_c.end(), name) == held_c.end())
      c.corpus.choreographies.push_back(name);
  }
  if (auto s = validate(c); !s) return fail(s.error());
  c.progress_seconds = 30;
  return opt;
}

}  // namespace booth
