// pose_bench: the figures of `bench/run.sh pose` (issue 8), one line each:
//   pose.pck_torso20[smoothed] = 0.93  (target >= 0.90)
//
//   pose_bench --assets DIR --manifest FILE --crop-manifest FILE [--finder-hz N]
//              [--quick] [--only SECTION] [--contact-sheet FILE.jpg]
//
// Sections: accuracy (tfjs_pose_1.mp4 against tfjs_pose_1.json, through
// top-down pose (the multi-person finder at --finder-hz, MoveNet on every
// frame) and the fixed-lag smoother, as a session; the single network for
// comparison; the smoother's tuning table), composite (a second person:
// a mirrored copy beside the performer, a different person beside the
// performer from the first frame, a bystander crossing in front of the
// performer), smoothing (the synthetic performer's exact trajectories with
// jitter and dropouts), sizes (speed per network and input, one OpenCV
// thread: the cost to one pose worker), session (15 s x 120 fps x 2
// cameras, each camera's frames in order on its own worker, JPEG decode to
// final smoothed pose).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "capture_node/pose/movenet_estimator.h"
#include "capture_node/pose/openpose_estimator.h"
#include "capture_node/pose/top_down_pose.h"
#include "capture_node/pose/performer_tracker.h"
#include "common/image/frame_image.h"
#include "common/pose/fixed_lag_smoother.h"
#include "common/pose/pose_accuracy.h"
#include "common/pose/stick_figure.h"
#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  fs::path assets;
  fs::path manifest;
  fs::path crop_manifest;
  double finder_hz = 6;
  fs::path contact_sheet;
  bool quick = false;
  std::string only;  // one section, or all
  int cv_threads = -1;  // session: -1 = the node's policy (configureOpenCvThreads)
};

struct AssetVideo {
  std::vector<cv::Mat> frames;
  std::vector<Pose> reference;
  double fps = 30;
};

// One figure line. No unit: "name = value  (target ...)".
void figure(const std::string& name, double value, int decimals, const std::string& unit,
            const std::string& target) {
  std::printf("%s = %.*f%s%s  (target %s)\n", name.c_str(), decimals, value,
              unit.empty() ? "" : " ", unit.c_str(), target.c_str());
  std::fflush(stdout);
}

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU seconds of the calling thread: the cost of work done on it, whatever
// else the machine runs (with one OpenCV thread the network runs here).
double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string sizeText(cv::Size s) { return std::to_string(s.width) + "x" + std::to_string(s.height); }

Result<AssetVideo> loadAsset(const fs::path& assets) {
  AssetVideo video;
  cv::VideoCapture capture((assets / "tfjs_pose_1.mp4").string());
  if (!capture.isOpened()) return fail("cannot open " + (assets / "tfjs_pose_1.mp4").string());
  video.fps = capture.get(cv::CAP_PROP_FPS) > 0 ? capture.get(cv::CAP_PROP_FPS) : 30;
  for (cv::Mat frame; capture.read(frame);) video.frames.push_back(frame.clone());
  auto reference = PoseAccuracy::loadReference(assets / "tfjs_pose_1.json");
  if (!reference) return fail(reference.error());
  video.reference = std::move(reference.value());
  if (video.frames.empty() || video.frames.size() != video.reference.size()) {
    return fail("tfjs_pose_1.mp4 has " + std::to_string(video.frames.size()) +
                " frames, the reference " + std::to_string(video.reference.size()));
  }
  return video;
}

Result<std::unique_ptr<OpenPoseEstimator>> makeEstimator(const Options& options, cv::Size input) {
  OpenPoseConfig config;
  config.model_path = options.manifest.string();
  config.input_width = input.width;
  config.input_height = input.height;
  return OpenPoseEstimator::create(config);
}

// The node's default input for frames of `frame` size: the manifest's
// default pixel count at the frame's aspect ratio.
Result<cv::Size> autoInput(const Options& options, cv::Size frame) {
  auto manifest = ModelManifest::load(options.manifest);
  if (!manifest) return fail(manifest.error());
  return OpenPoseEstimator::inputSizeFor(
      frame, {manifest->default_width, manifest->default_height}, manifest->size_multiple);
}

Result<std::unique_ptr<OpenPoseEstimator>> makeAutoEstimator(const Options& options, cv::Size frame) {
  auto input = autoInput(options, frame);
  if (!input) return fail(input.error());
  return makeEstimator(options, *input);
}

// One camera's path, either mode: pose -> (tracker) -> fixed-lag smoother.
struct TrackRun {
  std::vector<std::optional<Pose>> raw;
  std::vector<std::optional<Pose>> smoothed;
  std::vector<double> ms;  // pose per frame (finder and/or crop network)
  std::vector<TrackedFrame> tracked;
  std::vector<TopDownFrameInfo> info;  // top-down only
  int finder_runs = 0;
  double finder_ms = 0;    // summed over finder frames
};

std::vector<std::optional<Pose>> smoothTrack(const std::vector<std::optional<Pose>>& raw,
                                             const SmootherConfig& config) {
  std::vector<std::optional<Pose>> out(raw.size());
  FixedLagSmoother smoother(config);
  const auto keep = [&](const std::vector<FinalPose>& finals) {
    for (const FinalPose& f : finals) out[f.sequence] = f.pose;
  };
  for (std::size_t i = 0; i < raw.size(); ++i) keep(smoother.push(i, raw[i]));
  keep(smoother.flush());
  return out;
}

