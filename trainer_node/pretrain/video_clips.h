#pragma once
// The dance videos `trainer_node pretrain --videos DIR` trains on: each
// video in DIR (by name order; .mp4 .mov .mkv .avi .webm .m4v) goes through
// the capture node's own pose path, exactly as `capture_node
// import-choreography` runs it (ChoreographyImporter: person finder, crop
// network or performer tracker, fixed-lag smoother), and its frames with
// the dancer's smoothed pose become one training clip. Frames are shrunk on
// arrival to twice the model resolution on their short side (the training
// set's crop is the short side) and kept as JPEG, so a long video costs
// little memory.
//
// Failure modes: no video in DIR fails; a video the importer refuses (no
// decodable frames, a pose model that does not load, no dancer) or whose
// frames show no whole body is skipped with a line naming it and why; when
// no video gives a clip, that is an error with the last reason.
//
// Threading: the calling thread; the networks use OpenCV's threads.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "capture_node/pose/choreography_importer.h"
#include "common/core/result.h"
#include "trainer_node/train/training_set.h"

namespace booth {

struct VideoCorpusOptions {
  // The pose path: manifest, network input (0x0: auto), crop model (empty:
  // the finder alone with the tracker), finder rate. As import-choreography.
  OpenPoseConfig pose;
  std::string crop_model;
  TopDownConfig top_down;
  std::size_t max_frames_per_video = 9000;  // 5 min at 30 fps
  TrainingSetOptions training;              // resolution; nothing held out
};

struct VideoCorpus {
  std::vector<TrainingSet> clips;  // one per video used
  std::size_t videos_seen = 0;
};

// The videos of DIR, in name order.
Result<std::vector<std::filesystem::path>> listVideos(const std::filesystem::path& dir);

// One video's training clip.
Result<TrainingSet> videoTrainingSet(const std::filesystem::path& video,
                                     const VideoCorpusOptions& options);

Result<VideoCorpus> loadVideoClips(const std::filesystem::path& dir,
                                   const VideoCorpusOptions& options, std::ostream& log);

}  // namespace booth
