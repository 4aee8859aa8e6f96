#include "trainer_node/store/pg/pg_blob_store.h"

#include <algorithm>

#include "trainer_node/store/pg/pg_database.h"
#include "trainer_node/store/pg/pg_pool.h"
#include "trainer_node/store/pg/pg_transaction.h"

namespace booth {
namespace {

// Serializes the writers (and removers) of one key within their transaction.
void lockKey(pqxx::work& tx, const std::string& key) {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended('booth.blob.' || $1, 0))", key);
}

void insertChunk(pqxx::work& tx, std::int64_t upload_id, std::int64_t index,
                 std::string_view data) {
  tx.exec_params0("INSERT INTO blob_chunks (upload_id, index, data) VALUES ($1, $2, $3)", upload_id,
                  index, pqxx::binarystring(data.data(), data.size()));
}

// Makes `upload_id` the blob `key` (the key locked), dropping the chunks of
// the upload it replaces.
void pointKeyAt(pqxx::work& tx, const std::string& key, std::int64_t upload_id, std::uint64_t size,
                std::size_t chunk_bytes) {
  tx.exec_params(
      "DELETE FROM blob_chunks WHERE upload_id IN (SELECT upload_id FROM blobs WHERE key = $1)",
      key);
  tx.exec_params(
      "INSERT INTO blobs (key, upload_id, size, chunk_size) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (key) DO UPDATE SET upload_id = EXCLUDED.upload_id, size = EXCLUDED.size, "
      "chunk_size = EXCLUDED.chunk_size, created_at = now()",
      key, upload_id, static_cast<std::int64_t>(size), static_cast<std::int64_t>(chunk_bytes));
}

std::string likePrefix(const std::string& prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '\\' || c == '%' || c == '_') out += '\\';
    out += c;
  }
  return out + '%';
}

class PgBlobWriter final : public BlobWriter {
 public:
  PgBlobWriter(PgPool& pool, std::string key, std::size_t chunk_bytes)
      : pool_(pool), key_(std::move(key)), chunk_bytes_(chunk_bytes) {}
  ~PgBlobWriter() override { abort(); }

  Status write(std::string_view bytes) override {
    if (finished_) return finishedError();
    buffer_.append(bytes);
    written_ += bytes.size();
    std::size_t used = 0;
    while (buffer_.size() - used >= chunk_bytes_) {
      if (auto st = stageChunk(std::string_view(buffer_).substr(used, chunk_bytes_)); !st.ok()) {
        abort();
        return st;
      }
      used += chunk_bytes_;
    }
    buffer_.erase(0, used);
    return okStatus();
  }

  std::uint64_t bytesWritten() const override { return written_; }

  Status commit(const BeforeCommit& before_commit) override {
    if (finished_) return finishedError();
    auto done = pool_.transact<Ok>("publishing blob '" + key_ + "'", [&](pqxx::work& tx) -> Status {
      const bool staged = upload_id_ != 0;
      if (!staged) upload_id_ = tx.exec1("SELECT nextval('blob_upload_ids')")[0].as<std::int64_t>();
      if (!buffer_.empty()) insertChunk(tx, upload_id_, next_index_, buffer_);
      if (staged) {
        const auto gone =
            tx.exec_params("DELETE FROM blob_uploads WHERE upload_id = $1", upload_id_);
        if (gone.affected_rows() != 1) {
          return fail("blob '" + key_ +
                      "': its stored chunks were removed as an abandoned write before the commit");
        }
      }
      lockKey(tx, key_);
      if (before_commit) {
        PgTransaction hook_tx(tx);
        if (Status st = before_commit(hook_tx); !st.ok()) return st;
      }
      pointKeyAt(tx, key_, upload_id_, written_, chunk_bytes_);
      return okStatus();
    });
    if (!done.ok()) {
      // Rolled back: a staged upload is still there to remove; a fresh id
      // was never stored.
      if (next_index_ == 0) upload_id_ = 0;
      abort();
      return done;
    }
    finished_ = true;
    upload_id_ = 0;
    buffer_.clear();
    return okStatus();
  }

  void abort() override {
    finished_ = true;
    buffer_.clear();
    if (upload_id_ == 0) return;
    const std::int64_t id = std::exchange(upload_id_, 0);
    // Best effort: if this fails (database away), removeAbandonedWrites()
    // deletes the staged chunks later.
    (void)pool_.transact<Ok>("dropping an unfinished blob write", [&](pqxx::work& tx) -> Status {
      tx.exec_params("DELETE FROM blob_chunks WHERE upload_id = $1", id);
      tx.exec_params("DELETE FROM blob_uploads WHERE upload_id = $1", id);
      return okStatus();
    });
  }

