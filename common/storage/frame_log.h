#pragma once
// FrameLog: the frames of one camera of one session on disk, append-only:
//   frames.dat  the frames' bytes, back to back, exactly as captured
//               (JPEG), each followed by its optional metadata blob
//   frames.idx  one fixed 64-byte entry per frame: sequence, capture time,
//               encoding, size, offset and length in frames.dat, FNV-1a 64
//               and crc32 of the bytes, and a crc32 of the entry itself
// Both nodes use it: the capture node's spool (frames wait here until the
// trainer has acked them) and the trainer's session store.
//
// Crash safety: a frame is appended data first, index entry second. open()
// keeps every index entry whose own checksum matches and whose bytes lie
// within frames.dat, drops a torn tail of either file, and truncates both
// to what the index describes, so a crash at any point loses at most the
// frame being written. Once a frame is no longer needed (acked), release()
// frees its disk blocks (hole punching) without rewriting anything; the
// index keeps describing it, so counts and checksums survive.
//
// Threading: append(), sync() and release() from one writer thread;
// entries(), entry() and read() from any thread.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/image/frame_image.h"
#include "common/os/unique_fd.h"

namespace booth {

struct FrameEntry {
  std::uint64_t sequence = 0;
  std::int64_t capture_time_us = 0;
  FrameEncoding encoding = FrameEncoding::kJpeg;
  int width = 0;
  int height = 0;
  std::uint64_t offset = 0;        // in frames.dat
  std::uint32_t length = 0;        // the frame's bytes
  std::uint32_t meta_length = 0;   // the metadata blob right after them
  std::uint64_t fnv = 0;           // FNV-1a 64 of the frame's bytes (manifest checksums)
  std::uint32_t crc = 0;           // crc32 of bytes + metadata (read verification)
  bool released = false;           // bytes freed after an ack (set in memory only)
};

struct FrameToAppend {
  std::uint64_t sequence = 0;
  std::int64_t capture_time_us = 0;
  FrameEncoding encoding = FrameEncoding::kJpeg;
  int width = 0;
  int height = 0;
  std::string_view data;
  std::string_view meta;  // e.g. the synthetic source's ground-truth pose
};

struct StoredFrameBytes {
  std::string data;
  std::string meta;
};

class FrameLog {
 public:
  static constexpr std::size_t kEntryBytes = 64;
  static constexpr std::uint32_t kMaxFrameBytes = 64u << 20;

  // Opens or creates the log in `dir` (created 0700 when missing) and
  // recovers it. Appends are not synced one by one: call sync() before
  // anything depends on their durability (the trainer before it acks a
  // batch; the capture node every few hundred milliseconds).
  static Result<std::unique_ptr<FrameLog>> open(const std::filesystem::path& dir);

  Result<FrameEntry> append(const FrameToAppend& frame);
  // Makes every append so far durable (data file first, then the index).
  Status sync();
  // Frees the bytes of the frame at `index` (see entries()); idempotent.
  void release(std::size_t index);

  std::size_t size() const;
  std::vector<FrameEntry> entries() const;
  std::optional<FrameEntry> entry(std::size_t index) const;
  // The frame's bytes, verified against its crc32. Fails for released
  // frames and for bytes that do not match (disk corruption).
  Result<StoredFrameBytes> read(std::size_t index) const;

  // Disk blocks in use by both files.
  std::uint64_t allocatedBytes() const;
  // What recovery dropped at open(): index entries and data bytes.
  std::uint64_t recoveredEntries() const { return dropped_entries_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  FrameLog(std::filesystem::path dir, UniqueFd data, UniqueFd index);
  Status recover();

  std::filesystem::path dir_;
  UniqueFd data_;
  UniqueFd index_;
  mutable std::mutex mutex_;  // guards entries_, data_end_
  std::vector<FrameEntry> entries_;
  std::uint64_t data_end_ = 0;
  std::uint64_t dropped_entries_ = 0;
};

}  // namespace booth