CapturedFrame benchFrame(std::size_t i) {
  CapturedFrame info;
  info.camera_id = "bench";
  info.sequence = i;
  return info;
}

// Single network: the estimator on every frame, then the tracker.
TrackRun runSingle(OpenPoseEstimator& estimator, const std::vector<cv::Mat>& frames, double fps,
                   cv::Rect2f zone = {}) {
  TrackRun run;
  run.raw.resize(frames.size());
  TrackerConfig tracker_config = TrackerConfig::forFrameRate(fps);
  tracker_config.zone = zone;
  PerformerTracker tracker(tracker_config, frames.front().size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto t0 = Clock::now();
    auto people = estimator.estimate(benchFrame(i), frames[i]);
    run.ms.push_back(secondsSince(t0) * 1000);
    TrackedFrame tracked = tracker.update(people ? std::move(people.value())
                                                 : std::vector<PersonDetection>{});
    if (const TrackedPerson* p = tracked.performer()) run.raw[i] = p->pose;
    run.tracked.push_back(std::move(tracked));
  }
  run.smoothed = smoothTrack(run.raw, SmootherConfig::forFrameRate(fps));
  return run;
}

// Top-down, as the node runs it per camera.
TrackRun runTopDown(const Options& options, OpenPoseEstimator& finder, MoveNetEstimator& crop,
                    const std::vector<cv::Mat>& frames, double fps, cv::Rect2f zone = {}) {
  TrackRun run;
  run.raw.resize(frames.size());
  TrackerConfig tracker_config = TrackerConfig::forFrameRate(fps);
  tracker_config.zone = zone;
  TopDownConfig config;
  config.finder_hz = options.finder_hz;
  TopDownPose stage(config, tracker_config, frames.front().size(), fps);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto t0 = Clock::now();
    auto tracked = stage.update(benchFrame(i), frames[i], finder, crop);
    const double ms = secondsSince(t0) * 1000;
    run.ms.push_back(ms);
    if (!tracked) {
      std::printf("# frame %zu: %s\n", i, tracked.error().c_str());
      tracked = stage.noPose();
    }
    if (stage.lastFrame().finder_ran) {
      ++run.finder_runs;
      run.finder_ms += ms;
    }
    if (const TrackedPerson* p = tracked->performer()) run.raw[i] = p->pose;
    run.tracked.push_back(std::move(tracked.value()));
    run.info.push_back(stage.lastFrame());
  }
  run.smoothed = smoothTrack(run.raw, SmootherConfig::forFrameRate(fps));
  return run;
}

AccuracySummary accuracyOf(const std::vector<std::optional<Pose>>& poses,
                           const std::vector<Pose>& reference) {
  PoseAccuracy accuracy;
  for (std::size_t i = 0; i < poses.size(); ++i) accuracy.add(poses[i], reference[i]);
  return accuracy.summary();
}

// The smoother's settings against the top-down raw track: how the defaults
// were chosen for the crop network's noise.
void smootherTuning(const std::vector<std::optional<Pose>>& raw, const std::vector<Pose>& reference,
                    double fps) {
  std::printf("# smoother tuning on the top-down raw track (%.0f fps): filter, half-window s, "
              "outlier fraction -> PCK@0.2 torso, mean px, jitter px/frame^2\n", fps);
  for (auto filter : {SmootherConfig::Filter::kMedian, SmootherConfig::Filter::kSavitzkyGolay}) {
    for (double half : {0.067, 0.1, 0.133, 0.2}) {
      for (float outlier : {0.1f, 0.3f}) {
        SmootherConfig c = SmootherConfig::forFrameRate(fps);
        c.filter = filter;
        c.half_window = std::max(1, static_cast<int>(std::lround(half * fps)));
        c.outlier_fraction = outlier;
        const auto smoothed = smoothTrack(raw, c);
        const AccuracySummary a = accuracyOf(smoothed, reference);
        std::printf("#   %s %.3f %.1f -> %.3f %.2f %.2f\n",
                    filter == SmootherConfig::Filter::kMedian ? "median" : "savgol", half, outlier,
                    a.pck_torso20, a.mean_px_error, PoseAccuracy::jitter(smoothed));
      }
    }
  }
}

const char* kFlatters =
    "; the reference was made by MoveNet in tfjs, so this flatters MoveNet";

