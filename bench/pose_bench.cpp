// pose_bench: the figures of `bench/run.sh pose` (issue 8), one line each:
//   pose.pck_torso20[smoothed] = 0.93  (target >= 0.90)
//
//   pose_bench --assets DIR --manifest FILE [--quick] [--only SECTION]
//
// Sections: accuracy (tfjs_pose_1.mp4 against tfjs_pose_1.json, through the
// estimator, the performer tracker and the fixed-lag smoother, as a
// session), composite (a second person beside the performer: the frame
// beside a mirrored copy of itself shifted by 2 s), smoothing (the synthetic
// performer's exact trajectories with jitter and dropouts), sizes (speed
// and accuracy per network input size, one OpenCV thread: the cost to one
// pose worker), session (15 s x 120 fps x 2 cameras through 2 pose workers,
// JPEG decode to final smoothed pose).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
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

#include "capture_node/pose/openpose_estimator.h"
#include "capture_node/pose/performer_tracker.h"
#include "common/image/frame_image.h"
#include "common/pose/fixed_lag_smoother.h"
#include "common/pose/pose_accuracy.h"
#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"

namespace booth {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  fs::path assets;
  fs::path manifest;
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

// The booth's per-camera path: estimator -> tracker -> fixed-lag smoother.
struct TrackRun {
  std::vector<std::optional<Pose>> raw;
  std::vector<std::optional<Pose>> smoothed;
  std::vector<double> ms;  // estimate() per frame
  std::vector<TrackedFrame> tracked;
};

TrackRun runTrack(OpenPoseEstimator& estimator, const std::vector<cv::Mat>& frames, double fps) {
  TrackRun run;
  run.raw.resize(frames.size());
  run.smoothed.resize(frames.size());
  PerformerTracker tracker(TrackerConfig{}, frames.front().size());
  FixedLagSmoother smoother(SmootherConfig::forFrameRate(fps));
  const auto keep = [&](const std::vector<FinalPose>& finals) {
    for (const FinalPose& f : finals) run.smoothed[f.sequence] = f.pose;
  };
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CapturedFrame info;
    info.camera_id = "bench";
    info.sequence = i;
    const auto t0 = Clock::now();
    auto people = estimator.estimate(info, frames[i]);
    run.ms.push_back(secondsSince(t0) * 1000);
    TrackedFrame tracked = tracker.update(people ? std::move(people.value())
                                                 : std::vector<PersonDetection>{});
    if (const TrackedPerson* p = tracked.performer()) run.raw[i] = p->pose;
    run.tracked.push_back(std::move(tracked));
    keep(smoother.push(i, run.raw[i]));
  }
  keep(smoother.flush());
  return run;
}

AccuracySummary accuracyOf(const std::vector<std::optional<Pose>>& poses,
                           const std::vector<Pose>& reference) {
  PoseAccuracy accuracy;
  for (std::size_t i = 0; i < poses.size(); ++i) accuracy.add(poses[i], reference[i]);
  return accuracy.summary();
}

Status benchAccuracy(const Options& options, const AssetVideo& video) {
  auto estimator = makeEstimator(options, {0, 0});
  if (!estimator) return fail(estimator.error());
  const TrackRun run = runTrack(**estimator, video.frames, video.fps);
  const std::string input = "input=" + sizeText((*estimator)->inputSize());
  for (const auto& [label, poses] : {std::pair{"raw", &run.raw}, std::pair{"smoothed", &run.smoothed}}) {
    const AccuracySummary s = accuracyOf(*poses, video.reference);
    const std::string p = std::string("[") + label + "," + input + "]";
    figure("pose.pck_torso20" + p, s.pck_torso20, 3, "", ">= 0.90");
    figure("pose.pck_30px" + p, s.pck_30px, 3, "", ">= 0.90");
    figure("pose.mean_px_error" + p, s.mean_px_error, 1, "px", "report");
    figure("pose.same_limb_rate" + p, s.same_limb_rate, 3, "", "<= 0.05");
    figure("pose.missed_joints" + p, s.missed, 0, "", "report (of " + std::to_string(s.joints) + ")");
  }
  figure("pose.jitter_px_per_frame2[raw]", PoseAccuracy::jitter(run.raw), 2, "px/frame^2", "report");
  figure("pose.jitter_px_per_frame2[smoothed]", PoseAccuracy::jitter(run.smoothed), 2,
         "px/frame^2", "< raw");
  figure("pose.jitter_px_per_frame2[reference]",
         PoseAccuracy::jitter(std::vector<std::optional<Pose>>(video.reference.begin(),
                                                               video.reference.end())),
         2, "px/frame^2", "report");
  return okStatus();
}

