#include "trainer_node/pretrain/synthetic_corpus.h"

#include <cmath>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace booth {
namespace {

// Random colours: clothing anywhere on the hue circle, neither washed out
// nor black; skin along the range of the built-in performers.
cv::Scalar randomColour(std::mt19937_64& rng, double s_lo, double s_hi, double v_lo, double v_hi) {
  std::uniform_real_distribution<double> hue(0, 180), sat(s_lo, s_hi), val(v_lo, v_hi);
  cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(hue(rng), sat(rng) * 255, val(rng) * 255));
  cv::Mat bgr;
  cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
  const auto px = bgr.at<cv::Vec3b>(0, 0);
  return cv::Scalar(px[0], px[1], px[2]);
}

cv::Scalar mix(const cv::Scalar& a, const cv::Scalar& b, double t) { return a * (1 - t) + b * t; }

cv::Mat jpegRoundTrip(const cv::Mat& image, int quality) {
  if (quality <= 0) return image;
  std::vector<uchar> bytes;
  cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, quality});
  return cv::imdecode(bytes, cv::IMREAD_COLOR);
}

}  // namespace

std::vector<PerformerLook> randomPerformers(int count, std::uint64_t seed) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 17);
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  // Skin from very light to very dark (beyond the built-in tones at both
  // ends); hair from a few natural shades.
  const cv::Scalar light_skin{175, 200, 240}, dark_skin{35, 55, 85};
  const cv::Scalar hairs[] = {{20, 20, 25}, {30, 45, 75}, {40, 70, 150}, {90, 150, 200}, {120, 120, 125}};
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  std::vector<PerformerLook> looks;
  for (int i = 0; i < count; ++i) {
    PerformerLook look;
    look.name = "random-" + std::to_string(seed) + "-" + std::to_string(i);
    BodyProportions& b = look.body;
    b.height_px = static_cast<float>(uniform(330, 378));
    b.head_radius = static_cast<float>(uniform(0.062, 0.075));
    b.neck = static_cast<float>(uniform(0.09, 0.1));
    b.shoulder_width = static_cast<float>(uniform(0.21, 0.29));
    b.torso = static_cast<float>(uniform(0.28, 0.31));
    b.hip_width = static_cast<float>(uniform(0.15, 0.22));
    b.upper_arm = static_cast<float>(uniform(0.16, 0.18));
    b.forearm = static_cast<float>(uniform(0.145, 0.155));
    b.thigh = static_cast<float>(uniform(0.225, 0.265));
    b.shin = static_cast<float>(uniform(0.22, 0.26));
    b.limb_width = static_cast<float>(uniform(0.042, 0.075));  // slight to heavy
    look.skin = mix(light_skin, dark_skin, uniform(0, 1));
    look.hair = hairs[std::uniform_int_distribution<int>(0, 4)(rng)];
    look.shirt = randomColour(rng, 0.35, 1.0, 0.3, 0.95);
    look.trousers = randomColour(rng, 0.1, 0.9, 0.15, 0.8);
    look.shoes = randomColour(rng, 0.0, 0.8, 0.1, 0.95);
    Outfit& o = look.outfit;
    o.sleeves = static_cast<Sleeves>(pick(3));
    o.pattern = static_cast<Pattern>(pick(4));
    o.pattern_colour = randomColour(rng, 0.0, 1.0, 0.2, 1.0);
    o.legs = static_cast<LegWear>(pick(3));
    o.hair = static_cast<HairStyle>(pick(4));
    looks.push_back(look);
  }
  return looks;
}