Status benchAccuracy(const Options& options, const AssetVideo& video) {
  auto finder = makeAutoEstimator(options, video.frames.front().size());
  if (!finder) return fail(finder.error());
  auto crop = MoveNetEstimator::create({options.crop_manifest.string()});
  if (!crop) return fail(crop.error());
  const TrackRun run = runTopDown(options, **finder, **crop, video.frames, video.fps);
  std::printf("# accuracy: %zu frames of tfjs_pose_1.mp4, top-down: finder at network input %s "
              "%d times (%.0f Hz asked), MoveNet on every frame\n",
              video.frames.size(), sizeText((*finder)->inputSize()).c_str(), run.finder_runs,
              options.finder_hz);
  for (const auto& [label, poses] : {std::pair{"raw", &run.raw}, std::pair{"smoothed", &run.smoothed}}) {
    const AccuracySummary s = accuracyOf(*poses, video.reference);
    const std::string p = std::string("[") + label + "]";
    const bool smoothed = std::string(label) == "smoothed";
    figure("pose.pck_torso20" + p, s.pck_torso20, 3, "", smoothed ? std::string(">= 0.95") + kFlatters : "report");
    figure("pose.pck_30px" + p, s.pck_30px, 3, "", smoothed ? std::string(">= 0.98") + kFlatters : "report");
    figure("pose.mean_px_error" + p, s.mean_px_error, 1, "px", smoothed ? std::string("<= 8") + kFlatters : "report");
    figure("pose.same_limb_rate" + p, s.same_limb_rate, 3, "", "<= 0.05");
    figure("pose.missed_joints" + p, s.missed, 0, "", "report (of " + std::to_string(s.joints) + ")");
  }
  figure("pose.jitter_px_per_frame2[raw]", PoseAccuracy::jitter(run.raw), 2, "px/frame^2", "report");
  figure("pose.jitter_px_per_frame2[smoothed]", PoseAccuracy::jitter(run.smoothed), 2,
         "px/frame^2", "<= 1.0");
  figure("pose.jitter_px_per_frame2[reference]",
         PoseAccuracy::jitter(std::vector<std::optional<Pose>>(video.reference.begin(),
                                                               video.reference.end())),
         2, "px/frame^2", "report (tfjs smoothed its own output)");
  smootherTuning(run.raw, video.reference, video.fps);
  if (!options.quick) {
    // The single network on the same frames, for comparison.
    const TrackRun single = runSingle(**finder, video.frames, video.fps);
    const AccuracySummary s = accuracyOf(single.smoothed, video.reference);
    figure("pose.pck_torso20[smoothed,mode=single]", s.pck_torso20, 3, "", "report (top-down above)");
    figure("pose.mean_px_error[smoothed,mode=single]", s.mean_px_error, 1, "px", "report");
  }
  return okStatus();
}

// --- composites: a second person in the frame ---

struct Composite {
  std::string name;
  std::string what;
  std::vector<cv::Mat> frames;
  std::vector<std::array<Pose, 2>> people;  // [performer, other] reference
  cv::Rect2f zone;                          // the performer's floor mark
};

// The other person's clothes: the colour channels permuted (B, G, R) -> (R, B, G).
cv::Mat recoloured(const cv::Mat& bgr) {
  cv::Mat out;
  const int from_to[] = {0, 1, 1, 2, 2, 0};
  out.create(bgr.size(), bgr.type());
  cv::mixChannels(&bgr, 1, &out, 1, from_to, 3);
  return out;
}

Pose mirrored(const Pose& pose, int width) {
  Pose out = pose;
  for (Keypoint& k : out.points) k.x = 2.f * static_cast<float>(width) - 1.f - k.x;
  return out;
}

// Frame t on the left, frame t + 2 s mirrored on the right (issue 8's).
Composite mirroredBeside(const AssetVideo& video) {
  Composite c{"mirrored", "a mirrored copy 2 s later beside the performer", {}, {}, {0.f, 0.25f, 0.5f, 0.75f}};
  const int n = static_cast<int>(video.frames.size());
  const int shift = static_cast<int>(std::lround(2 * video.fps)) % n;
  const int width = video.frames.front().cols;
  for (int t = 0; t < n; ++t) {
    cv::Mat right;
    cv::flip(video.frames[(t + shift) % n], right, 1);
    cv::Mat both;
    cv::hconcat(video.frames[t], right, both);
    c.frames.push_back(both);
    c.people.push_back({video.reference[t], mirrored(video.reference[(t + shift) % n], width)});
  }
  return c;
}

// A different person of the same height beside the performer from the first
// frame: the clip played backwards (other movements) in other clothes.
Composite differentBeside(const AssetVideo& video) {
  Composite c{"beside", "a different person (the clip backwards, recoloured) beside the performer from frame 0",
              {}, {}, {0.f, 0.25f, 0.5f, 0.75f}};
  const int n = static_cast<int>(video.frames.size());
  const float width = static_cast<float>(video.frames.front().cols);
  for (int t = 0; t < n; ++t) {
    cv::Mat both;
    cv::hconcat(video.frames[t], recoloured(video.frames[n - 1 - t]), both);
    c.frames.push_back(both);
    c.people.push_back({video.reference[t], transformPose(video.reference[n - 1 - t], 1.f, width, 0.f)});
  }
  return c;
}

