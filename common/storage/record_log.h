#pragma once
// RecordLog: an append-only file of variable-length records, each framed as
//   [magic u32][length u32][crc32 u32][length bytes]
// (little-endian). Crash-safe by construction: a record is appended with
// one write(); after a crash, open() scans from the start, keeps every whole
// record whose checksum matches and truncates the file after the last one,
// so a torn tail is dropped and nothing before it is lost. Records are
// never rewritten; a log is deleted whole.
//
// Used for the small, numerous things that must survive a crash: pose
// records, ack marks, per-session notes.
//
// Threading: append() and sync() from one writer thread at a time;
// records() is safe from any thread (it copies under the lock).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/os/unique_fd.h"

namespace booth {

class RecordLog {
 public:
  // Largest record accepted; bigger lengths in a file are read as corruption.
  static constexpr std::uint32_t kMaxRecordBytes = 16u << 20;

  // Opens or creates `path`, recovering it as described above. The
  // records already in it are returned by records().
  static Result<std::unique_ptr<RecordLog>> open(const std::filesystem::path& path);

  Status append(std::string_view record);
  Status sync();
  // Every record, oldest first (those found at open() and appended since).
  std::vector<std::string> records() const;
  std::size_t count() const;
  // Bytes dropped from a torn tail when the log was opened (0: clean).
  std::uint64_t recoveredTailBytes() const { return dropped_tail_; }
  const std::filesystem::path& path() const { return path_; }
  std::uint64_t sizeBytes() const;

 private:
  RecordLog(std::filesystem::path path, UniqueFd fd);
  Status recover();

  std::filesystem::path path_;
  UniqueFd fd_;
  mutable std::mutex mutex_;  // guards records_ and end_
  std::vector<std::string> records_;
  std::uint64_t end_ = 0;
  std::uint64_t dropped_tail_ = 0;
};

// crc32 (zlib's polynomial) of `bytes`.
std::uint32_t crc32Of(std::string_view bytes);

}  // namespace booth