SceneLook randomScene(std::uint64_t seed, cv::Size frame) {
  std::mt19937_64 rng(seed * 0xD1B54A32D192ED03ull + 29);
  auto uniform = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  SceneLook scene;
  // Nearer (1.05: the tallest look's head still clears the top edge) or
  // farther (0.7) than the booth's camera.
  scene.distance_scale = uniform(0.7, 1.05);
  scene.stage.frame = frame;
  // A higher camera sees the feet lower and more floor.
  scene.stage.floor_y = static_cast<float>(uniform(0.9, 0.95));
  scene.stage.centre_x = static_cast<float>(uniform(0.4, 0.6));
  Backdrop& b = scene.backdrop;
  b.horizon = static_cast<float>(uniform(0.6, 0.82));
  b.wall = randomColour(rng, 0.0, 0.45, 0.45, 0.95);
  b.floor = randomColour(rng, 0.0, 0.5, 0.2, 0.6);
  b.light_gain = uniform(0.7, 1.2);
  b.light_tint = cv::Scalar(uniform(0.85, 1.15), uniform(0.9, 1.1), uniform(0.85, 1.15));
  b.light_side = uniform(-0.35, 0.35);
  return scene;
}

Status validate(const SyntheticCorpusOptions& o) {
  for (const auto& name : o.performers) {
    if (!findPerformer(name)) return fail("unknown built-in performer '" + name + "'");
  }
  for (const auto& name : o.choreographies) {
    if (!findChoreography(name)) return fail("unknown built-in choreography '" + name + "'");
  }
  if (o.random_performers < 0 || o.random_performers > 1000)
    return fail("random performers must be in [0, 1000], got " + std::to_string(o.random_performers));
  if (o.performers.empty() && o.random_performers == 0) return fail("the synthetic corpus has no performer");
  if (o.choreographies.empty()) return fail("the synthetic corpus has no choreography");
  if (o.clips_per_pair < 1 || o.clips_per_pair > 1000)
    return fail("clips per pair must be in [1, 1000], got " + std::to_string(o.clips_per_pair));
  if (!(o.clip_seconds > 0 && o.clip_seconds <= 600))
    return fail("clip seconds must be in (0, 600], got " + std::to_string(o.clip_seconds));
  if (!(o.fps > 0 && o.fps <= 120)) return fail("fps must be in (0, 120], got " + std::to_string(o.fps));
  if (o.frame.width < 64 || o.frame.height < 64)
    return fail("frame size " + std::to_string(o.frame.width) + "x" + std::to_string(o.frame.height) +
                " is too small");
  if (o.jpeg_quality < 0 || o.jpeg_quality > 100)
    return fail("jpeg quality must be in [0, 100], got " + std::to_string(o.jpeg_quality));
  return okStatus();
}

