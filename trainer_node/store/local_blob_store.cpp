#include "trainer_node/store/local_blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <system_error>

#include "common/os/durable_file.h"
#include "common/os/unique_fd.h"

namespace booth {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kPartialMarker = ".partial-";

std::string randomSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  std::uint64_t v = rng();
  for (char& c : out) {
    c = kHex[v & 15];
    v >>= 4;
  }
  return out;
}

class LocalBlobWriter final : public BlobWriter {
 public:
  LocalBlobWriter(std::string key, fs::path target, fs::path temp, UniqueFd fd, bool fsync)
      : key_(std::move(key)),
        target_(std::move(target)),
        temp_(std::move(temp)),
        fd_(std::move(fd)),
        fsync_(fsync) {}
  ~LocalBlobWriter() override { abort(); }

  Status write(std::string_view bytes) override {
    if (!fd_) return finished();
    if (auto st = writeAll(fd_.get(), bytes, temp_); !st.ok()) {
      abort();
      return fail("blob '" + key_ + "': " + st.error());
    }
    written_ += bytes.size();
    return okStatus();
  }

  std::uint64_t bytesWritten() const override { return written_; }

  Status commit(const BeforeCommit& before_commit) override {
    if (!fd_) return finished();
    if (fsync_) {
      if (auto st = syncFile(fd_.get(), temp_); !st.ok()) {
        abort();
        return fail("blob '" + key_ + "': " + st.error());
      }
    }
    if (before_commit) {
      StoreTransaction none;
      Status st = before_commit(none);
      if (!st.ok()) {
        abort();
        return st;
      }
    }
    fd_.reset();
    if (::rename(temp_.c_str(), target_.c_str()) != 0) {
      const int err = errno;
      abort();
      return fail("blob '" + key_ + "': cannot rename " + temp_.string() + " to " +
                  target_.string() + ": " + std::system_category().message(err));
    }
    temp_.clear();
    if (fsync_) {
      if (auto st = syncDirectory(target_.parent_path()); !st.ok()) {
        return fail("blob '" + key_ + "': " + st.error());
      }
    }
    return okStatus();
  }

  void abort() override {
    fd_.reset();
    if (!temp_.empty()) {
      ::unlink(temp_.c_str());
      temp_.clear();
    }
  }

 private:
  Status finished() const {
    return fail("blob '" + key_ + "': the writer is finished (committed, aborted or failed)");
  }

  std::string key_;
  fs::path target_;
  fs::path temp_;  // empty once renamed or removed
  UniqueFd fd_;    // invalid once finished
  bool fsync_;
  std::uint64_t written_ = 0;
};

class LocalBlobReader final : public BlobReader {
 public:
  LocalBlobReader(std::string key, fs::path path, UniqueFd fd, std::uint64_t size,
                  std::uint64_t offset, std::uint64_t end)
      : key_(std::move(key)),
        path_(std::move(path)),
        fd_(std::move(fd)),
        size_(size),
        pos_(offset),
        end_(end) {}

  std::uint64_t blobSize() const override { return size_; }
  std::uint64_t remaining() const override { return end_ - pos_; }

  Result<std::string> read(std::size_t max_bytes) override {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, end_ - pos_));
    if (n == 0) return std::string();
    auto bytes = readAt(fd_.get(), pos_, n, path_);
    if (!bytes.ok()) return fail("blob '" + key_ + "': " + bytes.error());
    if (bytes->size() != n) {
      return fail("blob '" + key_ + "': " + path_.string() + " is shorter than when opened");
    }
    pos_ += n;
    return bytes;
  }

 private:
  std::string key_;
  fs::path path_;
  UniqueFd fd_;
  std::uint64_t size_;
  std::uint64_t pos_;
  std::uint64_t end_;
};

bool isPartialName(const std::string& name) {
  return !name.empty() && name[0] == '.' && name.find(kPartialMarker) != std::string::npos;
}

}  // namespace

LocalBlobStore::LocalBlobStore(fs::path root, bool fsync) : root_(std::move(root)), fsync_(fsync) {}

