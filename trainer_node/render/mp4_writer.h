#pragma once
// Mp4Writer: H.264 in MP4 through FFmpeg's libraries (libx264), yuv420p,
// "faststart" (index at the front) so browsers start playing before the
// download ends. Frames are 8-bit BGR of the size given at open().
//
// Lifecycle: open() -> write() per frame -> close() (flushes the encoder and
// writes the index; the file is only valid after close()). The destructor
// closes if needed. One thread at a time.
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "common/core/result.h"

namespace booth {

class Mp4Writer {
 public:
  Mp4Writer();
  ~Mp4Writer();
  Mp4Writer(const Mp4Writer&) = delete;
  Mp4Writer& operator=(const Mp4Writer&) = delete;

  // width and height must be even (yuv420p). crf: x264 quality, 18..28 sane.
  Status open(const std::string& path, int width, int height, double fps, int crf = 20);
  Status write(const cv::Mat& bgr);
  Status close();
  int framesWritten() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace booth
