#include "trainer_node/retention/retention_sweeper.h"

#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>

#include <spdlog/spdlog.h>

#include "common/core/safe_id.h"
#include "trainer_node/http/clip_poster.h"
#include "trainer_node/store/clip_names.h"

namespace booth {
namespace fs = std::filesystem;
namespace {

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
  if (ec) return fail("cannot delete " + p.string() + ": " + ec.message());
  return okStatus();
}

}  // namespace

RetentionSweeper::RetentionSweeper(RetentionConfig config, JobStore& jobs, SessionStore& sessions,
                                   fs::path clips_dir, NowMillis now)
    : config_(config),
      jobs_(jobs),
      sessions_(sessions),
      clips_dir_(std::move(clips_dir)),
      now_(std::move(now)) {}

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
          "session folder(s), {} orphaned clip file(s); {} done job(s) lost their clip and "
          "model but keep their frames by the visitor's consent, {} such job(s) lost their "
          "frames (consented time up or withdrawn)",
          r.done_purged, r.failed_purged, r.orphan_sessions, r.orphan_clips, r.consent_kept,
          r.consented_purged);
    }
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, config_.interval, [] { return false; });
  }
}

Status RetentionSweeper::purge(const JobRecord& job) {
  std::lock_guard lock(mutex_);
  return purgeLocked(job);
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

Status RetentionSweeper::withdrawConsent(const JobRecord& copy) {
  std::lock_guard lock(mutex_);
  // Read again under the lock: a sweep may have expired the job since the
  // caller's copy was read, and its kept frames must go now too.
  const std::optional<JobRecord> stored = jobs_.get(copy.id);
  if (!stored) return fail("no job with id '" + copy.id + "'");
  const JobRecord& job = *stored;
  if (!job.may_improve_booth) {
    return fail(job.consent_withdrawn_ms != 0
                    ? "the consent of job " + job.id + " was already withdrawn"
                    : "the visitor of job " + job.id + " did not agree to improve the booth");
  }
  if (auto st = jobs_.withdrawConsent(job.id, now_()); !st.ok()) return st;
  if (job.state == JobState::kExpired && job.frames_purged_ms == 0) {
    return purgeKeptFramesLocked(job);
  }
  return okStatus();
}

Status RetentionSweeper::purgeKeptFramesLocked(const JobRecord& job) {
  if (!job.session_id.empty() && isSafeId(job.session_id)) {
    if (auto st = removeTree(sessions_.sessionDir(job.session_id)); !st.ok()) return st;
  }
  return jobs_.markFramesPurged(job.id, now_());
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
  if (!job.session_id.empty() && isSafeId(job.session_id)) {
    if (auto st = removeTree(sessions_.sessionDir(job.session_id)); !st.ok()) return st;
  }
  if (auto st = removeClip(job); !st.ok()) return st;
  return jobs_.expire(job.id, now_());
}

Status RetentionSweeper::removeClip(const JobRecord& job) {
  if (job.clip_path.empty()) return okStatus();
  const fs::path clip = job.clip_path;
  for (const fs::path& p : {clip, posterPath(clip)}) {
    if (auto st = removeTree(p); !st.ok()) return st;
  }
  return okStatus();
}

Status RetentionSweeper::purgeAllButFramesLocked(const JobRecord& job) {
  // The session folder holds a folder per node (frames and poses) and the
  // job's own files (its model, its training state): those go.
  if (!job.session_id.empty() && isSafeId(job.session_id)) {
    std::error_code ec;
    for (auto it = fs::directory_iterator(sessions_.sessionDir(job.session_id), ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) continue;
      if (auto st = removeTree(it->path()); !st.ok()) return st;
    }
    if (ec && ec != std::errc::no_such_file_or_directory) {
      return fail("cannot list " + sessions_.sessionDir(job.session_id).string() + ": " +
                  ec.message());
    }
  }
  if (auto st = removeClip(job); !st.ok()) return st;
  return jobs_.expire(job.id, now_(), /*frames_kept=*/true);
}

RetentionSweeper::Report RetentionSweeper::sweepOnce() {
  std::lock_guard lock(mutex_);
  Report report;
  const std::int64_t now = now_();
  const std::int64_t keep_failed_ms = config_.keep_failed.count() * 1000;

  if (config_.keep_done.count() > 0) {
    for (const JobRecord& job :
         jobs_.finishedBefore(JobState::kDone, now - config_.keep_done.count() * 1000)) {
      const bool keep_frames = consentKeeps(job, now);
      if (auto st = keep_frames ? purgeAllButFramesLocked(job) : purgeLocked(job); st.ok()) {
        ++(keep_frames ? report.consent_kept : report.done_purged);
      } else {
        spdlog::warn("retention: {}", st.error());
      }
    }
  }
  // Frames consent kept: gone when its time is up or it was withdrawn.
  for (const JobRecord& job : jobs_.framesKept(1 << 20)) {
    if (consentKeeps(job, now)) continue;
    if (auto st = purgeKeptFramesLocked(job); st.ok()) {
      ++report.consented_purged;
    } else {
      spdlog::warn("retention: {}", st.error());
    }
  }
  for (JobState state : {JobState::kFailed, JobState::kCancelled}) {
    for (const JobRecord& job : jobs_.finishedBefore(state, now - keep_failed_ms)) {
      if (auto st = purgeLocked(job); st.ok()) {
        ++report.failed_purged;
      } else {
        spdlog::warn("retention: {}", st.error());
      }
    }
  }

  // Orphans: folders and files no job refers to, untouched for keep_failed.
  std::error_code ec;
  const fs::path sessions_root = sessions_.sessionDir("x").parent_path();
  for (auto it = fs::directory_iterator(sessions_root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const std::string id = it->path().filename().string();
    if (jobs_.bySession(id)) continue;
    if (newestMillis(it->path()) > now - keep_failed_ms) continue;
    if (removeTree(it->path()).ok()) ++report.orphan_sessions;
  }
  for (auto it = fs::directory_iterator(clips_dir_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    // A clip, its poster and their temporary files belong to the job of
    // their token; anything else here is an orphan.
    const auto token = clipTokenOfFile(it->path());
    if (auto job = token ? jobs_.byClipToken(*token) : std::nullopt; job && job->purged_ms == 0)
      continue;
    if (mtimeMillis(it->path()) > now - keep_failed_ms) continue;
    if (removeTree(it->path()).ok()) ++report.orphan_clips;
  }
  return report;
}

}  // namespace booth
