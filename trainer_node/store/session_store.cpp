#include "trainer_node/store/session_store.h"

#include <algorithm>
#include <system_error>
#include <unordered_map>

#include "common/core/safe_id.h"
#include "common/os/durable_file.h"
#include "common/os/list_directory.h"
#include "common/storage/pose_record_codec.h"

namespace booth {
namespace fs = std::filesystem;

SessionStore::SessionStore(fs::path root, bool fsync) : root_(std::move(root)), fsync_(fsync) {}

SessionStore::~SessionStore() = default;

fs::path SessionStore::sessionDir(const std::string& session_id) const {
  return root_ / "sessions" / session_id;
}

std::string SessionStore::location() const { return (root_ / "sessions").string(); }

Result<std::vector<StoredFrame>> SessionStore::loadCamera(const JobRecord& job,
                                                          const CameraFrames& camera,
                                                          const fs::path& /*scratch*/) {
  return load(job.session_id, camera.node, camera.camera);
}

fs::path SessionStore::cameraDir(const std::string& session, const std::string& node,
                                 const std::string& camera) const {
  return sessionDir(session) / node / camera;
}

Result<SessionStore::OpenCamera*> SessionStore::openCamera(const std::string& session,
                                                           const std::string& node,
                                                           const std::string& camera) {
  if (auto st = checkSessionIds(session, node, camera); !st.ok()) return fail(st.error());
  const Key key{session, node, camera};
  if (auto it = open_.find(key); it != open_.end()) return it->second.get();
  const fs::path dir = cameraDir(session, node, camera);
  std::error_code ec;
  // Remember every folder this creates: they must be synced before acks.
  for (fs::path p = dir; !p.empty() && p != root_ && !fs::exists(p, ec); p = p.parent_path()) {
    new_dirs_.insert(p.parent_path());
  }
  auto frames = FrameLog::open(dir);
  if (!frames.ok()) return fail(frames.error());
  auto poses = RecordLog::open(dir / "poses.log");
  if (!poses.ok()) return fail(poses.error());
  auto cam = std::make_unique<OpenCamera>();
  for (const FrameEntry& e : frames.value()->entries()) cam->frame_sequences.insert(e.sequence);
  for (const std::string& r : poses.value()->records()) {
    if (auto p = decodePoseRecord(r); p.ok()) cam->pose_sequences.insert(p->sequence);
  }
  cam->frames = std::move(frames.value());
  cam->poses = std::move(poses.value());
  cam->dirty = true;  // the new files themselves
  new_dirs_.insert(dir);
  OpenCamera* raw = cam.get();
  open_[key] = std::move(cam);
  return raw;
}

Result<bool> SessionStore::writeFrame(const std::string& session, const std::string& node,
                                      const std::string& camera, const FrameToAppend& frame) {
  std::lock_guard lock(mutex_);
  auto cam = openCamera(session, node, camera);
  if (!cam.ok()) return fail(cam.error());
  OpenCamera& c = *cam.value();
  if (c.frame_sequences.count(frame.sequence)) return false;
  auto appended = c.frames->append(frame);
  if (!appended.ok()) return fail(appended.error());
  c.frame_sequences.insert(frame.sequence);
  c.dirty = true;
  return true;
}

Result<bool> SessionStore::writePose(const std::string& session, const std::string& node,
                                     const PoseRecord& pose) {
  std::lock_guard lock(mutex_);
  auto cam = openCamera(session, node, pose.camera_id);
  if (!cam.ok()) return fail(cam.error());
  OpenCamera& c = *cam.value();
  if (c.pose_sequences.count(pose.sequence)) return false;
  if (auto st = c.poses->append(encodePoseRecord(pose)); !st.ok()) return fail(st.error());
  c.pose_sequences.insert(pose.sequence);
  c.dirty = true;
  return true;
}

Status SessionStore::sync() {
  std::lock_guard lock(mutex_);
  if (!fsync_) {
    new_dirs_.clear();
    return okStatus();
  }
  for (auto& [key, cam] : open_) {
    if (!cam->dirty) continue;
    if (auto st = cam->frames->sync(); !st.ok()) return st;
    if (auto st = cam->poses->sync(); !st.ok()) return st;
    cam->dirty = false;
  }
  // Deepest first does not matter: every new entry's parent is synced.
  for (const fs::path& dir : new_dirs_) {
    if (auto st = syncDirectory(dir); !st.ok()) return st;
  }
  new_dirs_.clear();
  return okStatus();
}

void SessionStore::close(const std::string& session) {
  std::lock_guard lock(mutex_);
  for (auto it = open_.begin(); it != open_.end();) {
    it = std::get<0>(it->first) == session ? open_.erase(it) : std::next(it);
  }
}

Result<CameraTotals> SessionStore::totals(const std::string& session, const std::string& node,
                                  const std::string& camera) {
  std::lock_guard lock(mutex_);
  CameraTotals t;
  auto cam = openCamera(session, node, camera);
  if (!cam.ok()) return fail(cam.error());
  for (const FrameEntry& e : cam.value()->frames->entries()) {
    t.checksum += e.fnv;
    t.bytes += e.length;
  }
  t.frames = cam.value()->frame_sequences.size();
  t.poses = cam.value()->pose_sequences.size();
  return t;
}

Result<std::vector<StoredFrame>> SessionStore::load(const std::string& session,
                                                    const std::string& node,
                                                    const std::string& camera) const {
  if (auto st = checkSessionIds(session, node, camera); !st.ok()) return fail(st.error());
  const fs::path dir = cameraDir(session, node, camera);
  std::error_code ec;
  if (!fs::is_regular_file(dir / "frames.idx", ec)) {
    return fail("no frames stored under " + dir.string());
  }
  auto frames = FrameLog::open(dir);
  if (!frames.ok()) return fail(frames.error());
  auto poses = RecordLog::open(dir / "poses.log");
  if (!poses.ok()) return fail(poses.error());
  std::unordered_map<std::uint64_t, std::optional<Pose>> performer;
  for (const std::string& r : poses.value()->records()) {
    auto p = decodePoseRecord(r);
    if (!p.ok()) return fail(dir.string() + ": " + p.error());
    performer[p->sequence] = p->performer;
  }
  std::vector<StoredFrame> out;
  const auto entries = frames.value()->entries();
  out.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto bytes = frames.value()->read(i);
    if (!bytes.ok()) return fail(bytes.error());
    StoredFrame f;
    f.sequence = entries[i].sequence;
    f.capture_time_us = entries[i].capture_time_us;
    f.encoding = entries[i].encoding;
    f.width = entries[i].width;
    f.height = entries[i].height;
    f.data = std::move(bytes->data);
    if (auto it = performer.find(f.sequence); it != performer.end()) f.pose = it->second;
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const StoredFrame& a, const StoredFrame& b) { return a.sequence < b.sequence; });
  return out;
}

std::vector<SessionStore::CameraRef> SessionStore::listCameras() const {
  std::vector<CameraRef> out;
  // Folders that cannot be listed are passed over (the non-throwing
  // walk: a scan never kills the thread that asked).
  auto folders = [](const fs::path& dir) {
    auto listed = listDirectory(dir, EntryKind::kDirectories, /*missing_ok=*/true);
    return listed.ok() ? std::move(listed.value()) : std::vector<fs::path>{};
  };
  for (const fs::path& session : folders(root_ / "sessions")) {
    if (!isSafeId(session.filename().string())) continue;
    for (const fs::path& node : folders(session)) {
      if (!isSafeId(node.filename().string())) continue;
      for (const fs::path& camera : folders(node)) {
        std::error_code ec;
        if (!isSafeId(camera.filename().string())) continue;
        if (!fs::is_regular_file(camera / "frames.idx", ec)) continue;
        out.push_back({session.filename().string(), node.filename().string(),
                       camera.filename().string()});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const CameraRef& a, const CameraRef& b) {
    return std::tie(a.session_id, a.node_id, a.camera_id) <
           std::tie(b.session_id, b.node_id, b.camera_id);
  });
  return out;
}

}  // namespace booth
