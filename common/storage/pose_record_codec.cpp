#include "common/storage/pose_record_codec.h"

#include <cstdint>
#include <cstring>

namespace booth {
namespace {

constexpr std::uint8_t kLayoutVersion = 1;
constexpr std::uint32_t kMaxPeople = 64;
constexpr std::uint32_t kMaxText = 4096;

class Writer {
 public:
  template <class T>
  void put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));  // the spool never leaves the machine that wrote it
    out_.append(b, sizeof(T));
  }
  void text(const std::string& s) {
    const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(s.size(), kMaxText));
    put(n);
    out_.append(s.data(), n);
  }
  void pose(const Pose& p) {
    for (const Keypoint& k : p.points) {
      put(k.x);
      put(k.y);
      put(k.confidence);
      put(static_cast<std::uint8_t>(k.imputed));
    }
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <class T>
  bool get(T& v) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool text(std::string& s) {
    std::uint32_t n = 0;
    if (!get(n) || n > kMaxText || in_.size() < n) return false;
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool pose(Pose& p) {
    for (Keypoint& k : p.points) {
      std::uint8_t imputed = 0;
      if (!get(k.x) || !get(k.y) || !get(k.confidence) || !get(imputed)) return false;
      k.imputed = imputed != 0;
    }
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace

std::string encodePoseRecord(const PoseRecord& r) {
  Writer w;
  w.put(kLayoutVersion);
  w.put(r.sequence);
  w.put(r.capture_time_us);
  w.put(static_cast<std::uint8_t>(r.origin == PoseOrigin::kGroundTruth ? 1 : 2));
  w.text(r.camera_id);
  w.text(r.error);
  w.put(static_cast<std::int32_t>(r.performer_track));
  w.put(static_cast<std::uint32_t>(std::min<std::size_t>(r.people.size(), kMaxPeople)));
  for (std::size_t i = 0; i < r.people.size() && i < kMaxPeople; ++i) {
    w.put(static_cast<std::int32_t>(r.people[i].track_id));
    w.pose(r.people[i].pose);
  }
  w.put(static_cast<std::uint8_t>(r.performer ? 1 : 0));
  if (r.performer) w.pose(*r.performer);
  return w.take();
}

Result<PoseRecord> decodePoseRecord(std::string_view bytes) {
  Reader r(bytes);
  PoseRecord out;
  std::uint8_t version = 0, origin = 0, has_performer = 0;
  std::int32_t performer_track = -1;
  std::uint32_t people = 0;
  if (!r.get(version) || version != kLayoutVersion) {
    return fail("stored pose record has layout " + std::to_string(version) + ", expected " +
                std::to_string(kLayoutVersion));
  }
  if (!r.get(out.sequence) || !r.get(out.capture_time_us) || !r.get(origin) ||
      !r.text(out.camera_id) || !r.text(out.error) || !r.get(performer_track) || !r.get(people) ||
      people > kMaxPeople) {
    return fail("stored pose record is truncated or damaged");
  }
  out.origin = origin == 1 ? PoseOrigin::kGroundTruth : PoseOrigin::kNetwork;
  out.performer_track = performer_track;
  for (std::uint32_t i = 0; i < people; ++i) {
    PosedPerson p;
    std::int32_t track = -1;
    if (!r.get(track) || !r.pose(p.pose)) return fail("stored pose record is truncated");
    p.track_id = track;
    out.people.push_back(p);
  }
  if (!r.get(has_performer)) return fail("stored pose record is truncated");
  if (has_performer) {
    Pose p;
    if (!r.pose(p)) return fail("stored pose record is truncated");
    out.performer = p;
  }
  if (!r.done()) return fail("stored pose record has trailing bytes");
  return out;
}

}  // namespace booth