// The composite: frame t on the left, frame t + shift mirrored on the right.
Pose mirrored(const Pose& pose, int width) {
  Pose out = pose;
  for (Keypoint& k : out.points) k.x = 2.f * static_cast<float>(width) - 1.f - k.x;
  return out;
}

float nearestJoint(const Keypoint& k, const Pose& person) {
  float best = INFINITY;
  for (const Keypoint& r : person.points) {
    if (isUsable(r)) best = std::min(best, std::hypot(k.x - r.x, k.y - r.y));
  }
  return best;
}

Status benchComposite(const Options& options, const AssetVideo& video) {
  const int n = static_cast<int>(video.frames.size());
  const int shift = static_cast<int>(std::lround(2 * video.fps)) % n;
  const int width = video.frames.front().cols;
  std::vector<cv::Mat> frames;
  std::vector<std::array<Pose, 2>> people;  // [left, right] reference
  for (int t = 0; t < n; ++t) {
    cv::Mat right;
    cv::flip(video.frames[(t + shift) % n], right, 1);
    cv::Mat both;
    cv::hconcat(video.frames[t], right, both);
    frames.push_back(both);
    people.push_back({video.reference[t], mirrored(video.reference[(t + shift) % n], width)});
  }
  // The same pixel budget as the default input, at the composite's aspect.
  auto probe = makeEstimator(options, {0, 0});
  if (!probe) return fail(probe.error());
  const cv::Size input = OpenPoseEstimator::inputSizeFor(
      frames.front().size(), (*probe)->inputSize(), (*probe)->manifest().size_multiple);
  probe.value().reset();
  auto estimator = makeEstimator(options, input);
  if (!estimator) return fail(estimator.error());
  const TrackRun run = runTrack(**estimator, frames, video.fps);

  int two_people_frames = 0;
  for (const TrackedFrame& f : run.tracked) two_people_frames += f.people.size() >= 2 ? 1 : 0;
  for (const auto& [label, poses] : {std::pair{"raw", &run.raw}, std::pair{"smoothed", &run.smoothed}}) {
    // Who is the performer? The person most of the first performer frame's
    // joints lie on; from then on a joint on the other person is wrong.
    int side = -1;
    int joints = 0;
    int wrong = 0;
    int frames_with = 0;
    for (int t = 0; t < n; ++t) {
      const auto& pose = (*poses)[t];
      if (!pose) continue;
      ++frames_with;
      if (side < 0) {
        int left = 0;
        int right = 0;
        for (const Keypoint& k : pose->points) {
          if (!isUsable(k)) continue;
          (nearestJoint(k, people[t][0]) <= nearestJoint(k, people[t][1]) ? left : right)++;
        }
        side = left >= right ? 0 : 1;
      }
      for (const Keypoint& k : pose->points) {
        if (!isUsable(k)) continue;
        ++joints;
        if (nearestJoint(k, people[t][1 - side]) < nearestJoint(k, people[t][side])) ++wrong;
      }
    }
    const std::string p = std::string("[") + label + ",input=" + sizeText(input) + "]";
    figure("pose.wrong_person_rate" + p, joints ? static_cast<double>(wrong) / joints : 1.0, 3, "",
           "<= 0.02");
    std::printf("# composite %s: performer = %s person, in %d of %d frames; %d frames with both people found\n",
                label, side == 0 ? "left" : "right", frames_with, n, two_people_frames);
  }
  return okStatus();
}

