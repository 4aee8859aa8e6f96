#include "trainer_node/store/session_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <tuple>

#include "common/core/checksum.h"
#include "common/transport/wire.h"

namespace booth {
namespace fs = std::filesystem;

bool isSafeId(const std::string& id) {
  if (id.empty() || id.size() > 64 || id[0] == '.') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

SessionStore::SessionStore(fs::path root, bool fsync) : root_(std::move(root)), fsync_(fsync) {}

fs::path SessionStore::sessionDir(const std::string& session_id) const {
  return root_ / "sessions" / session_id;
}

fs::path SessionStore::cameraDir(const std::string& session, const std::string& node,
                                 const std::string& camera) const {
  return sessionDir(session) / node / camera;
}

std::vector<SessionStore::CameraRef> SessionStore::listCameras() const {
  std::vector<CameraRef> out;
  std::error_code ec;
  const fs::path sessions = root_ / "sessions";
  if (!fs::is_directory(sessions, ec)) return out;
  for (const auto& session : fs::directory_iterator(sessions, ec)) {
    if (!session.is_directory() || !isSafeId(session.path().filename().string())) continue;
    for (const auto& node : fs::directory_iterator(session.path(), ec)) {
      if (!node.is_directory() || !isSafeId(node.path().filename().string())) continue;
      for (const auto& camera : fs::directory_iterator(node.path(), ec)) {
        if (!camera.is_directory() || !isSafeId(camera.path().filename().string())) continue;
        out.push_back({session.path().filename().string(), node.path().filename().string(),
                       camera.path().filename().string()});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const CameraRef& a, const CameraRef& b) {
    return std::tie(a.session_id, a.node_id, a.camera_id) <
           std::tie(b.session_id, b.node_id, b.camera_id);
  });
  return out;
}

Result<bool> SessionStore::write(const std::string& node_id, const v1::FrameRecord& record) {
  const auto& f = record.frame();
  if (!isSafeId(f.session_id()) || !isSafeId(node_id) || !isSafeId(f.camera_id())) {
    return fail("refusing record with unsafe ids (session '" + f.session_id() + "', node '" +
                node_id + "', camera '" + f.camera_id() + "')");
  }
  const fs::path dir = cameraDir(f.session_id(), node_id, f.camera_id());
  const fs::path final_path = dir / (std::to_string(f.sequence()) + ".rec");
  std::error_code ec;
  if (fs::exists(final_path, ec)) return false;
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create " + dir.string() + ": " + ec.message());

  std::string bytes;
  record.SerializeToString(&bytes);
  const fs::path tmp = final_path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot write " + tmp.string() + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return fail("cannot write " + tmp.string() + ": " + why + " (disk full?)");
    }
    done += static_cast<size_t>(n);
  }
  if (fsync_ && ::fdatasync(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return fail("fdatasync " + tmp.string() + ": " + why);
  }
  ::close(fd);
  fs::rename(tmp, final_path, ec);
  if (ec) return fail("cannot rename " + tmp.string() + ": " + ec.message());
  return true;
}

Result<std::vector<StoredFrame>> SessionStore::load(const std::string& session_id,
                                                        const std::string& node_id,
                                                        const std::string& camera_id) const {
  const fs::path dir = cameraDir(session_id, node_id, camera_id);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail("no frames stored under " + dir.string());
  std::vector<StoredFrame> records;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".rec") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    v1::FrameRecord rec;
    if (!in || !rec.ParseFromIstream(&in)) return fail("corrupt record " + entry.path().string());
    StoredFrame f;
    f.sequence = rec.frame().sequence();
    f.capture_time_us = rec.frame().capture_time_us();
    f.encoding = rec.frame().encoding() == v1::ENCODING_RAW_BGR ? FrameEncoding::kRawBgr
                                                                 : FrameEncoding::kJpeg;
    f.width = static_cast<int>(rec.frame().width());
    f.height = static_cast<int>(rec.frame().height());
    f.data = std::move(*rec.mutable_frame()->mutable_data());
    if (auto pose = poseFromProto(rec.keypoints()); pose.ok() && pose->validCount() > 0) {
      f.pose = pose.value();
    }
    records.push_back(std::move(f));
  }
  if (ec) return fail("cannot list " + dir.string() + ": " + ec.message());
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
  return records;
}

Status SessionStore::verify(const v1::SessionManifest& manifest) {
  for (const auto& cam : manifest.cameras()) {
    if (!isSafeId(cam.camera_id()))
      return fail("manifest names unsafe camera id '" + cam.camera_id() + "'");
    auto records = load(manifest.session_id(), manifest.node_id(), cam.camera_id());
    if (!records.ok()) {
      if (cam.frame_count() == 0) continue;
      return fail(records.error());
    }
    std::uint64_t sum = 0;
    for (const auto& r : records.value()) sum += fnv1a64(r.data);
    if (records->size() != cam.frame_count()) {
      return fail("camera " + cam.camera_id() + ": manifest says " +
                  std::to_string(cam.frame_count()) + " frames, stored " +
                  std::to_string(records->size()));
    }
    if (sum != cam.checksum()) return fail("camera " + cam.camera_id() + ": checksum mismatch");
  }
  return okStatus();
}

}  // namespace booth
