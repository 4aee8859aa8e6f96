#pragma once
// BlobStore: the trainer's named byte strings (session frames, training
// checkpoints, clips, posters) behind one interface, two implementations:
//   LocalBlobStore (local_blob_store.h)  files under one folder, one machine
//   PgBlobStore (pg/pg_blob_store.h)     chunked bytea rows in PostgreSQL,
//                                        shared by every trainer process
// Both pass one conformance suite (tests/trainer_node/blob_store_test.cpp).
//
// Keys: 1..8 segments joined by '/', each an isSafeId name (1..64 of
// [A-Za-z0-9_.-], not starting with '.'), e.g. "clips/3f9a.mp4" or
// "checkpoints/job-12/state.pt". Any other key is refused with an error that
// quotes it (keys may come from outside).
//
// Atomicity: a blob is visible complete or not at all. A writer's bytes
// become visible only at commit(), which replaces a blob of the same key in
// one step; a writer destroyed or aborted before commit() leaves nothing
// visible (its partial bytes are removed then, or, after a crash, by
// removeAbandonedWrites()).
//
// Fencing: commit() (and put()) take an optional BeforeCommit hook, run
// after every byte is stored and before the blob becomes visible; an error
// from it refuses the write (nothing becomes visible, the error is
// returned). In PostgreSQL the hook runs inside the transaction that
// publishes the blob, so a check there ("this worker still holds the job's
// fencing token") and the hook's own writes commit or roll back together
// with the publication. In the local folder it runs just before the rename:
// one machine, not atomic with it.
//
// Reads: a reader reads the blob as it was when opened. In the local folder
// a blob replaced or removed meanwhile stays readable through the open
// reader; in PostgreSQL its next read fails ("replaced or removed while
// being read") rather than mixing two versions.
//
// Errors: every failure (I/O, database unavailable, unsafe key, a missing
// blob) is a returned Error naming the key and the cause; nothing throws.
// size() tells a missing blob apart (nullopt).
//
// Threads: every BlobStore method may be called from any thread at once. A
// BlobWriter or BlobReader is used by one thread at a time and must not
// outlive the store that opened it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"

namespace booth {

inline constexpr std::size_t kMaxBlobKeySegments = 8;

// true for keys as described above.
bool isSafeBlobKey(std::string_view key);
// The error for a key that is not (quoting it, cut to 200 bytes).
Error unsafeBlobKeyError(const std::string& key);

// What a BeforeCommit hook is given: the implementation's transaction. The
// PostgreSQL store passes its open transaction (pg/pg_transaction.h, for
// code that knows it runs against PostgreSQL); the local folder passes one
// that carries nothing.
class StoreTransaction {
 public:
  virtual ~StoreTransaction() = default;
};
using BeforeCommit = std::function<Status(StoreTransaction&)>;

// [offset, offset + length) of a blob; no length: to its end. A length past
// the end is cut at the end; an offset past the end is an error.
struct ByteRange {
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;
};
// Where `range` ends in a blob of `size` bytes; an error for an offset past
// the end (for implementations).
Result<std::uint64_t> rangeEnd(const std::string& key, const ByteRange& range, std::uint64_t size);

struct BlobInfo {
  std::string key;
  std::uint64_t size = 0;
  // When the blob was last written (wall-clock ms since the epoch: the
  // file's mtime, or the database server's clock at commit); retention
  // leaves orphans alone until they are old.
  std::int64_t modified_ms = 0;
};

// One whole blob for putAll(); the bytes must outlive the call.
struct BlobToPut {
  std::string key;
  std::string_view bytes;
};

// Streaming write of one blob. Not thread-safe; see the contract above.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;  // without commit(): as abort()
  // Appends bytes (buffered; large blobs are stored piecewise as they come).
  virtual Status write(std::string_view bytes) = 0;
  virtual std::uint64_t bytesWritten() const = 0;
  // Publishes the blob once `before_commit` (when set) agrees. After
  // commit(), abort() or any failed call the writer is finished: further
  // calls fail.
  virtual Status commit(const BeforeCommit& before_commit) = 0;
  // Drops everything written; idempotent.
  virtual void abort() = 0;
};

// Streaming read of one range of one blob. Not thread-safe.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  // The whole blob's size, not the range's.
  virtual std::uint64_t blobSize() const = 0;
  // Bytes of the range not read yet.
  virtual std::uint64_t remaining() const = 0;
  // The range's next bytes, at most max_bytes (> 0); empty at its end.
  virtual Result<std::string> read(std::size_t max_bytes) = 0;
};

class BlobStore {
 public:
  static constexpr std::size_t kDefaultMaxReadBytes = 64u << 20;

  virtual ~BlobStore() = default;

  virtual Result<std::unique_ptr<BlobWriter>> openWriter(const std::string& key) = 0;
  virtual Result<std::unique_ptr<BlobReader>> openReader(const std::string& key,
                                                         ByteRange range) = 0;
  // nullopt: no such blob.
  virtual Result<std::optional<std::uint64_t>> size(const std::string& key) = 0;
  // true: it was there and is gone; false: there was none.
  virtual Result<bool> remove(const std::string& key) = 0;
  // Every blob whose key starts with `prefix` (any string; "" lists all),
  // ordered by key (bytewise).
  virtual Result<std::vector<BlobInfo>> list(const std::string& prefix) = 0;
  // Removes the leftovers of writes neither committed nor aborted (their
  // process died) that have been idle for at least `idle`; returns how many.
  virtual Result<std::size_t> removeAbandonedWrites(std::chrono::seconds idle) = 0;

  // The whole blob in one write: openWriter, write, commit.
  Status put(const std::string& key, std::string_view bytes,
             const BeforeCommit& before_commit = {});
  // Several whole blobs (distinct keys), each visible complete or not at
  // all. PostgreSQL publishes them in one transaction: all or none. This
  // default (the local folder) puts them one after another: on an error the
  // ones before it stay. Either way, putting the same keys again (with the
  // same or longer bytes) after an error is the way to finish.
  virtual Status putAll(const std::vector<BlobToPut>& blobs);
  // The range's bytes in one string; refuses a range longer than max_bytes
  // (use a reader for those).
  Result<std::string> read(const std::string& key, ByteRange range = {},
                           std::size_t max_bytes = kDefaultMaxReadBytes);
};

}  // namespace booth
