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
    if (r.done_purged + r.failed_purged + r.orphan_sessions + r.orphan_clips > 0) {
      spdlog::info(
          "retention: deleted the data of {} done and {} failed job(s), {} orphaned "
          "session folder(s), {} orphaned clip file(s)",
          r.done_purged, r.failed_purged, r.orphan_sessions, r.orphan_clips);
    }
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, config_.interval, [] { return false; });
  }
}

Status RetentionSweeper::purge(const JobRecord& job) {
  std::lock_guard lock(mutex_);
  return purgeLocked(job);
}

Status RetentionSweeper::purgeLocked(const JobRecord& job) {
  if (job.state == JobState::kExpired) {
    return fail("the data of job " + job.id + " was already deleted");
  }
  if (!isFinished(job.state)) {
    return fail("job " + job.id + " is still " + jobStateName(job.state) +
                "; cancel it before deleting its data");
  }
  if (!job.session_id.empty() && isSafeId(job.session_id)) {
    if (auto st = removeTree(sessions_.sessionDir(job.session_id)); !st.ok()) return st;
  }
  if (!job.clip_path.empty()) {
    const fs::path clip = job.clip_path;
    for (const fs::path& p : {clip, posterPath(clip)}) {
      if (auto st = removeTree(p); !st.ok()) return st;
    }
  }
  return jobs_.expire(job.id, now_());
}

RetentionSweeper::Report RetentionSweeper::sweepOnce() {
  std::lock_guard lock(mutex_);
  Report report;
  const std::int64_t now = now_();
  const std::int64_t keep_failed_ms = config_.keep_failed.count() * 1000;

  if (config_.keep_done.count() > 0) {
    for (const JobRecord& job :
         jobs_.finishedBefore(JobState::kDone, now - config_.keep_done.count() * 1000)) {
      if (auto st = purgeLocked(job); st.ok()) {
        ++report.done_purged;
      } else {
        spdlog::warn("retention: {}", st.error());
      }
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
