#pragma once
// PgBlobStore: blobs in the shared PostgreSQL database, so every trainer
// process (ingest gateways, workers, HTTP front-ends) sees the same frames,
// checkpoints, clips and posters. The contract is BlobStore's.
//
// Layout (migration 1, store/README.md): a blob's bytes are rows of
// blob_chunks (bytea, `chunk_bytes` each, the last one shorter) under an
// upload id; the row in `blobs` names the upload that is the blob now. A
// writer stores each full chunk as it comes, in its own short transaction
// (under blob_uploads, invisible to readers), and commit() publishes in one
// transaction: the last chunk, the BeforeCommit hook (given the transaction:
// pg_transaction.h), the blob's row pointing at the new upload and the old
// upload's chunks deleted. A blob of at most one chunk is therefore written
// in exactly one transaction together with the hook's fence check. Writers
// of the same key are serialized by a transaction advisory lock on the key.
//
// A write whose process died leaves its staged chunks under blob_uploads;
// removeAbandonedWrites(idle) deletes uploads untouched for `idle`.
//
// Threads: any; each call holds one pooled connection for one transaction.
// A reader or writer holds none between calls.
#include <cstddef>
#include <memory>

#include "trainer_node/store/blob_store.h"

namespace booth {

class PgDatabase;

class PgBlobStore final : public BlobStore {
 public:
  static constexpr std::size_t kDefaultChunkBytes = 1u << 20;

  explicit PgBlobStore(std::shared_ptr<PgDatabase> db,
                       std::size_t chunk_bytes = kDefaultChunkBytes);

  Result<std::unique_ptr<BlobWriter>> openWriter(const std::string& key) override;
  // In one transaction: every blob or none (keys locked in key order).
  Status putAll(const std::vector<BlobToPut>& blobs) override;
  Result<std::unique_ptr<BlobReader>> openReader(const std::string& key, ByteRange range) override;
  Result<std::optional<std::uint64_t>> size(const std::string& key) override;
  Result<bool> remove(const std::string& key) override;
  Result<std::vector<BlobInfo>> list(const std::string& prefix) override;
  Result<std::size_t> removeAbandonedWrites(std::chrono::seconds idle) override;

 private:
  std::shared_ptr<PgDatabase> db_;
  std::size_t chunk_bytes_;
};

}  // namespace booth
