#pragma once
// LocalBlobStore: blobs as files under one folder, for a trainer alone on
// its machine (the embedded default). A key is the file's path below the
// root ("clips/3f9a.mp4" → ROOT/clips/3f9a.mp4); folders are 0700 and files
// 0600, as everywhere in the data directory.
//
// A write goes to a hidden temporary file beside its target
// (".NAME.partial-RANDOM"; keys never start with '.', so it can never be
// mistaken for a blob), is synced (with `fsync`), and is renamed over the
// target at commit(), the folder synced after: a crash leaves the old blob
// or the new one, never a mix, plus at most a temporary file that
// removeAbandonedWrites() deletes. Listing walks the folder with the
// non-throwing iteration and skips hidden files and links.
//
// Unlike PostgreSQL, a folder cannot hold both a blob "a" and a blob
// "a/b"; the second write fails with the file system's error.
//
// Threads: as BlobStore (no state besides the root; the file system
// serializes).
#include <filesystem>

#include "trainer_node/store/blob_store.h"

namespace booth {

class LocalBlobStore final : public BlobStore {
 public:
  LocalBlobStore(std::filesystem::path root, bool fsync);

  Result<std::unique_ptr<BlobWriter>> openWriter(const std::string& key) override;
  Result<std::unique_ptr<BlobReader>> openReader(const std::string& key, ByteRange range) override;
  Result<std::optional<std::uint64_t>> size(const std::string& key) override;
  Result<bool> remove(const std::string& key) override;
  Result<std::vector<BlobInfo>> list(const std::string& prefix) override;
  Result<std::size_t> removeAbandonedWrites(std::chrono::seconds idle) override;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
  bool fsync_;
};

}  // namespace booth
