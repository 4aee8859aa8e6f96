#include "trainer_node/store/blob_files.h"

#include <fstream>
#include <system_error>

#include "trainer_node/store/local_blob_store.h"

namespace booth {
namespace {
constexpr std::size_t kPieceBytes = 4u << 20;
}  // namespace

Status storeFileAsBlob(BlobStore& blobs, const std::filesystem::path& file,
                       const std::string& key, const BeforeCommit& before_commit) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail("cannot read " + file.string() + " to store it as blob '" + key + "'");
  auto writer = blobs.openWriter(key);
  if (!writer.ok()) return fail(writer.error());
  std::string piece(kPieceBytes, '\0');
  while (in) {
    in.read(piece.data(), static_cast<std::streamsize>(piece.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    if (auto st = writer.value()->write(std::string_view(piece.data(), n)); !st.ok()) return st;
  }
  if (in.bad()) {
    writer.value()->abort();
    return fail("reading " + file.string() + " for blob '" + key + "' failed");
  }
  return writer.value()->commit(before_commit);
}

Status fetchBlobToFile(BlobStore& blobs, const std::string& key,
                       const std::filesystem::path& file) {
  auto reader = blobs.openReader(key, {});
  if (!reader.ok()) return fail(reader.error());
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  const std::filesystem::path temp = file.string() + ".fetching";
  auto failed = [&](const std::string& why) {
    std::filesystem::remove(temp, ec);
    return fail("blob '" + key + "' to " + file.string() + ": " + why);
  };
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return failed("cannot create " + temp.string());
    while (reader.value()->remaining() > 0) {
      auto piece = reader.value()->read(kPieceBytes);
      if (!piece.ok()) return failed(piece.error());
      if (piece->empty()) return failed("the blob ended early");
      out.write(piece->data(), static_cast<std::streamsize>(piece->size()));
      if (!out) return failed("cannot write " + temp.string());
    }
    out.close();
    if (!out) return failed("cannot write " + temp.string());
  }
  std::filesystem::rename(temp, file, ec);
  if (ec) return failed("cannot rename " + temp.string() + ": " + ec.message());
  return okStatus();
}

std::string blobLocation(const BlobStore& blobs, const std::string& key) {
  if (const auto* local = dynamic_cast<const LocalBlobStore*>(&blobs))
    return (local->root() / key).string();
  return key;
}

}  // namespace booth
