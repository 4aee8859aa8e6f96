#include "trainer_node/retention/retention_sweeper.h"

#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <map>

#include <spdlog/spdlog.h>

#include "common/core/safe_id.h"
#include "trainer_node/store/clip_names.h"

namespace booth {
namespace fs = std::filesystem;
namespace {

// Jobs taken from one listing in one sweep; the rest wait for the next.
constexpr int kJobsPerSweep = 1000;
// A write neither committed nor aborted (its process died) is left this
// long at least before retention takes it for abandoned.
constexpr std::chrono::seconds kAbandonedWriteAge = std::chrono::hours(1);
constexpr std::string_view kSessionsPrefix = "sessions/";
constexpr std::string_view kClipsPrefix = "clips/";

std::int64_t wallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t mtimeMillis(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

// The newest modification time of anything in the tree.
std::int64_t newestMillis(const fs::path& root) {
  std::int64_t newest = mtimeMillis(root);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    newest = std::max(newest, mtimeMillis(it->path()));
  }
  return newest;
}

Status removeTree(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return fail("cannot delete " + p.string() + ": " + ec.message());
  }
  return okStatus();
}

std::string sessionPrefix(const std::string& session_id) {
  return std::string(kSessionsPrefix) + session_id + "/";
}

// "sessions/<session>/…" -> <session>; nullopt for any other key.
std::optional<std::string> sessionOfKey(const std::string& key) {
  if (key.compare(0, kSessionsPrefix.size(), kSessionsPrefix) != 0) return std::nullopt;
  const std::size_t slash = key.find('/', kSessionsPrefix.size());
  if (slash == std::string::npos) return std::nullopt;
  return key.substr(kSessionsPrefix.size(), slash - kSessionsPrefix.size());
}

}  // namespace

RetentionSweeper::RetentionSweeper(RetentionConfig config, JobQueue& jobs, BlobStore& blobs,
                                   const SessionStore& sessions, NowMillis now)
    : config_(config), jobs_(jobs), blobs_(blobs), sessions_(sessions), now_(std::move(now)) {
  if (!now_) now_ = wallMillis;
}

RetentionSweeper::~RetentionSweeper() { stop(); }

void RetentionSweeper::start() {
  thread_ = std::jthread([this](std::stop_token st) { loop(st); });
}

void RetentionSweeper::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void RetentionSweeper::loop(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any cv;
  while (!stop.stop_requested()) {
    Report r;
    // Last resort: a sweep that throws is tried again at the next interval.
    try {
      r = sweepOnce();
    } catch (const std::exception& e) {
      spdlog::error("retention: the sweep failed: {}; trying again later", e.what());
    } catch (...) {
      spdlog::error("retention: the sweep failed (unknown exception); trying again later");
    }
    if (r.done_purged + r.failed_purged + r.orphan_sessions + r.orphan_clips + r.consent_kept +
            r.consented_purged >
        0) {
      spdlog::info(
          "retention: deleted the data of {} done and {} failed job(s), {} orphaned "
          "session(s), {} orphaned clip file(s); {} done job(s) lost their clip and "
          "model but keep their frames by the visitor's consent, {} such job(s) lost their "
          "frames (consented time up or withdrawn)",
          r.done_purged, r.failed_purged, r.orphan_sessions, r.orphan_clips, r.consent_kept,
          r.consented_purged);
    }
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, config_.interval, [] { return false; });
  }
}

bool RetentionSweeper::consentKeeps(const JobRecord& job, std::int64_t now) const {
  const auto until = framesKeptUntil(job);
  return until && now < *until;
}

std::optional<std::int64_t> RetentionSweeper::framesKeptUntil(const JobRecord& job) const {
  const bool stored = job.state == JobState::kDone ||
                      (job.state == JobState::kExpired && job.frames_purged_ms == 0);
  if (!stored || !consentHolds(job) || config_.keep_consented.count() <= 0) return std::nullopt;
  return job.created_ms + config_.keep_consented.count() * 1000;
}