 private:
  Status stageChunk(std::string_view chunk) {
    return pool_.transact<Ok>("storing blob '" + key_ + "'", [&](pqxx::work& tx) -> Status {
      if (upload_id_ == 0) {
        const auto id = tx.exec1("SELECT nextval('blob_upload_ids')")[0].as<std::int64_t>();
        tx.exec_params0("INSERT INTO blob_uploads (upload_id, key) VALUES ($1, $2)", id, key_);
        insertChunk(tx, id, 0, chunk);
        upload_id_ = id;  // only once the transaction can no longer fail before commit
      } else {
        insertChunk(tx, upload_id_, next_index_, chunk);
        const auto touched = tx.exec_params(
            "UPDATE blob_uploads SET touched_at = now() WHERE upload_id = $1", upload_id_);
        if (touched.affected_rows() != 1) {
          return fail("blob '" + key_ + "': its stored chunks were removed as an abandoned write");
        }
      }
      ++next_index_;
      return okStatus();
    });
  }

  Status finishedError() const {
    return fail("blob '" + key_ + "': the writer is finished (committed, aborted or failed)");
  }

  PgPool& pool_;
  const std::string key_;
  const std::size_t chunk_bytes_;
  std::string buffer_;          // bytes of the chunk not stored yet
  std::int64_t upload_id_ = 0;  // 0: no chunk staged yet
  std::int64_t next_index_ = 0;
  std::uint64_t written_ = 0;
  bool finished_ = false;
};

class PgBlobReader final : public BlobReader {
 public:
  PgBlobReader(PgPool& pool, std::string key, std::int64_t upload_id, std::uint64_t size,
               std::uint64_t chunk_size, std::uint64_t offset, std::uint64_t end)
      : pool_(pool),
        key_(std::move(key)),
        upload_id_(upload_id),
        size_(size),
        chunk_size_(chunk_size),
        pos_(offset),
        end_(end) {}

  std::uint64_t blobSize() const override { return size_; }
  std::uint64_t remaining() const override { return end_ - pos_; }

  Result<std::string> read(std::size_t max_bytes) override {
    if (pos_ >= end_ || max_bytes == 0) return std::string();
    const std::uint64_t index = pos_ / chunk_size_;
    if (!chunk_ || chunk_index_ != index) {
      auto loaded = loadChunk(index);
      if (!loaded.ok()) return fail(loaded.error());
    }
    const std::uint64_t chunk_start = index * chunk_size_;
    const std::uint64_t in_chunk = pos_ - chunk_start;
    if (in_chunk >= chunk_->size()) {
      return fail("blob '" + key_ + "': chunk " + std::to_string(index) +
                  " is shorter than its size says");
    }
    const std::size_t n = static_cast<std::size_t>(
        std::min<std::uint64_t>({max_bytes, chunk_->size() - in_chunk, end_ - pos_}));
    std::string out = chunk_->substr(static_cast<std::size_t>(in_chunk), n);
    pos_ += n;
    return out;
  }

 private:
  Status loadChunk(std::uint64_t index) {
    return pool_.transact<Ok>("reading blob '" + key_ + "'", [&](pqxx::work& tx) -> Status {
      const auto rows =
          tx.exec_params("SELECT data FROM blob_chunks WHERE upload_id = $1 AND index = $2",
                         upload_id_, static_cast<std::int64_t>(index));
      if (rows.empty()) {
        return fail("blob '" + key_ + "' was replaced or removed while being read");
      }
      pqxx::binarystring data(rows[0][0]);
      chunk_ = data.str();
      chunk_index_ = index;
      return okStatus();
    });
  }

  PgPool& pool_;
  const std::string key_;
  const std::int64_t upload_id_;
  const std::uint64_t size_;
  const std::uint64_t chunk_size_;
  std::uint64_t pos_;
  const std::uint64_t end_;
  std::optional<std::string> chunk_;  // the chunk last read, kept for the next small reads
  std::uint64_t chunk_index_ = 0;
};

}  // namespace

PgBlobStore::PgBlobStore(std::shared_ptr<PgDatabase> db, std::size_t chunk_bytes)
    : db_(std::move(db)), chunk_bytes_(std::max<std::size_t>(1, chunk_bytes)) {}

Result<std::unique_ptr<BlobWriter>> PgBlobStore::openWriter(const std::string& key) {
  if (!isSafeBlobKey(key)) return unsafeBlobKeyError(key);
  return std::unique_ptr<BlobWriter>(
      std::make_unique<PgBlobWriter>(db_->pool(), key, chunk_bytes_));
}

