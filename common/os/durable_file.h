#pragma once
// Small durable-file helpers over POSIX, for the capture node's spool and
// the trainer's store: whole writes that survive EINTR and short writes,
// fdatasync of files and of the directories that name them (a new file is
// durable only once its directory entry is), and whole-file replacement by
// write-to-temporary-then-rename.
//
// Every function returns an Error naming the path and the errno text.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/core/result.h"
#include "common/os/unique_fd.h"

namespace booth {

// Private by default: visitors' data is readable by the owner only.
inline constexpr mode_t kPrivateFileMode = 0600;
inline constexpr mode_t kPrivateDirMode = 0700;

// Opens (creating with `mode` when absent) for appending/reading.
Result<UniqueFd> openFile(const std::filesystem::path& path, int flags, mode_t mode = kPrivateFileMode);
// Creates the directory and its missing parents with `mode`; existing ones
// keep theirs.
Status makeDirectories(const std::filesystem::path& dir, mode_t mode = kPrivateDirMode);
Status writeAll(int fd, std::string_view bytes, const std::filesystem::path& path_for_errors);
Status writeAllAt(int fd, std::string_view bytes, std::uint64_t offset,
                  const std::filesystem::path& path_for_errors);
Result<std::string> readAt(int fd, std::uint64_t offset, std::size_t length,
                           const std::filesystem::path& path_for_errors);
Status syncFile(int fd, const std::filesystem::path& path_for_errors);
Status syncDirectory(const std::filesystem::path& dir);
// Writes `bytes` to `path` atomically: a temporary file in the same
// directory, synced, renamed over `path`, directory synced.
Status replaceFile(const std::filesystem::path& path, std::string_view bytes,
                   mode_t mode = kPrivateFileMode);
Result<std::string> readFile(const std::filesystem::path& path, std::size_t max_bytes);
// Frees the disk blocks of [offset, offset + length) while keeping the
// file's size (FALLOC_FL_PUNCH_HOLE). false when the file system cannot
// (the space then comes back only when the file is deleted).
bool punchHole(int fd, std::uint64_t offset, std::uint64_t length);
// Bytes the file really occupies on disk (st_blocks), not its size.
std::uint64_t allocatedBytes(int fd);

}  // namespace booth
