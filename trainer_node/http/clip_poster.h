#pragma once
// The poster of a clip: one frame from the middle of the MP4 as a JPEG,
// shown by the visitor page before the video plays and in link previews.
// Made from the finished clip with FFmpeg's libraries (decode, scale,
// MJPEG encode), beside it: clips/<token>.mp4 -> clips/<token>.jpg, mode
// 0600. Retention deletes it with the clip.
//
// With a BlobStore (ensureBlob) the poster is the blob clips/<token>.jpg
// beside the clip blob clips/<token>.mp4, so every front-end that shares
// the store makes it once: a clip in a local folder is decoded in place, a
// clip in PostgreSQL is fetched into the scratch folder first (removed
// after, as is the poster's file once stored).
//
// Threading: makePoster() is a pure function of its files; ClipPosters
// serialises making so that concurrent first requests make it once.
#include <filesystem>
#include <mutex>
#include <string>

#include "common/core/result.h"
#include "trainer_node/store/blob_store.h"

namespace booth {

std::filesystem::path posterPath(const std::filesystem::path& clip_path);

// Writes a JPEG of the frame at `fraction` (0..1) of the clip to `out`
// (via a temporary name and rename), at most `max_width` pixels wide.
Status makePoster(const std::filesystem::path& clip, const std::filesystem::path& out,
                  double fraction = 0.5, int max_width = 960);

class ClipPosters {
 public:
  // Where ensureBlob() fetches clips and makes posters; empty: the
  // system's temporary folder.
  explicit ClipPosters(std::filesystem::path scratch = {});

  // The poster of `clip`, made now if missing.
  Result<std::filesystem::path> ensure(const std::filesystem::path& clip);
  // The JPEG bytes of the clip `token`'s poster in `blobs`, made and stored
  // there now if missing.
  Result<std::string> ensureBlob(BlobStore& blobs, const std::string& token);

 private:
  std::filesystem::path scratch_;
  std::mutex mutex_;  // one poster made at a time
};

}  // namespace booth
