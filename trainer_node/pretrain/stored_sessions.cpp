#include "trainer_node/pretrain/stored_sessions.h"

#include <ostream>
#include <set>

#include "trainer_node/store/job_store.h"
#include "trainer_node/store/session_store.h"

namespace booth {

std::optional<std::string> consentRefusal(const std::string& session_id,
                                          const std::optional<JobRecord>& job) {
  const std::string who = "session " + session_id;
  if (!job) return who + ": no job records its visitor's consent to improve the booth";
  if (job->consent_withdrawn_ms != 0) return who + ": its visitor withdrew their consent";
  if (!job->may_improve_booth) return who + ": its visitor did not agree to improve the booth";
  if (job->state != JobState::kDone && job->state != JobState::kExpired) {
    return who + ": its job is " + jobStateName(job->state) +
           " (only sessions whose clip was made are used)";
  }
  if (job->frames_purged_ms != 0) return who + ": its frames were deleted";
  return std::nullopt;
}

Result<StoredSessionCorpus> loadConsentedSessions(const std::filesystem::path& data_dir,
                                                  const TrainingSetOptions& options,
                                                  std::ostream& log) {
  const auto db = data_dir / "jobs.sqlite";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db, ec)) {
    return fail("--sessions " + data_dir.string() + " has no jobs.sqlite: nothing says which " +
                "visitors agreed to improve the booth, so no session can be used");
  }
  auto jobs = JobStore::open(db.string());
  if (!jobs.ok()) return fail(jobs.error());

  StoredSessionCorpus out;
  SessionStore store(data_dir, /*fsync=*/false);
  std::set<std::string> used, refused;
  for (const auto& cam : store.listCameras()) {
    if (options.should_stop && options.should_stop()) return fail("stopped while loading sessions");
    if (refused.count(cam.session_id)) continue;
    if (auto why = consentRefusal(cam.session_id, jobs.value()->bySession(cam.session_id))) {
      log << "pretrain: refusing " << *why << std::endl;
      refused.insert(cam.session_id);
      out.refused.push_back(cam.session_id);
      continue;
    }
    const std::string name = cam.session_id + "/" + cam.node_id + "/" + cam.camera_id;
    auto frames = store.load(cam.session_id, cam.node_id, cam.camera_id);
    if (!frames.ok()) {
      log << "pretrain: skipping " << name << ": " << frames.error() << std::endl;
      continue;
    }
    auto set = buildTrainingSet(frames.value(), options);
    if (!set.ok()) {
      log << "pretrain: skipping " << name << ": " << set.error() << std::endl;
      continue;
    }
    out.clips.push_back(std::move(set).value());
    used.insert(cam.session_id);
  }
  out.sessions_used = used.size();
  return out;
}

}  // namespace booth
