#include "common/storage/frame_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "common/core/checksum.h"
#include "common/os/durable_file.h"
#include "common/storage/record_log.h"

namespace booth {
namespace fs = std::filesystem;
namespace {

constexpr std::uint32_t kEntryMagic = 0x49465442;  // "BTFI"

template <class T>
void put(char* p, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    p[i] = static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xff);
}
template <class T>
T get(const char* p) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return static_cast<T>(v);
}

std::uint8_t encodingCode(FrameEncoding e) {
  switch (e) {
    case FrameEncoding::kJpeg:
      return 1;
    case FrameEncoding::kRawBgr:
      return 2;
  }
  return 0;
}
std::optional<FrameEncoding> encodingFromCode(std::uint8_t c) {
  switch (c) {
    case 1:
      return FrameEncoding::kJpeg;
    case 2:
      return FrameEncoding::kRawBgr;
    default:
      return std::nullopt;
  }
}

// Layout of one 64-byte index entry (little-endian):
//  0 magic u32 | 4 entry crc u32 (over bytes 8..63) | 8 sequence u64 |
// 16 capture_time_us i64 | 24 offset u64 | 32 length u32 | 36 meta_length u32 |
// 40 fnv u64 | 48 data crc u32 | 52 width u16 | 54 height u16 | 56 encoding u8 |
// 57..63 reserved (0)
std::string encodeEntry(const FrameEntry& e) {
  std::string b(FrameLog::kEntryBytes, '\0');
  put<std::uint32_t>(b.data(), kEntryMagic);
  put<std::uint64_t>(b.data() + 8, e.sequence);
  put<std::int64_t>(b.data() + 16, e.capture_time_us);
  put<std::uint64_t>(b.data() + 24, e.offset);
  put<std::uint32_t>(b.data() + 32, e.length);
  put<std::uint32_t>(b.data() + 36, e.meta_length);
  put<std::uint64_t>(b.data() + 40, e.fnv);
  put<std::uint32_t>(b.data() + 48, e.crc);
  put<std::uint16_t>(b.data() + 52, static_cast<std::uint16_t>(e.width));
  put<std::uint16_t>(b.data() + 54, static_cast<std::uint16_t>(e.height));
  put<std::uint8_t>(b.data() + 56, encodingCode(e.encoding));
  put<std::uint32_t>(b.data() + 4, crc32Of(std::string_view(b).substr(8)));
  return b;
}

std::optional<FrameEntry> decodeEntry(const char* b) {
  if (get<std::uint32_t>(b) != kEntryMagic) return std::nullopt;
  if (get<std::uint32_t>(b + 4) != crc32Of(std::string_view(b + 8, FrameLog::kEntryBytes - 8)))
    return std::nullopt;
  auto encoding = encodingFromCode(get<std::uint8_t>(b + 56));
  if (!encoding) return std::nullopt;
  FrameEntry e;
  e.sequence = get<std::uint64_t>(b + 8);
  e.capture_time_us = get<std::int64_t>(b + 16);
  e.offset = get<std::uint64_t>(b + 24);
  e.length = get<std::uint32_t>(b + 32);
  e.meta_length = get<std::uint32_t>(b + 36);
  e.fnv = get<std::uint64_t>(b + 40);
  e.crc = get<std::uint32_t>(b + 48);
  e.width = get<std::uint16_t>(b + 52);
  e.height = get<std::uint16_t>(b + 54);
  e.encoding = *encoding;
  return e;
}

std::uint64_t fileSize(int fd) {
  const off_t end = ::lseek(fd, 0, SEEK_END);
  return end < 0 ? 0 : static_cast<std::uint64_t>(end);
}

}  // namespace

Result<std::unique_ptr<FrameLog>> FrameLog::open(const fs::path& dir) {
  if (auto st = makeDirectories(dir); !st.ok()) return fail(st.error());
  auto data = openFile(dir / "frames.dat", O_RDWR | O_CREAT);
  if (!data.ok()) return fail(data.error());
  auto index = openFile(dir / "frames.idx", O_RDWR | O_CREAT);
  if (!index.ok()) return fail(index.error());
  std::unique_ptr<FrameLog> log(new FrameLog(dir, std::move(data.value()), std::move(index.value())));
  if (auto st = log->recover(); !st.ok()) return fail(st.error());
  return log;
}

FrameLog::FrameLog(fs::path dir, UniqueFd data, UniqueFd index)
    : dir_(std::move(dir)), data_(std::move(data)), index_(std::move(index)) {}