// Where a person is in a frame: their limbs drawn thick, the head a disc.
cv::Mat personMask(cv::Size size, const Pose& pose) {
  cv::Mat mask(size, CV_8U, cv::Scalar(0));
  const cv::Rect2f box = PerformerTracker::boxOf(pose);
  const int limb = std::max(6, static_cast<int>(0.09f * std::max(box.width, box.height)));
  for (const Limb& l : coco17Limbs()) {
    const Keypoint& a = pose[l.a];
    const Keypoint& b = pose[l.b];
    if (isUsable(a) && isUsable(b)) cv::line(mask, {int(a.x), int(a.y)}, {int(b.x), int(b.y)}, 255, limb);
  }
  // The trunk: the shoulders and hips as one filled polygon.
  std::vector<cv::Point> trunk;
  for (Coco17 j : {Coco17::kLeftShoulder, Coco17::kRightShoulder, Coco17::kRightHip, Coco17::kLeftHip}) {
    if (isUsable(pose[j])) trunk.emplace_back(int(pose[j].x), int(pose[j].y));
  }
  if (trunk.size() == 4) cv::fillConvexPoly(mask, trunk, 255);
  const Keypoint& nose = pose[Coco17::kNose];
  if (isUsable(nose)) cv::circle(mask, {int(nose.x), int(nose.y)}, limb, 255, cv::FILLED);
  cv::dilate(mask, mask, cv::getStructuringElement(cv::MORPH_ELLIPSE, {limb / 2 * 2 + 1, limb / 2 * 2 + 1}));
  return mask;
}

// A bystander walking across in front of the performer: the performer in
// the middle of a frame twice as wide, a recoloured person (the clip 40
// frames later) pasted over it (their silhouette from their keypoints),
// sliding from left to right and covering the performer mid-clip.
Composite crossingInFront(const AssetVideo& video) {
  Composite c{"crossing", "a recoloured bystander crossing in front of the performer, mid-clip",
              {}, {}, {0.25f, 0.25f, 0.5f, 0.75f}};
  const int n = static_cast<int>(video.frames.size());
  const cv::Size clip = video.frames.front().size();
  const cv::Size canvas_size(2 * clip.width, clip.height);
  const float centre = static_cast<float>(clip.width) / 2.f;
  for (int t = 0; t < n; ++t) {
    cv::Mat canvas(canvas_size, CV_8UC3, cv::Scalar::all(0));
    cv::Mat performer_bg;
    cv::copyMakeBorder(video.frames[t], performer_bg, 0, 0, static_cast<int>(centre),
                       canvas_size.width - clip.width - static_cast<int>(centre), cv::BORDER_REPLICATE);
    performer_bg.copyTo(canvas);
    const int b = (t + 40) % n;
    const float ox = -1.4f * static_cast<float>(clip.width) / 2.f +
                     static_cast<float>(t) * (2.f * static_cast<float>(canvas_size.width) / 1.4f) / static_cast<float>(n);
    const Pose other = transformPose(video.reference[b], 1.f, ox, 0.f);
    const cv::Mat shift = (cv::Mat_<double>(2, 3) << 1, 0, ox, 0, 1, 0);
    cv::Mat bystander;
    cv::warpAffine(recoloured(video.frames[b]), bystander, shift, canvas_size);
    bystander.copyTo(canvas, personMask(canvas_size, other));
    c.frames.push_back(canvas);
    c.people.push_back({transformPose(video.reference[t], 1.f, centre, 0.f), other});
  }
  return c;
}

// Share of the final (or raw) performer joints that lie on the other
// person: nearer that person's same joint than the performer's.
struct WrongPerson {
  int joints = 0;
  int wrong = 0;
  int frames_with = 0;
  double rate() const { return joints ? static_cast<double>(wrong) / joints : 1.0; }
};

WrongPerson wrongPerson(const std::vector<std::optional<Pose>>& poses, const Composite& c) {
  WrongPerson w;
  for (std::size_t t = 0; t < poses.size(); ++t) {
    if (!poses[t]) continue;
    ++w.frames_with;
    for (int j = 0; j < kCoco17Count; ++j) {
      const Keypoint& k = poses[t]->points[j];
      const Keypoint& mine = c.people[t][0].points[j];
      const Keypoint& theirs = c.people[t][1].points[j];
      if (!isUsable(k) || !isUsable(mine)) continue;
      ++w.joints;
      if (isUsable(theirs) && std::hypot(k.x - theirs.x, k.y - theirs.y) < std::hypot(k.x - mine.x, k.y - mine.y)) {
        ++w.wrong;
        if (std::getenv("POSE_BENCH_DEBUG")) {
          std::printf("# wrong: %s t=%zu joint %d at (%.0f,%.0f), performer's (%.0f,%.0f), other's (%.0f,%.0f)\n",
                      c.name.c_str(), t, j, k.x, k.y, mine.x, mine.y, theirs.x, theirs.y);
        }
      }
    }
  }
  return w;
}