// --- deleting one job's data ---

Status RetentionSweeper::removeSessionData(const std::string& session_id) {
  if (session_id.empty() || !isSafeId(session_id)) return okStatus();
  auto listed = blobs_.list(sessionPrefix(session_id));
  if (!listed.ok()) return fail(listed.error());
  for (const BlobInfo& blob : listed.value()) {
    // false: gone already (another process, or the folder below): fine.
    if (auto gone = blobs_.remove(blob.key); !gone.ok()) return fail(gone.error());
  }
  return removeTree(sessions_.sessionDir(session_id));
}

Status RetentionSweeper::removeJobFiles(const std::string& session_id) {
  if (session_id.empty() || !isSafeId(session_id)) return okStatus();
  const std::string prefix = sessionPrefix(session_id);
  auto listed = blobs_.list(prefix);
  if (!listed.ok()) return fail(listed.error());
  for (const BlobInfo& blob : listed.value()) {
    if (blob.key.find('/', prefix.size()) != std::string::npos) continue;  // frames, poses
    if (auto gone = blobs_.remove(blob.key); !gone.ok()) return fail(gone.error());
  }
  // The local folder holds a folder per node (frames and poses) and, in
  // older data, the job's own files: those go.
  const fs::path dir = sessions_.sessionDir(session_id);
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
    if (auto st = removeTree(it->path()); !st.ok()) return st;
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return fail("cannot list " + dir.string() + ": " + ec.message());
  }
  return okStatus();
}

Status RetentionSweeper::removeClip(const JobRecord& job) {
  if (job.clip_token.empty()) return okStatus();
  for (const std::string& key : {clipBlobKey(job.clip_token), posterBlobKey(job.clip_token)}) {
    if (auto gone = blobs_.remove(key); !gone.ok()) return fail(gone.error());
  }
  return okStatus();
}

Status RetentionSweeper::settled(const std::string& job_id, const QueueStatus& recorded,
                                 const std::function<bool(const JobRecord&)>& done) {
  if (recorded.ok()) return okStatus();
  if (recorded.error() == JobQueueError::kRefused) {
    if (auto now = jobs_.get(job_id); now && done(*now)) {
      return fail(std::string(kRecordedElsewhere));
    }
  }
  return fail(recorded.message());
}

Status RetentionSweeper::purgeKeptFramesLocked(const JobRecord& job) {
  if (auto st = removeSessionData(job.session_id); !st.ok()) return st;
  return settled(job.id, jobs_.markFramesPurged(job.id), [](const JobRecord& j) {
    return j.state == JobState::kExpired && j.frames_purged_ms != 0;
  });
}

Status RetentionSweeper::purgeLocked(const JobRecord& job) {
  if (job.state == JobState::kExpired) {
    if (job.frames_purged_ms == 0) return purgeKeptFramesLocked(job);
    return fail("the data of job " + job.id + " was already deleted");
  }
  if (!isFinished(job.state)) {
    return fail("job " + job.id + " is still " + jobStateName(job.state) +
                "; cancel it before deleting its data");
  }
  if (auto st = removeSessionData(job.session_id); !st.ok()) return st;
  if (auto st = removeClip(job); !st.ok()) return st;
  auto expired = settled(job.id, jobs_.expire(job.id),
                         [](const JobRecord& j) { return j.state == JobState::kExpired; });
  if (!expired.ok() && expired.error() == kRecordedElsewhere) {
    // Expired meanwhile by another sweeper, perhaps with its frames kept
    // by consent: they are gone now, and so recorded.
    if (auto now = jobs_.get(job.id); now && now->frames_purged_ms == 0) {
      return settled(job.id, jobs_.markFramesPurged(job.id), [](const JobRecord& j) {
        return j.frames_purged_ms != 0;
      });
    }
  }
  return expired;
}