Status FrameLog::recover() {
  const std::uint64_t index_size = fileSize(index_.get());
  const std::uint64_t data_size = fileSize(data_.get());
  auto bytes = readAt(index_.get(), 0, static_cast<std::size_t>(index_size), dir_ / "frames.idx");
  if (!bytes.ok()) return fail(bytes.error());
  std::uint64_t expected_offset = 0;
  std::size_t whole = static_cast<std::size_t>(index_size / kEntryBytes);
  for (std::size_t i = 0; i < whole; ++i) {
    auto e = decodeEntry(bytes->data() + i * kEntryBytes);
    // Entries are contiguous in the data file; anything else is a torn or
    // foreign tail.
    if (!e || e->offset != expected_offset ||
        e->offset + e->length + e->meta_length > data_size)
      break;
    expected_offset = e->offset + e->length + e->meta_length;
    entries_.push_back(*e);
  }
  dropped_entries_ = whole - entries_.size();
  const std::uint64_t keep_index = entries_.size() * kEntryBytes;
  if (keep_index != index_size && ::ftruncate(index_.get(), static_cast<off_t>(keep_index)) != 0)
    return fail("cannot truncate the torn tail of " + (dir_ / "frames.idx").string());
  if (expected_offset != data_size &&
      ::ftruncate(data_.get(), static_cast<off_t>(expected_offset)) != 0)
    return fail("cannot truncate the torn tail of " + (dir_ / "frames.dat").string());
  data_end_ = expected_offset;
  return okStatus();
}

Result<FrameEntry> FrameLog::append(const FrameToAppend& frame) {
  if (frame.data.size() + frame.meta.size() > kMaxFrameBytes) {
    return fail("frame " + std::to_string(frame.sequence) + " is " +
                std::to_string(frame.data.size() + frame.meta.size()) + " bytes, more than the " +
                std::to_string(kMaxFrameBytes) + " a frame log takes");
  }
  if (frame.width < 0 || frame.width > 65535 || frame.height < 0 || frame.height > 65535) {
    return fail("frame " + std::to_string(frame.sequence) + " has an impossible size " +
                std::to_string(frame.width) + "x" + std::to_string(frame.height));
  }
  FrameEntry e;
  e.sequence = frame.sequence;
  e.capture_time_us = frame.capture_time_us;
  e.encoding = frame.encoding;
  e.width = frame.width;
  e.height = frame.height;
  e.length = static_cast<std::uint32_t>(frame.data.size());
  e.meta_length = static_cast<std::uint32_t>(frame.meta.size());
  e.fnv = fnv1a64(frame.data);
  std::string body;
  body.reserve(frame.data.size() + frame.meta.size());
  body.append(frame.data);
  body.append(frame.meta);
  e.crc = crc32Of(body);

  std::uint64_t offset;
  std::size_t count;
  {
    std::lock_guard lock(mutex_);
    offset = data_end_;
    count = entries_.size();
  }
  e.offset = offset;
  const fs::path data_path = dir_ / "frames.dat";
  if (auto st = writeAllAt(data_.get(), body, offset, data_path); !st.ok()) {
    [[maybe_unused]] int r = ::ftruncate(data_.get(), static_cast<off_t>(offset));
    return fail(st.error());
  }
  if (auto st = writeAllAt(index_.get(), encodeEntry(e), count * kEntryBytes, dir_ / "frames.idx");
      !st.ok()) {
    [[maybe_unused]] int r1 = ::ftruncate(index_.get(), static_cast<off_t>(count * kEntryBytes));
    [[maybe_unused]] int r2 = ::ftruncate(data_.get(), static_cast<off_t>(offset));
    return fail(st.error());
  }
  std::lock_guard lock(mutex_);
  data_end_ = offset + body.size();
  entries_.push_back(e);
  return e;
}

Status FrameLog::sync() {
  if (auto st = syncFile(data_.get(), dir_ / "frames.dat"); !st.ok()) return st;
  return syncFile(index_.get(), dir_ / "frames.idx");
}

void FrameLog::release(std::size_t index) {
  FrameEntry e;
  {
    std::lock_guard lock(mutex_);
    if (index >= entries_.size() || entries_[index].released) return;
    entries_[index].released = true;
    e = entries_[index];
  }
  punchHole(data_.get(), e.offset, std::uint64_t{e.length} + e.meta_length);
}

std::size_t FrameLog::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::vector<FrameEntry> FrameLog::entries() const {
  std::lock_guard lock(mutex_);
  return entries_;
}

std::optional<FrameEntry> FrameLog::entry(std::size_t index) const {
  std::lock_guard lock(mutex_);
  if (index >= entries_.size()) return std::nullopt;
  return entries_[index];
}

Result<StoredFrameBytes> FrameLog::read(std::size_t index) const {
  auto e = entry(index);
  if (!e) return fail("no frame #" + std::to_string(index) + " in " + dir_.string());
  if (e->released) {
    return fail("frame " + std::to_string(e->sequence) + " in " + dir_.string() +
                " was already released after its ack");
  }
  auto body = readAt(data_.get(), e->offset, std::size_t{e->length} + e->meta_length,
                     dir_ / "frames.dat");
  if (!body.ok()) return fail(body.error());
  if (crc32Of(body.value()) != e->crc) {
    return fail("frame " + std::to_string(e->sequence) + " in " + dir_.string() +
                " does not match its checksum (disk corruption?)");
  }
  StoredFrameBytes out;
  out.meta = body->substr(e->length);
  body->resize(e->length);
  out.data = std::move(body.value());
  return out;
}

std::uint64_t FrameLog::allocatedBytes() const {
  return booth::allocatedBytes(data_.get()) + booth::allocatedBytes(index_.get());
}

}  // namespace booth