// The synthetic performer's exact trajectories at 120 fps, with Gaussian
// jitter on every coordinate and dropouts: single joints (runs of 1 ..
// max_gap frames) and whole frames (runs of 1 .. max_gap / 2).
Status benchSmoothing(const Options& options) {
  const double fps = 120;
  const double seconds = options.quick ? 5 : 15;
  const float jitter_px = 3.f;
  const SmootherConfig config = SmootherConfig::forFrameRate(fps);
  std::mt19937 rng(8);
  std::normal_distribution<float> noise(0.f, jitter_px);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::uniform_int_distribution<int> run_length(1, config.max_gap);
  double raw_sq = 0;
  double smooth_sq = 0;
  double imputed_sq = 0;
  long compared = 0;
  long imputed = 0;
  long gap_points = 0;
  long unfilled = 0;
  const auto& looks = builtinPerformers();
  int index = 0;
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
      for (FinalPose& f : smoother.push(static_cast<std::uint64_t>(t), raw[t])) out[f.sequence] = f.pose;
    }
    for (FinalPose& f : smoother.flush()) out[f.sequence] = f.pose;

    for (int j = 0; j < kCoco17Count; ++j) {
      int run_start = -1;
      for (int t = 0; t < n; ++t) {
        const Keypoint& tk = truth[t].points[j];
        const bool smooth_ok = out[t] && isUsable(out[t]->points[j]);
        if (!dropped[t][j]) {
          const Keypoint& rk = raw[t]->points[j];
          raw_sq += std::pow(rk.x - tk.x, 2) + std::pow(rk.y - tk.y, 2);
          if (smooth_ok) {
            const Keypoint& sk = out[t]->points[j];
            smooth_sq += std::pow(sk.x - tk.x, 2) + std::pow(sk.y - tk.y, 2);
          } else {
            smooth_sq += std::pow(rk.x - tk.x, 2) + std::pow(rk.y - tk.y, 2);  // no worse than raw
          }
          ++compared;
          if (run_start >= 0) {  // a run of dropouts just ended with an observed point
            const int len = t - run_start;
            if (run_start > 0 && len <= config.max_gap) {
              for (int k = run_start; k < t; ++k) {
                ++gap_points;
                if (!(out[k] && isUsable(out[k]->points[j]))) {
                  ++unfilled;
                  continue;
                }
                const Keypoint& sk = out[k]->points[j];
                const Keypoint& truth_k = truth[k].points[j];
                imputed_sq += std::pow(sk.x - truth_k.x, 2) + std::pow(sk.y - truth_k.y, 2);
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
  const double raw_rms = std::sqrt(raw_sq / std::max(1L, compared));
  const double smooth_rms = std::sqrt(smooth_sq / std::max(1L, compared));
  const std::string p = "[fps=120,jitter=3px,lag=" + std::to_string(config.half_window + config.max_gap) + "]";
  figure("pose.smoothing_error_reduction_pct" + p, 100.0 * (1.0 - smooth_rms / raw_rms), 1, "%",
         ">= 50");
  figure("pose.smoothing_rms_px[raw]", raw_rms, 2, "px", "report");
  figure("pose.smoothing_rms_px[smoothed]", smooth_rms, 2, "px", "report");
  figure("pose.imputed_rms_px[gaps<=" + std::to_string(config.max_gap) + "]",
         std::sqrt(imputed_sq / std::max(1L, imputed)), 2, "px", "report");
  figure("pose.unfilled_gap_points[gaps<=" + std::to_string(config.max_gap) + "]",
         static_cast<double>(unfilled), 0, "", "0 (of " + std::to_string(gap_points) + ")");
  return okStatus();
}

Status benchSizes(const Options& options, const AssetVideo& video) {
  cv::setNumThreads(1);  // one pose worker's cost
  std::vector<cv::Size> sizes = {{432, 368}, {368, 368}, {320, 320}, {288, 288}, {256, 256}};
  if (options.quick) sizes = {{368, 368}, {256, 256}};
  for (cv::Size size : sizes) {
    auto estimator = makeEstimator(options, size);
    if (!estimator) return fail(estimator.error());
    const TrackRun run = runTrack(**estimator, video.frames, video.fps);
    const std::string p = "[input=" + sizeText(size) + "]";
    figure("pose.ms_per_frame" + p, median(run.ms), 1, "ms", "<= 33 (60 frames/s on 2 workers)");
    figure("pose.pck_torso20[raw,input=" + sizeText(size) + "]",
           accuracyOf(run.raw, video.reference).pck_torso20, 3, "", "report");
  }
  return okStatus();
}

// 15 s x 120 fps x 2 cameras of 640x480 JPEG (the asset's frames, resized),
// through 2 pose workers (own estimator each, frames handed out in capture
// order), then per camera in order the tracker and the fixed-lag smoother.
Status benchSession(const Options& options, const AssetVideo& video) {
  const int cameras = 2;
  const int workers = 2;
  const double fps = 120;
  const double seconds = options.quick ? 2 : 15;
  const int threads = options.cv_threads >= 0
                          ? (cv::setNumThreads(options.cv_threads), cv::getNumThreads())
                          : OpenPoseEstimator::configureOpenCvThreads(workers);
  const cv::Size camera(640, 480);
  std::vector<std::string> jpegs;
  for (const cv::Mat& frame : video.frames) {
    cv::Mat resized;
    cv::resize(frame, resized, camera, 0, 0, cv::INTER_AREA);
    std::vector<uchar> bytes;
    cv::imencode(".jpg", resized, bytes, {cv::IMWRITE_JPEG_QUALITY, 90});
    jpegs.emplace_back(bytes.begin(), bytes.end());
  }
  auto probe = makeEstimator(options, {0, 0});
  if (!probe) return fail(probe.error());
  const cv::Size input = OpenPoseEstimator::inputSizeFor(camera, (*probe)->inputSize(),
                                                         (*probe)->manifest().size_multiple);
  probe.value().reset();
  std::vector<std::unique_ptr<OpenPoseEstimator>> estimators;
  for (int w = 0; w < workers; ++w) {
    auto e = makeEstimator(options, input);
    if (!e) return fail(e.error());
    estimators.push_back(std::move(e.value()));
  }
  const int per_camera = static_cast<int>(seconds * fps);
  const int total = per_camera * cameras;
  std::vector<std::vector<PersonDetection>> results(total);
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  const auto t0 = Clock::now();
  {
    std::vector<std::jthread> pool;
    for (int w = 0; w < workers; ++w) {
      pool.emplace_back([&, w] {
        for (int k = next++; k < total; k = next++) {
          const int cam = k % cameras;
          const int index = k / cameras;
          const std::string& jpeg = jpegs[(index + 60 * cam) % jpegs.size()];
          CapturedFrame info;
          info.camera_id = "cam" + std::to_string(cam);
          info.sequence = static_cast<std::uint64_t>(index);
          const cv::Mat image =
              decodeFrameImage(FrameEncoding::kJpeg, camera.width, camera.height, jpeg);
          auto people = estimators[w]->estimate(info, image);
          if (!people) {
            ++failures;
            continue;
          }
          results[k] = std::move(people.value());
        }
      });
    }
  }
  long final_poses = 0;
  for (int cam = 0; cam < cameras; ++cam) {
    PerformerTracker tracker(TrackerConfig{}, camera);
    FixedLagSmoother smoother(SmootherConfig::forFrameRate(fps));
    for (int index = 0; index < per_camera; ++index) {
      const TrackedFrame tracked = tracker.update(std::move(results[index * cameras + cam]));
      std::optional<Pose> performer;
      if (const TrackedPerson* p = tracked.performer()) performer = p->pose;
      for (const FinalPose& f : smoother.push(static_cast<std::uint64_t>(index), performer)) {
        final_poses += f.pose ? 1 : 0;
      }
    }
    for (const FinalPose& f : smoother.flush()) final_poses += f.pose ? 1 : 0;
  }
  const double elapsed = secondsSince(t0);
  const std::string p = "[seconds=" + std::to_string(static_cast<int>(seconds)) +
                        ",fps=120,cameras=2,workers=2,input=" + sizeText(input) +
                        ",cv_threads=" + std::to_string(threads) + "]";
  figure("pose.session_seconds" + p, elapsed, 1, "s",
         "<= " + std::to_string(static_cast<int>(std::lround(60 * seconds / 15))));
  figure("pose.session_frames_per_second" + p, total / elapsed, 1, "frames/s", ">= 60");
  std::printf("# session: %d frames, %ld with a final performer pose, %d estimation errors\n",
              total, final_poses, failures.load());
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
  if (o.assets.empty() || o.manifest.empty()) return fail("--assets DIR and --manifest FILE are needed");
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