// Six frames of the crossing with the crop (yellow), the zone (green) and
// the performer's final keypoints drawn.
void writeContactSheet(const fs::path& path, const Composite& c, const TrackRun& run) {
  std::vector<cv::Mat> tiles;
  const int n = static_cast<int>(c.frames.size());
  for (int k = 0; k < 6; ++k) {
    const int t = std::min(n - 1, 36 + k * 5);  // before, during and after the crossing
    cv::Mat tile = c.frames[t].clone();
    const cv::Rect2f z(c.zone.x * tile.cols, c.zone.y * tile.rows, c.zone.width * tile.cols, c.zone.height * tile.rows);
    cv::rectangle(tile, z, cv::Scalar(0, 200, 0), 2);
    if (!run.info[t].crop.empty()) cv::rectangle(tile, run.info[t].crop, cv::Scalar(0, 220, 255), 3);
    if (run.smoothed[t]) drawStickFigure(tile, *run.smoothed[t]);
    cv::putText(tile, "t=" + std::to_string(t) + (run.info[t].finder_ran ? " finder" : ""), {10, 40},
                cv::FONT_HERSHEY_SIMPLEX, 1.2, cv::Scalar(255, 255, 255), 2);
    cv::resize(tile, tile, {}, 0.5, 0.5, cv::INTER_AREA);
    tiles.push_back(tile);
  }
  cv::Mat top, bottom, sheet;
  cv::hconcat(std::vector<cv::Mat>(tiles.begin(), tiles.begin() + 3), top);
  cv::hconcat(std::vector<cv::Mat>(tiles.begin() + 3, tiles.end()), bottom);
  cv::vconcat(top, bottom, sheet);
  cv::imwrite(path.string(), sheet);  // .jpg or .png by the name
  std::printf("# contact sheet of the crossing composite: %s\n", path.string().c_str());
}

Status benchComposite(const Options& options, const AssetVideo& video) {
  auto crop = MoveNetEstimator::create({options.crop_manifest.string()});
  if (!crop) return fail(crop.error());
  for (const Composite& c : {mirroredBeside(video), differentBeside(video), crossingInFront(video)}) {
    auto finder = makeAutoEstimator(options, c.frames.front().size());
    if (!finder) return fail(finder.error());
    const TrackRun run = runTopDown(options, **finder, **crop, c.frames, video.fps, c.zone);
    if (std::getenv("POSE_BENCH_DEBUG")) {
      for (std::size_t t = 0; t < run.tracked.size(); ++t) {
        std::printf("# %s t=%zu performer=%d finder=%d near=%d occluded=%d crop=(%.0f,%.0f %.0f) people:",
                    c.name.c_str(), t, run.tracked[t].performer_track, run.info[t].finder_ran ? 1 : 0,
                    run.info[t].near ? 1 : 0, run.info[t].occluded ? 1 : 0, run.info[t].crop.x,
                    run.info[t].crop.y, run.info[t].crop.width);
        for (const auto& p : run.tracked[t].people) {
          const cv::Rect2f b = PerformerTracker::boxOf(p.pose);
          std::printf(" [id %d box %.0f,%.0f %.0fx%.0f joints %d score %.2f]", p.track_id, b.x, b.y,
                      b.width, b.height, p.pose.validCount(), p.score);
        }
        std::printf("\n");
      }
    }
    const WrongPerson raw = wrongPerson(run.raw, c);
    const WrongPerson smoothed = wrongPerson(run.smoothed, c);
    figure("pose.wrong_person_rate[composite=" + c.name + "]", smoothed.rate(), 3, "", "<= 0.01");
    figure("pose.wrong_person_rate[raw,composite=" + c.name + "]", raw.rate(), 3, "", "report");
    std::printf("# composite %s (%s; finder input %s, %d finder runs): performer in %d of %zu "
                "frames; %d of %d final performer joints on the other person\n",
                c.name.c_str(), c.what.c_str(), sizeText((*finder)->inputSize()).c_str(),
                run.finder_runs, smoothed.frames_with, c.frames.size(), smoothed.wrong, smoothed.joints);
    if (c.name == "crossing") {
      std::printf("# crossing: smoother min_confidence -> wrong-person rate, performer joints kept\n");
      for (float min_conf : {0.1f, 0.2f, 0.3f, 0.4f}) {
        SmootherConfig sc = SmootherConfig::forFrameRate(video.fps);
        sc.min_confidence = min_conf;
        const WrongPerson w = wrongPerson(smoothTrack(run.raw, sc), c);
        std::printf("#   %.1f -> %.3f, %d\n", min_conf, w.rate(), w.joints);
      }
      if (!options.contact_sheet.empty()) writeContactSheet(options.contact_sheet, c, run);
    }
  }
  return okStatus();
}

// The synthetic performer's exact trajectories at 120 fps, with Gaussian
// jitter on every coordinate and dropouts: single joints (runs of 1 ..
// max_gap frames) and whole frames (runs of 1 .. max_gap / 2). With
// `every` > 1 the network only ran on every n-th frame (PoseSampler): the
// frames in between reach the smoother as frames without pose.
struct SmoothingResult {
  double raw_rms = 0;       // observed points, raw
  double smoothed_rms = 0;  // the same points, smoothed
  double all_rms = 0;       // every frame's points the smoother output, against the truth
  double imputed_rms = 0;   // points in dropout gaps up to max_gap
  long gap_points = 0;
  long unfilled = 0;
  int lag = 0;
};

