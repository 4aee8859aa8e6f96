#include "capture_node/spool/session_spool.h"

#include <sstream>
#include <system_error>

#include "common/os/durable_file.h"

namespace booth {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxMetaBytes = 1 << 20;

// session.meta: "key value" lines, cameras one per line; no third-party
// format needed for a dozen fields, and a damaged file fails loudly.
std::string encodeMeta(const SessionMeta& m) {
  std::ostringstream out;
  out << "session " << m.session_id << "\n"
      << "seconds " << m.seconds << "\n"
      << "created_unix_ms " << m.created_unix_ms << "\n"
      << "pose_source " << m.pose_source << "\n";
  for (const auto& c : m.cameras) {
    out << "camera " << c.camera_id << " " << c.kind << " " << c.width << " " << c.height << " "
        << c.fps << "\n";
  }
  return out.str();
}

Result<SessionMeta> decodeMeta(const std::string& text, const fs::path& path) {
  SessionMeta m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    if (key == "session") {
      fields >> m.session_id;
    } else if (key == "seconds") {
      fields >> m.seconds;
    } else if (key == "created_unix_ms") {
      fields >> m.created_unix_ms;
    } else if (key == "pose_source") {
      std::getline(fields >> std::ws, m.pose_source);
    } else if (key == "camera") {
      CameraDescription c;
      fields >> c.camera_id >> c.kind >> c.width >> c.height >> c.fps;
      if (!fields || c.camera_id.empty()) return fail(path.string() + ": bad camera line '" + line + "'");
      m.cameras.push_back(c);
    } else if (!key.empty()) {
      return fail(path.string() + ": unknown line '" + line + "'");
    }
  }
  if (m.session_id.empty()) return fail(path.string() + " names no session");
  return m;
}

std::string cameraDirName(const std::string& camera_id) { return "camera-" + camera_id; }

}  // namespace

SessionSpool::SessionSpool(fs::path dir, SessionMeta meta, std::unique_ptr<RecordLog> notes)
    : dir_(std::move(dir)), meta_(std::move(meta)), notes_log_(std::move(notes)) {}

Result<std::unique_ptr<SessionSpool>> SessionSpool::create(const fs::path& root,
                                                           const SessionMeta& meta,
                                                           SpoolBudget& budget) {
  const fs::path dir = root / meta.session_id;
  std::error_code ec;
  if (fs::exists(dir, ec)) return fail("spool already has a session " + meta.session_id);
  if (auto st = makeDirectories(dir); !st.ok()) return fail(st.error());
  if (auto st = replaceFile(dir / "session.meta", encodeMeta(meta)); !st.ok()) return fail(st.error());
  if (auto st = syncDirectory(root); !st.ok()) return fail(st.error());
  return recover(dir, budget);
}

Result<std::unique_ptr<SessionSpool>> SessionSpool::recover(const fs::path& dir,
                                                            SpoolBudget& budget) {
  auto text = readFile(dir / "session.meta", kMaxMetaBytes);
  if (!text.ok()) return fail(text.error());
  auto meta = decodeMeta(text.value(), dir / "session.meta");
  if (!meta.ok()) return fail(meta.error());
  auto notes = RecordLog::open(dir / "notes.log");
  if (!notes.ok()) return fail(notes.error());
  std::unique_ptr<SessionSpool> spool(
      new SessionSpool(dir, std::move(meta.value()), std::move(notes.value())));
  for (const auto& c : spool->meta_.cameras) {
    auto cam = CameraSpool::open(dir / cameraDirName(c.camera_id), c.camera_id, budget);
    if (!cam.ok()) return fail(cam.error());
    spool->cameras_.push_back(std::move(cam.value()));
  }
  for (const std::string& line : spool->notes_log_->records()) {
    std::istringstream in(line);
    std::string key;
    in >> key;
    if (key == "capture_complete") {
      spool->notes_.capture_complete = true;
      in >> spool->notes_.capture_seconds;
    } else if (key == "pose_complete") {
      spool->notes_.pose_complete = true;
      in >> spool->notes_.pose_seconds;
    } else if (key == "incomplete") {
      std::string reason;
      std::getline(in >> std::ws, reason);
      if (spool->notes_.incomplete_reason.empty()) spool->notes_.incomplete_reason = reason;
    } else if (key == "camera_ended") {
      std::string camera, reason;
      in >> camera;
      std::getline(in >> std::ws, reason);
      spool->notes_.camera_ended.emplace_back(camera, reason);
    }
  }
  return spool;
}

std::optional<std::size_t> SessionSpool::cameraIndex(const std::string& camera_id) const {
  for (std::size_t i = 0; i < cameras_.size(); ++i) {
    if (cameras_[i]->cameraId() == camera_id) return i;
  }
  return std::nullopt;
}

Status SessionSpool::note(const std::string& line) {
  if (auto st = notes_log_->append(line); !st.ok()) return st;
  return notes_log_->sync();
}

Status SessionSpool::noteCaptureComplete(double capture_seconds) {
  {
    std::lock_guard lock(mutex_);
    if (notes_.capture_complete) return okStatus();
    notes_.capture_complete = true;
    notes_.capture_seconds = capture_seconds;
  }
  return note("capture_complete " + std::to_string(capture_seconds));
}

Status SessionSpool::notePoseComplete(double pose_seconds) {
  {
    std::lock_guard lock(mutex_);
    if (notes_.pose_complete) return okStatus();
    notes_.pose_complete = true;
    notes_.pose_seconds = pose_seconds;
  }
  return note("pose_complete " + std::to_string(pose_seconds));
}

Status SessionSpool::noteIncomplete(const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    if (!notes_.incomplete_reason.empty()) return okStatus();
    notes_.incomplete_reason = reason;
  }
  return note("incomplete " + reason);
}

Status SessionSpool::noteCameraEnded(const std::string& camera_id, const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    notes_.camera_ended.emplace_back(camera_id, reason);
  }
  return note("camera_ended " + camera_id + " " + reason);
}

SessionNotes SessionSpool::notes() const {
  std::lock_guard lock(mutex_);
  return notes_;
}

Status SessionSpool::sync() {
  for (auto& c : cameras_) {
    if (auto st = c->sync(); !st.ok()) return st;
  }
  return notes_log_->sync();
}

std::uint64_t SessionSpool::allocatedBytes() const {
  std::uint64_t total = 0;
  for (const auto& c : cameras_) total += c->allocatedBytes();
  return total;
}

Status SessionSpool::remove() {
  cameras_.clear();
  notes_log_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) return fail("cannot delete spooled session " + dir_.string() + ": " + ec.message());
  return okStatus();
}

}  // namespace booth
