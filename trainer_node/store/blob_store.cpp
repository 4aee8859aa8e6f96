#include "trainer_node/store/blob_store.h"

#include <algorithm>

#include "common/core/safe_id.h"

namespace booth {

bool isSafeBlobKey(std::string_view key) {
  std::size_t segments = 0;
  while (true) {
    const std::size_t slash = key.find('/');
    if (!isSafeId(key.substr(0, slash))) return false;
    if (++segments > kMaxBlobKeySegments) return false;
    if (slash == std::string_view::npos) return true;
    key.remove_prefix(slash + 1);
  }
}

Error unsafeBlobKeyError(const std::string& key) {
  return fail("refusing blob key '" + key.substr(0, 200) + "' (expected 1.." +
              std::to_string(kMaxBlobKeySegments) +
              " '/'-separated names of [A-Za-z0-9_.-], not starting with '.')");
}

Result<std::uint64_t> rangeEnd(const std::string& key, const ByteRange& range, std::uint64_t size) {
  if (range.offset > size) {
    return fail("blob '" + key + "': range offset " + std::to_string(range.offset) +
                " is past its end (" + std::to_string(size) + " bytes)");
  }
  return range.length ? range.offset + std::min(*range.length, size - range.offset) : size;
}

Status BlobStore::put(const std::string& key, std::string_view bytes,
                      const BeforeCommit& before_commit) {
  auto writer = openWriter(key);
  if (!writer.ok()) return fail(writer.error());
  if (auto st = writer.value()->write(bytes); !st.ok()) return st;
  return writer.value()->commit(before_commit);
}

Status BlobStore::putAll(const std::vector<BlobToPut>& blobs) {
  for (const BlobToPut& blob : blobs) {
    if (auto st = put(blob.key, blob.bytes); !st.ok()) return st;
  }
  return okStatus();
}

Result<std::string> BlobStore::read(const std::string& key, ByteRange range,
                                    std::size_t max_bytes) {
  auto reader = openReader(key, range);
  if (!reader.ok()) return fail(reader.error());
  BlobReader& r = *reader.value();
  if (r.remaining() > max_bytes) {
    return fail("blob '" + key + "': " + std::to_string(r.remaining()) +
                " bytes to read, more than the limit of " + std::to_string(max_bytes) +
                " for a whole read (use a reader)");
  }
  std::string out;
  out.reserve(r.remaining());
  while (r.remaining() > 0) {
    auto part = r.read(r.remaining());
    if (!part.ok()) return fail(part.error());
    if (part->empty()) return fail("blob '" + key + "' ended early");
    out += part.value();
  }
  return out;
}

}  // namespace booth
