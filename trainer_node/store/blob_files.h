#pragma once
// Blobs to and from local files, for code whose libraries read and write
// paths (libtorch checkpoints, the MP4 writer): a file streamed into a blob
// (published with a BeforeCommit hook, e.g. a worker's fence check), and a
// blob streamed into a file (written beside it, renamed when complete).
// Both stream in pieces of a few MiB; a failure names the key and the file.
#include <filesystem>
#include <string>

#include "common/core/result.h"
#include "trainer_node/store/blob_store.h"

namespace booth {

// The bytes of `file` as the blob `key`, visible only once `before_commit`
// agrees (nothing is published when it refuses or anything fails).
Status storeFileAsBlob(BlobStore& blobs, const std::filesystem::path& file,
                       const std::string& key, const BeforeCommit& before_commit = {});

// The blob `key` as `file` (replaced whole; a failed fetch leaves no file).
Status fetchBlobToFile(BlobStore& blobs, const std::string& key,
                       const std::filesystem::path& file);

// Where the blob `key` is for code that serves it by path: its file when
// `blobs` is a LocalBlobStore (the HTTP side serves clips from the data
// folder), else the key itself.
std::string blobLocation(const BlobStore& blobs, const std::string& key);

}  // namespace booth
