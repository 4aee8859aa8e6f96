#pragma once
// ChoreographyFile: a reference choreography imported from a dance video
// (`capture_node import-choreography`): the frame rate and, per frame, the
// dancer's COCO-17 keypoints in the video's pixels, after the same
// estimator, performer tracker and fixed-lag smoother as a booth session.
// The renderer maps them onto the visitor like a built-in choreography.
//
// On disk: one JSON object (format "booth-choreography", version 1):
//   {"format": "booth-choreography", "version": 1, "name": "salsa-1",
//    "source": "salsa.mp4", "fps": 30, "width": 1280, "height": 720,
//    "keypoint_layout": "coco17",
//    "frames": [[[x, y, confidence, imputed], ... 17 joints], null, ...]}
// A null frame had no dancer; imputed is 0 or 1. Files come from outside
// (copied to the trainer by an operator), so parse() bounds everything:
// size, frame count, numbers, names; errors name the file and the field.
#include <filesystem>
#include <string>
#include <vector>

#include "common/core/keypoints.h"
#include "common/core/result.h"

namespace booth {

struct ChoreographyFile {
  std::string name;    // [A-Za-z0-9_-], 1..64 characters: how operators pick it
  std::string source;  // what it was imported from (informative)
  double fps = 30;
  int width = 0;   // the frame size the keypoints are in
  int height = 0;
  // One pose per frame; a frame without a dancer has every joint at
  // confidence 0.
  std::vector<Pose> frames;

  static constexpr std::size_t kMaxBytes = 64u << 20;
  static constexpr std::size_t kMaxFrames = 240 * 600;  // 10 minutes at 240 fps

  static Result<ChoreographyFile> load(const std::filesystem::path& path);
  static Result<ChoreographyFile> parse(const std::string& json_text, const std::string& what);
  std::string toJson() const;
  // Writes to a temporary file beside `path`, then renames it into place.
  Status save(const std::filesystem::path& path) const;

  double seconds() const { return fps > 0 ? static_cast<double>(frames.size()) / fps : 0; }
  // The frame shown at `t` seconds (nearest frame; before the start the
  // first, past the end the last). Requires at least one frame.
  const Pose& poseAt(double t) const;

  static bool isValidName(const std::string& name);
};

// The imported choreographies in a folder (the trainer's
// --choreography-dir): every "<name>.json" that loads and whose "name" is
// its file name. `problems` names each file that was passed over and why.
struct ChoreographyDirScan {
  std::vector<std::string> names;  // sorted
  std::vector<std::string> problems;
};
ChoreographyDirScan scanChoreographyDir(const std::filesystem::path& dir);

}  // namespace booth
