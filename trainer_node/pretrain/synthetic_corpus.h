#pragma once
// The built-in synthetic corpus of the booth's base model: synthetic
// performers (the built-in ones and randomly generated looks) dancing the
// built-in choreographies (with randomized energies and tempos), recorded
// as the booth records a visitor: frames at the capture node's size and
// rate, JPEG-compressed as the capture node sends them, with exact poses.
// Deterministic: one options struct, one corpus. libtorch-free.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "common/core/result.h"
#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "trainer_node/store/session_store.h"
#include "trainer_node/store/stored_frame.h"
#include "trainer_node/train/training_set.h"

namespace booth {

// `count` looks with random clothing colours and cuts (sleeve length,
// plain or patterned shirt, trousers, shorts or a skirt), skin from very
// light to very dark, hair colour and style, and body shapes from slight
// to heavy (within a range that keeps every choreography in the frame),
// named "random-<seed>-<i>". Deterministic per seed.
std::vector<PerformerLook> randomPerformers(int count, std::uint64_t seed);

// How a clip is filmed: the camera's distance (the performer drawn
// smaller or larger), its height (where the floor line and the feet fall in
// the frame), the light and the backdrop's colours.
struct SceneLook {
  double distance_scale = 1.0;  // drawn height / the look's own
  Stage stage;                  // frame size, feet position
  Backdrop backdrop;
};
// A random scene for a `frame`-sized camera; deterministic per seed.
SceneLook randomScene(std::uint64_t seed, cv::Size frame);

struct SyntheticCorpusOptions {
  std::vector<std::string> performers;      // built-in performer names
  int random_performers = 0;                // plus this many random looks
  std::vector<std::string> choreographies;  // built-in choreography names
  // Clips per (performer, choreography): each with its own phases and its
  // energies and tempo scaled by a random factor in [0.7, 1.3].
  int clips_per_pair = 1;
  double clip_seconds = 5;
  double fps = 30;
  cv::Size frame{640, 480};
  int jpeg_quality = 90;  // as the capture node's synthetic camera; 0 = no JPEG round trip
  std::uint64_t seed = 1;
  // Every clip of a pair but the first is filmed in a random scene
  // (randomScene); false: all in the booth's own scene, as before.
  bool vary_scenes = true;
};

// Checks names and ranges; the message names the offending value.
Status validate(const SyntheticCorpusOptions& options);

// One clip per entry; each is a TrainingSet at `resolution` with no
// held-out frames. `progress(done, total)` after each clip; `should_stop`
// is polled per clip.
Result<std::vector<TrainingSet>> buildSyntheticCorpus(
    const SyntheticCorpusOptions& options, int resolution,
    const std::function<void(std::size_t, std::size_t)>& progress = nullptr,
    const std::function<bool()>& should_stop = nullptr);

// A session as the booth's synthetic camera records it: `seconds` of
// `look` dancing `dance`, JPEG frames with ground-truth poses.
std::vector<StoredFrame> syntheticSession(const PerformerLook& look, const ChoreographySpec& dance,
                                          std::uint64_t seed, double seconds, double fps,
                                          cv::Size frame, int jpeg_quality);

// Stores `frames` (with their poses as ground truth) as one camera of a
// session, the way the ingest stores a received session: frames, pose
// records, synced, the session closed. For tests, benches and demos that
// need a session without capture nodes.
Status storeSyntheticSession(SessionSink& store, const std::string& session,
                             const std::string& node, const std::string& camera,
                             const std::vector<StoredFrame>& frames);

}  // namespace booth
