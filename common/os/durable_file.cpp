#include "common/os/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace booth {
namespace fs = std::filesystem;
namespace {

std::string errnoText(int err) { return std::system_category().message(err); }

}  // namespace

Result<UniqueFd> openFile(const fs::path& path, int flags, mode_t mode) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) {
    const int err = errno;
    return fail("cannot open " + path.string() + ": " + errnoText(err));
  }
  return UniqueFd(fd);
}

Status makeDirectories(const fs::path& dir, mode_t mode) {
  if (dir.empty()) return okStatus();
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return okStatus();
  if (auto parent = dir.parent_path(); !parent.empty() && parent != dir) {
    if (auto st = makeDirectories(parent, mode); !st.ok()) return st;
  }
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    const int err = errno;
    return fail("cannot create directory " + dir.string() + ": " + errnoText(err));
  }
  return okStatus();
}

Status writeAll(int fd, std::string_view bytes, const fs::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      return fail("cannot write " + path.string() + ": " + errnoText(err) +
                  (err == ENOSPC || err == EDQUOT ? " (disk full)" : ""));
    }
    done += static_cast<std::size_t>(n);
  }
  return okStatus();
}

Status writeAllAt(int fd, std::string_view bytes, std::uint64_t offset, const fs::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                               static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      return fail("cannot write " + path.string() + ": " + errnoText(err) +
                  (err == ENOSPC || err == EDQUOT ? " (disk full)" : ""));
    }
    done += static_cast<std::size_t>(n);
  }
  return okStatus();
}

Result<std::string> readAt(int fd, std::uint64_t offset, std::size_t length, const fs::path& path) {
  std::string out(length, '\0');
  std::size_t done = 0;
  while (done < length) {
    const ssize_t n =
        ::pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      return fail("cannot read " + path.string() + ": " + errnoText(err));
    }
    if (n == 0) {
      return fail("cannot read " + path.string() + ": " + std::to_string(length) +
                  " bytes at offset " + std::to_string(offset) + " run past the end of the file");
    }
    done += static_cast<std::size_t>(n);
  }
  return out;
}

Status syncFile(int fd, const fs::path& path) {
  if (::fdatasync(fd) != 0) {
    const int err = errno;
    return fail("cannot sync " + path.string() + ": " + errnoText(err));
  }
  return okStatus();
}

Status syncDirectory(const fs::path& dir) {
  auto fd = openFile(dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return fail(fd.error());
  if (::fsync(fd->get()) != 0) {
    const int err = errno;
    return fail("cannot sync directory " + dir.string() + ": " + errnoText(err));
  }
  return okStatus();
}

Status replaceFile(const fs::path& path, std::string_view bytes, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  // A failed write (a full disk) leaves no half-written temporary behind.
  auto discard = [&](Status st) {
    std::error_code ec;
    fs::remove(tmp, ec);
    return st;
  };
  {
    auto fd = openFile(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (!fd.ok()) return discard(fail(fd.error()));
    if (auto st = writeAll(fd->get(), bytes, tmp); !st.ok()) return discard(st);
    if (auto st = syncFile(fd->get(), tmp); !st.ok()) return discard(st);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    return discard(
        fail("cannot rename " + tmp.string() + " to " + path.string() + ": " + errnoText(err)));
  }
  return syncDirectory(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

Result<std::string> readFile(const fs::path& path, std::size_t max_bytes) {
  auto fd = openFile(path, O_RDONLY);
  if (!fd.ok()) return fail(fd.error());
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) {
    const int err = errno;
    return fail("cannot stat " + path.string() + ": " + errnoText(err));
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) {
    return fail(path.string() + " is " + std::to_string(size) + " bytes, more than the " +
                std::to_string(max_bytes) + " allowed");
  }
  return readAt(fd->get(), 0, static_cast<std::size_t>(size), path);
}

bool punchHole(int fd, std::uint64_t offset, std::uint64_t length) {
  if (length == 0) return true;
  return ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                     static_cast<off_t>(length)) == 0;
}

std::uint64_t allocatedBytes(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_blocks) * 512u;
}

}  // namespace booth
