#pragma once
// Test support: what is inside an MP4, read with FFmpeg's libraries (the
// same ones a browser-compatible player would need): codec, size, frames.
#include <string>

namespace booth::testing {

struct Mp4Probe {
  bool ok = false;
  std::string error;
  std::string container;  // e.g. "mov,mp4,m4a,3gp,3g2,mj2"
  std::string codec;      // e.g. "h264"
  std::string pixel_format;
  int width = 0;
  int height = 0;
  int frames = 0;  // decoded frames
};

Mp4Probe probeMp4(const std::string& path);

}  // namespace booth::testing
