#include "trainer_node/store/session_segment.h"

#include <array>
#include <cstdio>
#include <cstring>

#include <boost/endian/conversion.hpp>

#include "common/storage/record_log.h"  // crc32Of

namespace booth {
namespace {

constexpr std::string_view kMagic = "BOOTHSG1";
constexpr std::size_t kHeaderBytes = 32;
constexpr char kFrameRecord = 'F';
constexpr char kPoseRecord = 'P';
constexpr std::string_view kSuffix = ".seg";
constexpr std::size_t kIndexDigits = 10;
// Codes of the encodings in a segment: position + 1.
constexpr std::array kEncodings = {FrameEncoding::kJpeg, FrameEncoding::kRawBgr,
                                   FrameEncoding::kYuyv};

template <class T>
void append(std::string& out, T value) {
  const T little = boost::endian::native_to_little(value);
  out.append(reinterpret_cast<const char*>(&little), sizeof little);
}

// Reads fixed-size fields off the front of a segment, refusing to run past
// its end.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : rest_(bytes) {}
  template <class T>
  bool take(T& value) {
    if (rest_.size() < sizeof(T)) return false;
    std::memcpy(&value, rest_.data(), sizeof(T));
    value = boost::endian::little_to_native(value);
    rest_.remove_prefix(sizeof(T));
    return true;
  }
  bool take(std::size_t n, std::string_view& bytes) {
    if (rest_.size() < n) return false;
    bytes = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  std::size_t left() const { return rest_.size(); }

 private:
  std::string_view rest_;
};

std::uint8_t encodingCode(FrameEncoding encoding) {
  for (std::size_t i = 0; i < kEncodings.size(); ++i) {
    if (kEncodings[i] == encoding) return static_cast<std::uint8_t>(i + 1);
  }
  return 0;
}

Status damaged(std::uint32_t record, const std::string& what) {
  return fail("damaged segment: record " + std::to_string(record) + ": " + what);
}

}  // namespace

std::string segmentPrefix(const std::string& session, const std::string& node,
                          const std::string& camera) {
  return "sessions/" + session + "/frames/" + node + "/" + camera + "/";
}

std::string segmentBlobKey(const std::string& session, const std::string& node,
                           const std::string& camera, std::uint64_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "%0*llu", static_cast<int>(kIndexDigits),
                static_cast<unsigned long long>(index));
  return segmentPrefix(session, node, camera) + name + std::string(kSuffix);
}