SmoothingResult smoothSynthetic(double seconds, int every) {
  const double fps = 120;
  const float jitter_px = 3.f;
  const SmootherConfig config = SmootherConfig::forFrameRate(fps);
  std::mt19937 rng(8);
  std::normal_distribution<float> noise(0.f, jitter_px);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::uniform_int_distribution<int> run_length(1, config.max_gap);
  double raw_sq = 0;
  double smooth_sq = 0;
  double all_sq = 0;
  double imputed_sq = 0;
  long compared = 0;
  long all = 0;
  long imputed = 0;
  SmoothingResult r;
  r.lag = FixedLagSmoother(config).lag();
  const auto& looks = builtinPerformers();
  int index = 0;
  const auto sq = [](const Keypoint& a, const Keypoint& b) {
    return std::pow(a.x - b.x, 2) + std::pow(a.y - b.y, 2);
  };
  for (const ChoreographySpec& spec : builtinChoreographies()) {
    const PerformerLook& look = looks[index % looks.size()];
    const Choreography choreography(spec, look.body, Stage{}, static_cast<std::uint64_t>(index));
    ++index;
    const int n = static_cast<int>(seconds * fps);
    std::vector<Pose> truth(n);
    std::vector<std::optional<Pose>> raw(n);
    for (int t = 0; t < n; ++t) {
      truth[t] = choreography.poseAt(t / fps);
      Pose p = truth[t];
      for (Keypoint& k : p.points) {
        k.x += noise(rng);
        k.y += noise(rng);
        k.confidence = 0.8f;
      }
      raw[t] = p;
    }
    // Dropouts, each run followed by at least one observed frame.
    std::vector<std::array<bool, kCoco17Count>> dropped(n, std::array<bool, kCoco17Count>{});
    for (int j = 0; j < kCoco17Count; ++j) {
      for (int t = 1; t < n - 1; ++t) {
        if (unit(rng) >= 0.01f) continue;
        const int len = std::min(run_length(rng), n - 1 - t);
        for (int k = t; k < t + len; ++k) {
          dropped[k][j] = true;
          raw[k]->points[j].confidence = unit(rng) < 0.5f ? 0.f : 0.05f;  // gone, or too unsure
        }
        t += len;
      }
    }
    for (int t = 1; t < n - 1; ++t) {
      if (unit(rng) >= 0.003f) continue;
      const int len = std::min(std::max(1, run_length(rng) / 2), n - 1 - t);
      for (int k = t; k < t + len; ++k) {
        raw[k].reset();
        dropped[k].fill(true);
      }
      t += len;
    }
    FixedLagSmoother smoother(config);
    std::vector<std::optional<Pose>> out(n);
    for (int t = 0; t < n; ++t) {
      const bool posed = t % every == 0;
      for (FinalPose& f : smoother.push(static_cast<std::uint64_t>(t), posed ? raw[t] : std::nullopt)) {
        out[f.sequence] = f.pose;
      }
    }
    for (FinalPose& f : smoother.flush()) out[f.sequence] = f.pose;

    for (int j = 0; j < kCoco17Count; ++j) {
      int run_start = -1;
      for (int t = 0; t < n; ++t) {
        const Keypoint& tk = truth[t].points[j];
        const bool smooth_ok = out[t] && isUsable(out[t]->points[j]);
        if (smooth_ok) {
          all_sq += sq(out[t]->points[j], tk);
          ++all;
        }
        if (every > 1) continue;  // the per-point comparisons below are for every frame posed
        if (!dropped[t][j]) {
          const Keypoint& rk = raw[t]->points[j];
          raw_sq += sq(rk, tk);
          smooth_sq += smooth_ok ? sq(out[t]->points[j], tk) : sq(rk, tk);  // missing: no better than raw
          ++compared;
          if (run_start >= 0) {  // a run of dropouts just ended with an observed point
            if (run_start > 0 && t - run_start <= config.max_gap) {
              for (int k = run_start; k < t; ++k) {
                ++r.gap_points;
                if (!(out[k] && isUsable(out[k]->points[j]))) {
                  ++r.unfilled;
                  continue;
                }
                imputed_sq += sq(out[k]->points[j], truth[k].points[j]);
                ++imputed;
              }
            }
            run_start = -1;
          }
        } else if (run_start < 0) {
          run_start = t;
        }
      }
    }
  }
  r.raw_rms = std::sqrt(raw_sq / std::max(1L, compared));
  r.smoothed_rms = std::sqrt(smooth_sq / std::max(1L, compared));
  r.all_rms = std::sqrt(all_sq / std::max(1L, all));
  r.imputed_rms = std::sqrt(imputed_sq / std::max(1L, imputed));
  return r;
}

Status benchSmoothing(const Options& options) {
  const double seconds = options.quick ? 5 : 15;
  const SmoothingResult r = smoothSynthetic(seconds, 1);
  std::printf("# smoothing: the 4 built-in choreographies, %.0f s each at 120 fps, 3 px jitter, "
              "dropouts; fixed lag %d frames\n", seconds, r.lag);
  figure("pose.smoothing_error_reduction_pct", 100.0 * (1.0 - r.smoothed_rms / r.raw_rms), 1, "%",
         ">= 50");
  figure("pose.smoothing_rms_px[raw]", r.raw_rms, 2, "px", "report");
  figure("pose.smoothing_rms_px[smoothed]", r.smoothed_rms, 2, "px", "report");
  const int max_gap = SmootherConfig::forFrameRate(120).max_gap;
  figure("pose.imputed_rms_px[gaps<=" + std::to_string(max_gap) + "]", r.imputed_rms, 2, "px",
         "report");
  figure("pose.unfilled_gap_points[gaps<=" + std::to_string(max_gap) + "]",
         static_cast<double>(r.unfilled), 0, "", "0 (of " + std::to_string(r.gap_points) + ")");
  // The network on every 2nd frame only (PoseSampler at 60 poses/s): the
  // error of every frame's final keypoints, posed or interpolated.
  figure("pose.smoothing_rms_px[smoothed,every=1]", r.all_rms, 2, "px", "report");
  figure("pose.smoothing_rms_px[smoothed,every=2]", smoothSynthetic(seconds, 2).all_rms, 2, "px",
         "report (vs every=1)");
  return okStatus();
}


