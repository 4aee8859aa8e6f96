#pragma once
// The trainer's data disk: how much is free, and whether an error means it
// is full. The ingest refuses new sessions below a threshold; the job
// runner names a full disk as such ("disk full") instead of whatever a
// library said about the write it could not finish.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "common/core/result.h"

namespace booth {

// Bytes an unprivileged writer can still use on the file system of `path`.
Result<std::uint64_t> freeBytes(const std::filesystem::path& path);

// A source of free bytes (freeBytes of the data folder; tests inject one).
using FreeSpaceProbe = std::function<Result<std::uint64_t>()>;

// Refusal text when `free` is below `min_free`, empty otherwise.
std::string lowSpaceReason(const std::filesystem::path& dir, std::uint64_t free,
                           std::uint64_t min_free);

// true when an error text says the disk (or the quota) is full: ENOSPC,
// EDQUOT, SQLite's "database or disk is full", libtorch's truncated writes.
bool looksLikeDiskFull(const std::string& error);

}  // namespace booth