std::optional<std::uint64_t> segmentIndexOf(std::string_view key, std::string_view prefix) {
  if (key.substr(0, prefix.size()) != prefix) return std::nullopt;
  key.remove_prefix(prefix.size());
  if (key.size() != kIndexDigits + kSuffix.size() || key.substr(kIndexDigits) != kSuffix) {
    return std::nullopt;
  }
  std::uint64_t index = 0;
  for (char c : key.substr(0, kIndexDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    index = index * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return index;
}

void SegmentBuilder::addFrame(const FrameToAppend& frame) {
  payload_ += kFrameRecord;
  append<std::uint64_t>(payload_, frame.sequence);
  append<std::int64_t>(payload_, frame.capture_time_us);
  append<std::uint8_t>(payload_, encodingCode(frame.encoding));
  append<std::uint16_t>(payload_, static_cast<std::uint16_t>(frame.width));
  append<std::uint16_t>(payload_, static_cast<std::uint16_t>(frame.height));
  append<std::uint32_t>(payload_, static_cast<std::uint32_t>(frame.data.size()));
  append<std::uint32_t>(payload_, static_cast<std::uint32_t>(frame.meta.size()));
  payload_ += frame.data;
  payload_ += frame.meta;
  ++records_;
}

void SegmentBuilder::addPose(std::string_view encoded_pose) {
  payload_ += kPoseRecord;
  append<std::uint32_t>(payload_, static_cast<std::uint32_t>(encoded_pose.size()));
  payload_ += encoded_pose;
  ++records_;
}

std::string SegmentBuilder::segment() const {
  std::string out(kMagic);
  append<std::uint32_t>(out, records_);
  append<std::uint32_t>(out, crc32Of(payload_));
  append<std::uint64_t>(out, payload_.size());
  append<std::uint64_t>(out, 0);
  out += payload_;
  return out;
}

void SegmentBuilder::clear() {
  payload_.clear();
  records_ = 0;
}

Status readSegment(std::string_view segment, const SegmentVisitor& visit) {
  if (segment.size() < kHeaderBytes || segment.substr(0, kMagic.size()) != kMagic) {
    return fail("damaged segment: no segment header (" + std::to_string(segment.size()) +
                " bytes)");
  }
  Cursor header(segment.substr(kMagic.size(), kHeaderBytes - kMagic.size()));
  std::uint32_t count = 0, crc = 0;
  std::uint64_t payload_bytes = 0;
  header.take(count);
  header.take(crc);
  header.take(payload_bytes);
  const std::string_view payload = segment.substr(kHeaderBytes);
  if (payload.size() != payload_bytes) {
    return fail("damaged segment: " + std::to_string(payload.size()) +
                " bytes of records where the header says " + std::to_string(payload_bytes) +
                " (truncated or extended)");
  }
  if (crc32Of(payload) != crc) return fail("damaged segment: its records' crc32 does not match");
  Cursor in(payload);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string_view kind;
    if (!in.take(1, kind)) return damaged(i, "missing (the header says " + std::to_string(count) + ")");
    if (kind[0] == kPoseRecord) {
      std::uint32_t length = 0;
      std::string_view bytes;
      if (!in.take(length) || !in.take(length, bytes)) return damaged(i, "pose record cut short");
      if (auto st = visit.pose(bytes); !st.ok()) return st;
      continue;
    }
    if (kind[0] != kFrameRecord) {
      return damaged(i, "unknown kind " + std::to_string(static_cast<unsigned char>(kind[0])));
    }
    FrameToAppend frame;
    std::uint8_t encoding = 0;
    std::uint16_t width = 0, height = 0;
    std::uint32_t length = 0, meta_length = 0;
    if (!in.take(frame.sequence) || !in.take(frame.capture_time_us) || !in.take(encoding) ||
        !in.take(width) || !in.take(height) || !in.take(length) || !in.take(meta_length) ||
        !in.take(length, frame.data) || !in.take(meta_length, frame.meta)) {
      return damaged(i, "frame record cut short");
    }
    if (encoding == 0 || encoding > kEncodings.size()) {
      return damaged(i, "unknown frame encoding " + std::to_string(encoding));
    }
    frame.encoding = kEncodings[encoding - 1];
    frame.width = width;
    frame.height = height;
    if (auto st = visit.frame(frame); !st.ok()) return st;
  }
  if (in.left() != 0) {
    return fail("damaged segment: " + std::to_string(in.left()) + " bytes after its " +
                std::to_string(count) + " records");
  }
  return okStatus();
}

Result<std::uint64_t> readCameraSegments(BlobStore& blobs, const std::string& session,
                                         const std::string& node, const std::string& camera,
                                         const SegmentVisitor& visit) {
  const std::string prefix = segmentPrefix(session, node, camera);
  auto listed = blobs.list(prefix);
  if (!listed.ok()) return fail(listed.error());
  std::uint64_t next = 0;
  for (const BlobInfo& blob : listed.value()) {
    const auto index = segmentIndexOf(blob.key, prefix);
    if (!index) continue;
    if (*index != next) {
      return fail("segment " + segmentBlobKey(session, node, camera, next) +
                  " is missing (the next one stored is " + blob.key + ")");
    }
    auto bytes = blobs.read(blob.key);
    if (!bytes.ok()) return fail(bytes.error());
    if (auto st = readSegment(bytes.value(), visit); !st.ok()) {
      return fail(blob.key + ": " + st.error());
    }
    ++next;
  }
  return next;
}

}  // namespace booth
