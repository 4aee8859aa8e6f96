#include "support/worker_fleet.h"

#include <thread>

#include "trainer_node/pretrain/synthetic_corpus.h"

namespace booth::testing {
namespace {
constexpr const char* kNode = "node";
constexpr const char* kCamera = "cam0";
constexpr int kFrames = 40;
}  // namespace

std::vector<std::string> tinyJobOptions() {
  return {"--fsync", "false", "--threads", "1", "--resolution", "64", "--ngf", "8", "--ndf", "8",
          "--blocks", "1", "--clip-seconds", "1", "--clip-fps", "10", "--panel-size", "64"};
}

bool waitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

WorkerFleet::WorkerFleet(std::string trainer_bin, std::filesystem::path dir,
                         std::string database_url)
    : trainer_bin_(std::move(trainer_bin)), dir_(std::move(dir)), url_(std::move(database_url)) {}

WorkerFleet::~WorkerFleet() { stopWorkers(); }

Status WorkerFleet::open() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return fail("cannot create " + dir_.string() + ": " + ec.message());
  PgOptions options;
  options.url = url_;
  auto db = PgDatabase::open(options);
  if (!db.ok()) return fail(db.error());
  db_ = db.value();
  queue_ = std::make_unique<PgJobQueue>(db_);
  blobs_ = std::make_unique<PgBlobStore>(db_);
  sessions_ = std::make_unique<BlobSessionSink>(*blobs_);
  return okStatus();
}

Status WorkerFleet::queueJob(const std::string& id, double budget_seconds) {
  const std::string session = "session-" + id;
  PerformerLook small = *findPerformer("ada");
  const cv::Size size(160, 120);
  small.body.height_px = small.body.height_px * size.height / 480.f;
  const auto frames =
      syntheticSession(small, *findChoreography("warmup"), 3, kFrames / 15.0, 15, size, 90);
  if (auto st = storeSyntheticSession(*sessions_, session, kNode, kCamera, frames); !st.ok())
    return st;
  JobRecord job;
  job.id = id;
  job.session_id = session;
  job.state = JobState::kReceiving;
  job.train_budget_seconds = budget_seconds;
  job.cameras = {{kNode, kCamera, kFrames}};
  if (auto st = queue_->add(job); !st.ok()) return fail(st.message());
  if (auto st = queue_->enqueue(job); !st.ok()) return fail(st.message());
  return okStatus();
}

ChildProcess& WorkerFleet::startWorker(const std::string& name,
                                       const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--roles", "worker", "--database", url_, "--data-dir",
                                   (dir_ / ("data-" + name)).string(), "--worker-id", name};
  const auto tiny = tinyJobOptions();
  args.insert(args.end(), tiny.begin(), tiny.end());
  args.insert(args.end(), extra.begin(), extra.end());
  workers_.push_back(
      std::make_unique<ChildProcess>(trainer_bin_, args, (dir_ / (name + ".log")).string()));
  return *workers_.back();
}

Result<std::vector<BlobInfo>> WorkerFleet::clips() { return blobs_->list("clips/"); }

std::string WorkerFleet::logs() const {
  std::string out;
  for (const auto& w : workers_) out += w->output() + "\n-----\n";
  return out;
}

void WorkerFleet::stopWorkers() { workers_.clear(); }

}  // namespace booth::testing