Status RetentionSweeper::purgeAllButFramesLocked(const JobRecord& job) {
  if (auto st = removeJobFiles(job.session_id); !st.ok()) return st;
  if (auto st = removeClip(job); !st.ok()) return st;
  return settled(job.id, jobs_.expire(job.id, JobQueue::ExpiredFrames::kKept),
                 [](const JobRecord& j) { return j.state == JobState::kExpired; });
}

// --- the operator's and the visitor's requests ---

namespace {
// A deletion another process recorded first is done as far as the caller
// of purge() or withdrawConsent() is concerned.
Status doneEitherWay(Status st) {
  if (!st.ok() && st.error() == RetentionSweeper::kRecordedElsewhere) return okStatus();
  return st;
}
}  // namespace

Status RetentionSweeper::purge(const JobRecord& job) {
  std::lock_guard lock(mutex_);
  return doneEitherWay(purgeLocked(job));
}

Status RetentionSweeper::withdrawConsent(const JobRecord& copy) {
  std::lock_guard lock(mutex_);
  const std::optional<JobRecord> stored = jobs_.get(copy.id);
  if (!stored) return fail("no job with id '" + copy.id + "' (or the job queue cannot be read)");
  if (!stored->may_improve_booth) {
    return fail(stored->consent_withdrawn_ms != 0
                    ? "the consent of job " + copy.id + " was already withdrawn"
                    : "the visitor of job " + copy.id + " did not agree to improve the booth");
  }
  if (auto st = jobs_.withdrawConsent(copy.id); !st.ok()) return fail(st.message());
  // Read again: a sweep (here or elsewhere) may have expired the job with
  // its frames kept since, and those must go now too.
  const std::optional<JobRecord> now = jobs_.get(copy.id);
  if (now && now->state == JobState::kExpired && now->frames_purged_ms == 0) {
    return doneEitherWay(purgeKeptFramesLocked(*now));
  }
  return okStatus();
}

// --- the sweep ---

RetentionSweeper::Report RetentionSweeper::sweepOnce() {
  std::lock_guard lock(mutex_);
  Report report;
  const std::int64_t now = now_();
  if (auto shared = jobs_.tryRetentionLock()) {
    sweepJobs(report, now);
    sweepOrphanClips(report, now);
    sweepOrphanSessions(report, now, /*with_blobs=*/true);
    const auto idle = std::max<std::chrono::seconds>(config_.keep_failed, kAbandonedWriteAge);
    if (auto removed = blobs_.removeAbandonedWrites(idle); !removed.ok()) {
      spdlog::warn("retention: {}", removed.error());
    }
  } else {
    report.jobs_skipped = true;
    sweepOrphanSessions(report, now, /*with_blobs=*/false);
  }
  return report;
}

void RetentionSweeper::sweepJobs(Report& report, std::int64_t now) {
  // Counts a purge this sweeper recorded; one another process recorded
  // first is not counted here, and neither is said.
  auto count = [](const Status& st, int& counter) {
    if (st.ok()) {
      ++counter;
    } else if (st.error() != kRecordedElsewhere) {
      spdlog::warn("retention: {}", st.error());
    }
  };
  if (config_.keep_done.count() > 0) {
    auto done = jobs_.finishedBefore(JobState::kDone, now - config_.keep_done.count() * 1000,
                                     kJobsPerSweep);
    if (!done.ok()) spdlog::warn("retention: {}", done.error());
    for (const JobRecord& job : done.ok() ? done.value() : std::vector<JobRecord>{}) {
      const bool keep_frames = consentKeeps(job, now);
      count(keep_frames ? purgeAllButFramesLocked(job) : purgeLocked(job),
            keep_frames ? report.consent_kept : report.done_purged);
    }
  }
  // Frames consent kept: gone when its time is up or it was withdrawn.
  auto kept = jobs_.framesKept(kJobsPerSweep);
  if (!kept.ok()) spdlog::warn("retention: {}", kept.error());
  for (const JobRecord& job : kept.ok() ? kept.value() : std::vector<JobRecord>{}) {
    if (consentKeeps(job, now)) continue;
    count(purgeKeptFramesLocked(job), report.consented_purged);
  }
  const std::int64_t failed_before = now - config_.keep_failed.count() * 1000;
  for (JobState state : {JobState::kFailed, JobState::kCancelled}) {
    auto ended = jobs_.finishedBefore(state, failed_before, kJobsPerSweep);
    if (!ended.ok()) spdlog::warn("retention: {}", ended.error());
    for (const JobRecord& job : ended.ok() ? ended.value() : std::vector<JobRecord>{}) {
      count(purgeLocked(job), report.failed_purged);
    }
  }
}

