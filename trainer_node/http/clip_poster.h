#pragma once
// The poster of a clip: one frame from the middle of the MP4 as a JPEG,
// shown by the visitor page before the video plays and in link previews.
// Made from the finished clip with FFmpeg's libraries (decode, scale,
// MJPEG encode), beside it: clips/<token>.mp4 -> clips/<token>.jpg, mode
// 0600. Retention deletes it with the clip.
//
// Threading: makePoster() is a pure function of its files; ClipPosters
// serialises making so that concurrent first requests make it once.
#include <filesystem>
#include <mutex>
#include <string>

#include "common/core/result.h"

namespace booth {

std::filesystem::path posterPath(const std::filesystem::path& clip_path);

// Writes a JPEG of the frame at `fraction` (0..1) of the clip to `out`
// (via a temporary name and rename), at most `max_width` pixels wide.
Status makePoster(const std::filesystem::path& clip, const std::filesystem::path& out,
                  double fraction = 0.5, int max_width = 960);

class ClipPosters {
 public:
  // The poster of `clip`, made now if missing.
  Result<std::filesystem::path> ensure(const std::filesystem::path& clip);

 private:
  std::mutex mutex_;  // one poster made at a time
};

}  // namespace booth