Status PgBlobStore::putAll(const std::vector<BlobToPut>& blobs) {
  if (blobs.empty()) return okStatus();
  std::vector<const BlobToPut*> ordered;
  for (const BlobToPut& blob : blobs) {
    if (!isSafeBlobKey(blob.key)) return unsafeBlobKeyError(blob.key);
    ordered.push_back(&blob);
  }
  // Key order: two writers of overlapping sets never wait for each other in a cycle.
  std::sort(ordered.begin(), ordered.end(),
            [](const BlobToPut* a, const BlobToPut* b) { return a->key < b->key; });
  for (std::size_t i = 1; i < ordered.size(); ++i) {
    if (ordered[i]->key == ordered[i - 1]->key) {
      return fail("blob '" + ordered[i]->key + "' given twice to one putAll");
    }
  }
  const std::string what = "publishing " + std::to_string(ordered.size()) + " blob(s) from '" +
                           ordered.front()->key + "'";
  return db_->pool().transact<Ok>(what, [&](pqxx::work& tx) -> Status {
    for (const BlobToPut* blob : ordered) {
      const auto upload_id = tx.exec1("SELECT nextval('blob_upload_ids')")[0].as<std::int64_t>();
      std::int64_t index = 0;
      for (std::size_t at = 0; at < blob->bytes.size(); at += chunk_bytes_) {
        insertChunk(tx, upload_id, index++, blob->bytes.substr(at, chunk_bytes_));
      }
      lockKey(tx, blob->key);
      pointKeyAt(tx, blob->key, upload_id, blob->bytes.size(), chunk_bytes_);
    }
    return okStatus();
  });
}

Result<std::unique_ptr<BlobReader>> PgBlobStore::openReader(const std::string& key,
                                                            ByteRange range) {
  if (!isSafeBlobKey(key)) return unsafeBlobKeyError(key);
  struct Row {
    std::int64_t upload_id;
    std::uint64_t size;
    std::uint64_t chunk_size;
  };
  auto row =
      db_->pool().transact<Row>("opening blob '" + key + "'", [&](pqxx::work& tx) -> Result<Row> {
        const auto rows =
            tx.exec_params("SELECT upload_id, size, chunk_size FROM blobs WHERE key = $1", key);
        if (rows.empty()) return fail("no blob '" + key + "'");
        return Row{rows[0][0].as<std::int64_t>(), rows[0][1].as<std::uint64_t>(),
                   rows[0][2].as<std::uint64_t>()};
      });
  if (!row.ok()) return fail(row.error());
  auto end = rangeEnd(key, range, row->size);
  if (!end.ok()) return fail(end.error());
  return std::unique_ptr<BlobReader>(std::make_unique<PgBlobReader>(
      db_->pool(), key, row->upload_id, row->size, row->chunk_size, range.offset, end.value()));
}

Result<std::optional<std::uint64_t>> PgBlobStore::size(const std::string& key) {
  if (!isSafeBlobKey(key)) return unsafeBlobKeyError(key);
  return db_->pool().transact<std::optional<std::uint64_t>>(
      "reading the size of blob '" + key + "'",
      [&](pqxx::work& tx) -> Result<std::optional<std::uint64_t>> {
        const auto rows = tx.exec_params("SELECT size FROM blobs WHERE key = $1", key);
        if (rows.empty()) return std::optional<std::uint64_t>();
        return std::optional<std::uint64_t>(rows[0][0].as<std::uint64_t>());
      });
}

Result<bool> PgBlobStore::remove(const std::string& key) {
  if (!isSafeBlobKey(key)) return unsafeBlobKeyError(key);
  return db_->pool().transact<bool>(
      "removing blob '" + key + "'", [&](pqxx::work& tx) -> Result<bool> {
        lockKey(tx, key);
        const auto gone =
            tx.exec_params("DELETE FROM blobs WHERE key = $1 RETURNING upload_id", key);
        if (gone.empty()) return false;
        tx.exec_params("DELETE FROM blob_chunks WHERE upload_id = $1",
                       gone[0][0].as<std::int64_t>());
        return true;
      });
}

Result<std::vector<BlobInfo>> PgBlobStore::list(const std::string& prefix) {
  return db_->pool().transact<std::vector<BlobInfo>>(
      "listing blobs", [&](pqxx::work& tx) -> Result<std::vector<BlobInfo>> {
        const auto rows =
            tx.exec_params("SELECT key, size, (extract(epoch FROM created_at) * 1000)::bigint "
                           "FROM blobs WHERE key LIKE $1 ESCAPE '\\' ORDER BY key",
                           likePrefix(prefix));
        std::vector<BlobInfo> out;
        out.reserve(rows.size());
        for (const auto& r : rows) {
          out.push_back(
              {r[0].as<std::string>(), r[1].as<std::uint64_t>(), r[2].as<std::int64_t>()});
        }
        return out;
      });
}

Result<std::size_t> PgBlobStore::removeAbandonedWrites(std::chrono::seconds idle) {
  return db_->pool().transact<std::size_t>(
      "removing abandoned blob writes", [&](pqxx::work& tx) -> Result<std::size_t> {
        const auto rows = tx.exec_params(
            "WITH gone AS (DELETE FROM blob_uploads WHERE touched_at <= now() - make_interval(secs "
            "=> $1) "
            "RETURNING upload_id), "
            "chunks AS (DELETE FROM blob_chunks WHERE upload_id IN (SELECT upload_id FROM gone)) "
            "SELECT count(*) FROM gone",
            static_cast<double>(idle.count()));
        return static_cast<std::size_t>(rows[0][0].as<std::int64_t>());
      });
}

}  // namespace booth