Status benchSizes(const Options& options, const AssetVideo& video) {
  cv::setNumThreads(1);  // one pose worker's cost
  // MoveNet on crops placed as top-down pose places them (from the
  // previous frame's keypoints).
  auto crop = MoveNetEstimator::create({options.crop_manifest.string()});
  if (!crop) return fail(crop.error());
  std::vector<double> ms;
  std::vector<double> cpu_ms;
  std::optional<Pose> previous;
  for (const cv::Mat& frame : video.frames) {
    cv::Rect2f square;
    if (previous) square = MoveNetEstimator::cropFromKeypoints(*previous, frame.size());
    if (square.empty()) square = cv::Rect2f(0, 0, static_cast<float>(frame.cols), static_cast<float>(frame.cols));
    const auto t0 = Clock::now();
    const double c0 = threadCpuSeconds();
    auto pose = (*crop)->estimate(frame, square);
    cpu_ms.push_back((threadCpuSeconds() - c0) * 1000);
    ms.push_back(secondsSince(t0) * 1000);
    if (pose) previous = *pose;
  }
  figure("pose.ms_per_frame[model=movenet]", median(ms), 1, "ms", "<= 20 (one thread; wall clock)");
  figure("pose.cpu_ms_per_frame[model=movenet]", median(cpu_ms), 1, "ms",
         "report (the thread's CPU time: the cost without other jobs on the cores)");
  std::vector<cv::Size> sizes = {{424, 320}, {368, 368}, {320, 320}, {256, 256}};
  if (options.quick) sizes = {{424, 320}};
  for (cv::Size size : sizes) {
    auto estimator = makeEstimator(options, size);
    if (!estimator) return fail(estimator.error());
    const double c0 = threadCpuSeconds();
    const TrackRun run = runSingle(**estimator, video.frames, video.fps);
    const double cpu = (threadCpuSeconds() - c0) * 1000 / static_cast<double>(video.frames.size());
    figure("pose.ms_per_frame[model=finder,input=" + sizeText(size) + "]", median(run.ms), 1, "ms",
           "report (runs at the finder's rate; wall clock)");
    figure("pose.cpu_ms_per_frame[model=finder,input=" + sizeText(size) + "]", cpu, 1, "ms",
           "report (mean thread CPU time, tracker included)");
  }
  return okStatus();
}

