#include "common/storage/record_log.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cstring>

#include "common/os/durable_file.h"

namespace booth {
namespace {

constexpr std::uint32_t kMagic = 0x4c525442;  // "BTRL"
constexpr std::size_t kHeaderBytes = 12;

void putU32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint32_t getU32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

std::uint32_t crc32Of(std::string_view bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large buffers in pieces.
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - done, 1u << 30));
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), n);
    done += n;
  }
  return static_cast<std::uint32_t>(crc);
}

Result<std::unique_ptr<RecordLog>> RecordLog::open(const std::filesystem::path& path) {
  auto fd = openFile(path, O_RDWR | O_CREAT);
  if (!fd.ok()) return fail(fd.error());
  std::unique_ptr<RecordLog> log(new RecordLog(path, std::move(fd.value())));
  if (auto st = log->recover(); !st.ok()) return fail(st.error());
  return log;
}

RecordLog::RecordLog(std::filesystem::path path, UniqueFd fd)
    : path_(std::move(path)), fd_(std::move(fd)) {}

Status RecordLog::recover() {
  const off_t size = ::lseek(fd_.get(), 0, SEEK_END);
  if (size < 0) return fail("cannot read " + path_.string());
  auto all = readAt(fd_.get(), 0, static_cast<std::size_t>(size), path_);
  if (!all.ok()) return fail(all.error());
  const std::string& bytes = all.value();
  std::uint64_t pos = 0;
  while (pos + kHeaderBytes <= bytes.size()) {
    const char* h = bytes.data() + pos;
    const std::uint32_t magic = getU32(h), length = getU32(h + 4), crc = getU32(h + 8);
    if (magic != kMagic || length > kMaxRecordBytes || pos + kHeaderBytes + length > bytes.size())
      break;
    std::string_view body(bytes.data() + pos + kHeaderBytes, length);
    if (crc32Of(body) != crc) break;
    records_.emplace_back(body);
    pos += kHeaderBytes + length;
  }
  end_ = pos;
  dropped_tail_ = bytes.size() - pos;
  if (dropped_tail_ > 0 && ::ftruncate(fd_.get(), static_cast<off_t>(pos)) != 0) {
    return fail("cannot truncate the torn tail of " + path_.string());
  }
  return okStatus();
}

Status RecordLog::append(std::string_view record) {
  if (record.size() > kMaxRecordBytes) {
    return fail("record of " + std::to_string(record.size()) + " bytes is larger than the " +
                std::to_string(kMaxRecordBytes) + " a log holds (" + path_.string() + ")");
  }
  std::string framed(kHeaderBytes + record.size(), '\0');
  putU32(framed.data(), kMagic);
  putU32(framed.data() + 4, static_cast<std::uint32_t>(record.size()));
  putU32(framed.data() + 8, crc32Of(record));
  std::memcpy(framed.data() + kHeaderBytes, record.data(), record.size());
  std::lock_guard lock(mutex_);
  if (auto st = writeAllAt(fd_.get(), framed, end_, path_); !st.ok()) {
    // Leave the file as it was: a partial record would only be cut at the
    // next open, and later appends must not land after it.
    if (::ftruncate(fd_.get(), static_cast<off_t>(end_)) != 0) {
      return fail(st.error() + "; and the partial record could not be cut off");
    }
    return st;
  }
  end_ += framed.size();
  records_.emplace_back(record);
  return okStatus();
}

Status RecordLog::sync() { return syncFile(fd_.get(), path_); }

std::vector<std::string> RecordLog::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

std::size_t RecordLog::count() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

std::uint64_t RecordLog::sizeBytes() const {
  std::lock_guard lock(mutex_);
  return end_;
}

}  // namespace booth