Result<std::vector<TrainingSet>> buildSyntheticCorpus(
    const SyntheticCorpusOptions& o, int resolution,
    const std::function<void(std::size_t, std::size_t)>& progress,
    const std::function<bool()>& should_stop) {
  if (auto s = validate(o); !s) return fail("synthetic corpus: " + s.error());
  std::vector<PerformerLook> looks;
  for (const auto& name : o.performers) looks.push_back(*findPerformer(name));
  for (auto& look : randomPerformers(o.random_performers, o.seed)) looks.push_back(look);

  struct ClipPlan {
    const PerformerLook* look;
    ChoreographySpec dance;
    std::uint64_t seed;
    SceneLook scene;
  };
  std::vector<ClipPlan> plans;
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> vary(0.7, 1.3);
  for (const auto& look : looks) {
    for (const auto& name : o.choreographies) {
      for (int k = 0; k < o.clips_per_pair; ++k) {
        ChoreographySpec spec = *findChoreography(name);
        // The first clip of a pair is the choreography as built in; the
        // others vary its energies and tempo.
        if (k > 0) {
          spec.tempo_hz *= vary(rng);
          spec.arm_energy = static_cast<float>(spec.arm_energy * vary(rng));
          spec.leg_energy = static_cast<float>(spec.leg_energy * vary(rng));
          spec.sway = static_cast<float>(spec.sway * vary(rng));
        }
        SceneLook scene;
        scene.stage.frame = o.frame;
        const std::uint64_t clip_seed = rng();
        if (k > 0 && o.vary_scenes) scene = randomScene(clip_seed, o.frame);
        plans.push_back({&look, spec, clip_seed, scene});
      }
    }
  }

  std::vector<TrainingSet> corpus;
  corpus.reserve(plans.size());
  const auto frames = std::max(2, static_cast<int>(std::lround(o.clip_seconds * o.fps)));
  TrainingSetOptions set_options;
  set_options.resolution = resolution;
  set_options.held_out_fraction = 0;
  for (const auto& plan : plans) {
    if (should_stop && should_stop()) return fail("synthetic corpus: stopped");
    PerformerLook look = *plan.look;
    look.body.height_px = static_cast<float>(look.body.height_px * plan.scene.distance_scale);
    const Choreography dance(plan.dance, look.body, plan.scene.stage, plan.seed);
    std::vector<cv::Mat> images;
    std::vector<Pose> poses;
    images.reserve(static_cast<std::size_t>(frames));
    for (int i = 0; i < frames; ++i) {
      const Pose pose = dance.poseAt(i / o.fps);
      images.push_back(jpegRoundTrip(renderPerformer(look, pose, o.frame, plan.scene.backdrop),
                                     o.jpeg_quality));
      poses.push_back(pose);
    }
    auto set = buildTrainingSet(images, poses, set_options);
    if (!set.ok())
      return fail("synthetic corpus: clip of " + plan.look->name + " dancing " + plan.dance.name +
                  ": " + set.error());
    corpus.push_back(std::move(set).value());
    if (progress) progress(corpus.size(), plans.size());
  }
  return corpus;
}

std::vector<StoredFrame> syntheticSession(const PerformerLook& look, const ChoreographySpec& spec,
                                          std::uint64_t seed, double seconds, double fps,
                                          cv::Size frame, int jpeg_quality) {
  const Choreography dance(spec, look.body, Stage{frame}, seed);
  std::vector<StoredFrame> out;
  const auto frames = static_cast<int>(std::lround(seconds * fps));
  for (int i = 0; i < frames; ++i) {
    const Pose pose = dance.poseAt(i / fps);
    std::vector<uchar> jpeg;
    cv::imencode(".jpg", renderPerformer(look, pose, frame), jpeg,
                 {cv::IMWRITE_JPEG_QUALITY, jpeg_quality});
    StoredFrame f;
    f.sequence = static_cast<std::uint64_t>(i);
    f.capture_time_us = static_cast<std::int64_t>(std::llround(i * 1e6 / fps));
    f.encoding = FrameEncoding::kJpeg;
    f.width = frame.width;
    f.height = frame.height;
    f.data.assign(jpeg.begin(), jpeg.end());
    f.pose = pose;
    out.push_back(std::move(f));
  }
  return out;
}

Status storeSyntheticSession(SessionSink& store, const std::string& session,
                             const std::string& node, const std::string& camera,
                             const std::vector<StoredFrame>& frames) {
  for (const StoredFrame& f : frames) {
    FrameToAppend frame;
    frame.sequence = f.sequence;
    frame.capture_time_us = f.capture_time_us;
    frame.width = f.width;
    frame.height = f.height;
    frame.data = f.data;
    if (auto st = store.writeFrame(session, node, camera, frame); !st.ok())
      return fail("session " + session + ": " + st.error());
    if (!f.pose) continue;
    PoseRecord pose;
    pose.camera_id = camera;
    pose.sequence = f.sequence;
    pose.origin = PoseOrigin::kGroundTruth;
    pose.performer = *f.pose;
    if (auto st = store.writePose(session, node, pose); !st.ok())
      return fail("session " + session + ": " + st.error());
  }
  if (auto st = store.sync(); !st.ok()) return fail("session " + session + ": " + st.error());
  store.close(session);
  return okStatus();
}

}  // namespace booth