Result<std::unique_ptr<BlobWriter>> LocalBlobStore::openWriter(const std::string& key) {
  if (!isSafeBlobKey(key)) return unsafeBlobKeyError(key);
  const fs::path target = root_ / key;
  if (auto st = makeDirectories(target.parent_path()); !st.ok()) {
    return fail("blob '" + key + "': " + st.error());
  }
  std::string temp_name(1, '.');  // (not "." + …: GCC 12 warns falsely on that)
  temp_name += target.filename().string();
  temp_name += kPartialMarker;
  temp_name += randomSuffix();
  const fs::path temp = target.parent_path() / temp_name;
  auto fd = openFile(temp, O_WRONLY | O_CREAT | O_EXCL, kPrivateFileMode);
  if (!fd.ok()) return fail("blob '" + key + "': " + fd.error());
  return std::unique_ptr<BlobWriter>(
      std::make_unique<LocalBlobWriter>(key, target, temp, std::move(fd.value()), fsync_));
}

Result<std::unique_ptr<BlobReader>> LocalBlobStore::openReader(const std::string& key,
                                                               ByteRange range) {
  if (!isSafeBlobKey(key)) return unsafeBlobKeyError(key);
  const fs::path path = root_ / key;
  const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (raw < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return fail("no blob '" + key + "'");
    return fail("blob '" + key + "': cannot open " + path.string() + ": " +
                std::system_category().message(err));
  }
  UniqueFd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return fail("no blob '" + key + "'");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  auto end = rangeEnd(key, range, size);
  if (!end.ok()) return fail(end.error());
  return std::unique_ptr<BlobReader>(
      std::make_unique<LocalBlobReader>(key, path, std::move(fd), size, range.offset, end.value()));
}

Result<std::optional<std::uint64_t>> LocalBlobStore::size(const std::string& key) {
  if (!isSafeBlobKey(key)) return unsafeBlobKeyError(key);
  const fs::path path = root_ / key;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return std::optional<std::uint64_t>();
    return fail("blob '" + key + "': cannot stat " + path.string() + ": " +
                std::system_category().message(err));
  }
  if (!S_ISREG(st.st_mode)) return std::optional<std::uint64_t>();
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(st.st_size));
}

Result<bool> LocalBlobStore::remove(const std::string& key) {
  if (!isSafeBlobKey(key)) return unsafeBlobKeyError(key);
  const fs::path path = root_ / key;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (::unlink(path.c_str()) != 0) {
    const int err = errno;
    if (err == ENOENT) return false;
    return fail("blob '" + key + "': cannot remove " + path.string() + ": " +
                std::system_category().message(err));
  }
  if (fsync_) {
    if (auto s = syncDirectory(path.parent_path()); !s.ok()) return fail(s.error());
  }
  return true;
}

Result<std::vector<BlobInfo>> LocalBlobStore::list(const std::string& prefix) {
  std::vector<BlobInfo> out;
  // Walk only the deepest folder the prefix names whole.
  const std::size_t slash = prefix.rfind('/');
  fs::path start = root_;
  if (slash != std::string::npos) {
    const std::string dir = prefix.substr(0, slash);
    if (!isSafeBlobKey(dir)) return out;  // no key can start with it
    start = root_ / dir;
  }
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(start, ec))) return out;
  ec.clear();
  for (auto it = fs::recursive_directory_iterator(start, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code st_ec;
    const auto status = it->symlink_status(st_ec);
    if (st_ec) return fail("cannot list blobs under " + start.string() + ": " + st_ec.message());
    if (name.empty() || name[0] == '.') {
      if (fs::is_directory(status)) it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(status)) continue;
    std::string key = it->path().lexically_relative(root_).generic_string();
    if (key.compare(0, prefix.size(), prefix) != 0 || !isSafeBlobKey(key)) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;  // removed meanwhile
    out.push_back({std::move(key), static_cast<std::uint64_t>(st.st_size),
                   static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 +
                       st.st_mtim.tv_nsec / 1'000'000});
  }
  if (ec) return fail("cannot list blobs under " + start.string() + ": " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const BlobInfo& a, const BlobInfo& b) { return a.key < b.key; });
  return out;
}

Result<std::size_t> LocalBlobStore::removeAbandonedWrites(std::chrono::seconds idle) {
  std::size_t removed = 0;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(root_, ec))) return removed;
  ec.clear();
  const auto cutoff = fs::file_time_type::clock::now() - idle;
  for (auto it = fs::recursive_directory_iterator(root_, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!isPartialName(name)) continue;
    std::error_code st_ec;
    if (!fs::is_regular_file(it->symlink_status(st_ec))) continue;
    const auto modified = fs::last_write_time(it->path(), st_ec);
    if (st_ec || modified > cutoff) continue;
    if (fs::remove(it->path(), st_ec)) ++removed;
  }
  if (ec) return fail("cannot walk " + root_.string() + " for abandoned writes: " + ec.message());
  return removed;
}

}  // namespace booth