void RetentionSweeper::sweepOrphanSessions(Report& report, std::int64_t now, bool with_blobs) {
  // Each session once, however many places hold its data: when it was
  // last written anywhere.
  std::map<std::string, std::int64_t> written;
  if (with_blobs) {
    auto listed = blobs_.list(std::string(kSessionsPrefix));
    if (!listed.ok()) {
      spdlog::warn("retention: {}", listed.error());
      return;
    }
    for (const BlobInfo& blob : listed.value()) {
      if (auto session = sessionOfKey(blob.key)) {
        auto [it, added] = written.emplace(*session, blob.modified_ms);
        if (!added) it->second = std::max(it->second, blob.modified_ms);
      }
    }
  }
  const fs::path root = sessions_.sessionDir("x").parent_path();
  std::error_code ec;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string session = it->path().filename().string();
    if (!isSafeId(session)) continue;
    const std::int64_t newest = newestMillis(it->path());
    auto [at, added] = written.emplace(session, newest);
    if (!added) at->second = std::max(at->second, newest);
  }
  const std::int64_t orphan_before = now - config_.keep_failed.count() * 1000;
  for (const auto& [session, last_written] : written) {
    auto job = jobs_.findBySession(session);
    if (!job.ok()) {
      // Unknown is not "no job": nothing is taken for an orphan now.
      spdlog::warn("retention: orphans are looked for again later: {}", job.error());
      return;
    }
    const std::optional<JobRecord>& owner = job.value();
    // Data of a job whose frames were purged (here or by another process)
    // is left over; data no job refers to is an orphan once old.
    const bool left_over =
        owner && owner->state == JobState::kExpired && owner->frames_purged_ms != 0;
    const bool orphan = !owner && last_written <= orphan_before;
    if (!left_over && !orphan) continue;
    if (auto st = removeSessionData(session); st.ok()) {
      ++report.orphan_sessions;
    } else {
      spdlog::warn("retention: {}", st.error());
    }
  }
}

void RetentionSweeper::sweepOrphanClips(Report& report, std::int64_t now) {
  auto listed = blobs_.list(std::string(kClipsPrefix));
  if (!listed.ok()) {
    spdlog::warn("retention: {}", listed.error());
    return;
  }
  const std::int64_t orphan_before = now - config_.keep_failed.count() * 1000;
  for (const BlobInfo& blob : listed.value()) {
    if (blob.modified_ms > orphan_before) continue;
    // A clip, its poster and their temporary files belong to the job of
    // their token while it is not purged; anything else here is an orphan.
    if (const auto token = clipTokenOfFile(fs::path(blob.key))) {
      auto job = jobs_.findByClipToken(*token);
      if (!job.ok()) {
        spdlog::warn("retention: orphaned clips are looked for again later: {}", job.error());
        return;
      }
      if (job.value() && job.value()->purged_ms == 0) continue;
    }
    auto gone = blobs_.remove(blob.key);
    if (!gone.ok()) {
      spdlog::warn("retention: {}", gone.error());
    } else if (gone.value()) {
      ++report.orphan_clips;
    }
  }
}

}  // namespace booth