// 15 s x 120 fps x 2 cameras of 640x480 JPEG (the asset's frames, resized,
// looped), top-down as the node runs it: each camera's frames in order on
// its own worker (decode, finder at --finder-hz and when unsure, MoveNet on
// every frame, tracker), then the fixed-lag smoother. Seconds from the
// first frame to the last final pose.
Status benchSession(const Options& options, const AssetVideo& video) {
  const int cameras = 2;
  const double fps = 120;
  const double seconds = options.quick ? 2 : 15;
  const int threads = options.cv_threads >= 0
                          ? (cv::setNumThreads(options.cv_threads), cv::getNumThreads())
                          : OpenPoseEstimator::configureOpenCvThreads(cameras);
  const cv::Size camera(640, 480);
  std::vector<std::string> jpegs;
  for (const cv::Mat& frame : video.frames) {
    cv::Mat resized;
    cv::resize(frame, resized, camera, 0, 0, cv::INTER_AREA);
    std::vector<uchar> bytes;
    cv::imencode(".jpg", resized, bytes, {cv::IMWRITE_JPEG_QUALITY, 90});
    jpegs.emplace_back(bytes.begin(), bytes.end());
  }
  auto input = autoInput(options, camera);
  if (!input) return fail(input.error());
  std::vector<std::unique_ptr<OpenPoseEstimator>> finders;
  std::vector<std::unique_ptr<MoveNetEstimator>> crops;
  for (int w = 0; w < cameras; ++w) {
    auto f = makeEstimator(options, *input);
    if (!f) return fail(f.error());
    finders.push_back(std::move(f.value()));
    auto c = MoveNetEstimator::create({options.crop_manifest.string()});
    if (!c) return fail(c.error());
    crops.push_back(std::move(c.value()));
  }
  const int per_camera = static_cast<int>(seconds * fps);
  std::vector<long> final_poses(cameras, 0);
  std::vector<int> finder_runs(cameras, 0);
  std::vector<double> finder_s(cameras, 0), busy_s(cameras, 0), cpu_s(cameras, 0);
  std::atomic<int> failures{0};
  const auto t0 = Clock::now();
  {
    std::vector<std::jthread> pool;
    for (int cam = 0; cam < cameras; ++cam) {
      pool.emplace_back([&, cam] {
        const double c0 = threadCpuSeconds();
        TopDownConfig config;
        config.finder_hz = options.finder_hz;
        TrackerConfig tracker = TrackerConfig::forFrameRate(fps);
        tracker.zone = cv::Rect2f(0.25f, 0.25f, 0.5f, 0.75f);  // the node's default
        TopDownPose stage(config, tracker, camera, fps);
        FixedLagSmoother smoother(SmootherConfig::forFrameRate(fps));
        for (int index = 0; index < per_camera; ++index) {
          const auto f0 = Clock::now();
          // The clip at 120 fps: each 30 fps frame shown 4 times (a slow
          // walk), so the crops see the motion a 120 fps camera would.
          const std::string& jpeg = jpegs[(index / 4 + 60 * cam) % jpegs.size()];
          CapturedFrame info = benchFrame(static_cast<std::size_t>(index));
          const cv::Mat image = decodeFrameImage(FrameEncoding::kJpeg, camera.width, camera.height, jpeg);
          auto tracked = stage.update(info, image, *finders[cam], *crops[cam]);
          if (!tracked) {
            ++failures;
            tracked = stage.noPose();
          }
          const double s = secondsSince(f0);
          busy_s[cam] += s;
          if (stage.lastFrame().finder_ran) {
            ++finder_runs[cam];
            finder_s[cam] += s;
          }
          std::optional<Pose> performer;
          if (const TrackedPerson* p = tracked->performer()) performer = p->pose;
          for (const FinalPose& f : smoother.push(static_cast<std::uint64_t>(index), performer)) {
            final_poses[cam] += f.pose ? 1 : 0;
          }
        }
        for (const FinalPose& f : smoother.flush()) final_poses[cam] += f.pose ? 1 : 0;
        cpu_s[cam] = threadCpuSeconds() - c0;
      });
    }
  }
  const double elapsed = secondsSince(t0);
  const int total = per_camera * cameras;
  figure("pose.session_seconds[every=1]", elapsed, 1, "s",
         "<= " + std::to_string(static_cast<int>(std::lround(45 * seconds / 15))));
  figure("pose.session_cpu_seconds[every=1]", std::max(cpu_s[0], cpu_s[1]), 1, "s",
         "report (the busier worker's CPU time: the session's length on 2 free cores)");
  const int runs = finder_runs[0] + finder_runs[1];
  const double busy = busy_s[0] + busy_s[1];
  const double finder = finder_s[0] + finder_s[1];
  figure("pose.finder_hz[per_camera]", runs / (2.0 * seconds), 1, "Hz",
         "report (asked " + std::to_string(static_cast<int>(options.finder_hz)) + ", more while unsure)");
  figure("pose.finder_cpu_share", busy > 0 ? finder / busy : 0, 2, "", "report (of the pose workers' time)");
  std::printf("# session top-down: %.0f s x 120 fps x 2 cameras = %d frames of 640x480 JPEG, one "
              "worker per camera, finder input %s, OpenCV threads %d: %.1f frames/s; finder ran on "
              "%d frames; %ld + %ld final performer poses, %d pose errors\n",
              seconds, total, sizeText(*input).c_str(), threads, total / elapsed, runs,
              final_poses[0], final_poses[1], failures.load());
  std::fflush(stdout);
  return okStatus();
}

Result<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--assets") {
      o.assets = value();
    } else if (a == "--manifest") {
      o.manifest = value();
    } else if (a == "--crop-manifest") {
      o.crop_manifest = value();
    } else if (a == "--finder-hz") {
      o.finder_hz = std::atof(value().c_str());
    } else if (a == "--contact-sheet") {
      o.contact_sheet = value();
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--only") {
      o.only = value();
    } else if (a == "--cv-threads") {
      o.cv_threads = std::atoi(value().c_str());
    } else {
      return fail("unknown argument '" + a + "'");
    }
  }
  if (o.assets.empty() || o.manifest.empty() || o.crop_manifest.empty()) {
    return fail("--assets DIR, --manifest FILE and --crop-manifest FILE are needed");
  }
  return o;
}

int run(int argc, char** argv) {
  auto options = parse(argc, argv);
  if (!options) {
    std::cerr << "pose_bench: error: " << options.error() << "\n";
    return 2;
  }
  const Options& o = *options;
  const auto wanted = [&](const char* section) { return o.only.empty() || o.only == section; };
  auto video = loadAsset(o.assets);
  if (!video) {
    std::cerr << "pose_bench: error: " << video.error() << "\n";
    return 2;
  }
  const auto check = [](const Status& st) {
    if (st.ok()) return true;
    std::cerr << "pose_bench: error: " << st.error() << "\n";
    return false;
  };
  cv::setNumThreads(1);
  if (wanted("accuracy") && !check(benchAccuracy(o, *video))) return 1;
  if (wanted("composite") && !check(benchComposite(o, *video))) return 1;
  if (wanted("smoothing") && !check(benchSmoothing(o))) return 1;
  if (wanted("sizes") && !check(benchSizes(o, *video))) return 1;
  if (wanted("session") && !check(benchSession(o, *video))) return 1;
  return 0;
}

}  // namespace
}  // namespace booth

int main(int argc, char** argv) { return booth::run(argc, argv); }
