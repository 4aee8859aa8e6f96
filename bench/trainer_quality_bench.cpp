// trainer_quality_bench: how well the trainer learns a visitor within a
// budget, against exact ground truth (bench/README.md, "trainer-quality").
//
// Synthetic mode: a 15 s session of a performer (JPEG frames and poses, as
// the booth records it) -> the training set the job runner builds ->
// fine-tuning from the base checkpoint (--base; cold without) for --budget
// seconds with the job runner's schedule -> the reference choreography
// mapped onto the visitor, drawn frame by frame as a clip -> each frame
// compared with the synthetic performer's exact rendering of the visitor
// in the same pose, at model resolution. Scores: SSIM and PSNR over the
// whole frame, the body box, the face box and the person pixels.
//
// Real mode (--real-video): fine-tune on the first frames of a real video
// with reference keypoints and reconstruct the last ones from their poses
// (body-box SSIM).
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "common/pose/stick_figure.h"
#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "trainer_node/pretrain/synthetic_corpus.h"
#include "trainer_node/render/clip_renderer.h"
#include "trainer_node/train/cpu_runtime.h"
#include "trainer_node/train/face_box.h"
#include "trainer_node/train/image_quality.h"
#include "trainer_node/train/pose_coverage.h"
#include "trainer_node/train/pose_to_image_model.h"
#include "trainer_node/train/training_set.h"
#include "trainer_node/train/warp_references.h"

namespace {

using namespace booth;
namespace po = boost::program_options;

struct Options {
  ModelConfig model;
  TrainConfig train;
  std::string base;  // empty: cold start
  std::string pose_base;  // a warp model started from a pose generator's base
  int threads = 0;
  std::string visitor = "ada";
  std::string session_choreography = "warmup";
  double session_seconds = 15;
  std::uint64_t session_seed = 11;
  RenderConfig render;
  std::string save_png;
  bool calibration = false;
  std::string real_video;
  std::string real_keypoints;
  int real_train_frames = 90;
  int real_test_frames = 30;
};

std::string fmt(double v, int decimals) {
  if (!std::isfinite(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void figure(const std::string& name, const std::string& params, double value, int decimals,
            const std::string& unit, const std::string& target) {
  std::cout << name << "[" << params << "] = " << fmt(value, decimals) << (unit.empty() ? "" : " ")
            << unit << "  (" << target << ")" << std::endl;
}

Result<std::unique_ptr<PoseToImageModel>> trainedModel(const Options& o, const TrainingSet& set) {
  auto created = PoseToImageModel::create(o.model, "cpu");
  if (!created.ok()) return fail(created.error());
  auto model = std::move(created).value();
  if (!o.base.empty()) {
    if (auto s = model->loadWeights(o.base); !s) return fail(s.error());
  } else if (!o.pose_base.empty()) {
    if (auto s = model->loadWeightsFromPoseBase(o.pose_base); !s) return fail(s.error());
  }
  TrainHooks hooks;
  hooks.progress_seconds = 10;
  hooks.progress = [](const TrainProgress& p) {
    std::cerr << "# " << p.phase << " generator steps " << p.generator_steps << " face-GAN steps "
              << p.face_steps << " " << fmt(p.elapsed_seconds, 0) << "/"
              << fmt(p.budget_seconds, 0) << " s  G " << fmt(p.loss_g, 3) << " D " << fmt(p.loss_d, 3)
              << " L1 " << fmt(p.loss_l1, 4) << " best held-out L1 " << fmt(p.best_heldout_l1, 4)
              << "\n";
  };
  const TrainClip clip = set.trainClip();
  const TrainClip held = set.heldOutClip();
  auto result = model->train(std::span<const TrainClip>(&clip, 1),
                             set.heldOutCount() > 0 ? &held : nullptr, o.train, hooks);
  if (!result.ok()) return fail(result.error());
  // As the job runner: the warp generator renders from the whole session.
  if (o.model.generator == GeneratorKind::kWarp) {
    if (auto s = model->setReferences(set.frames, set.poses); !s) return fail(s.error());
  }
  std::cout << "# trained " << fmt(result->seconds, 1) << " s: " << result->generator_steps
            << " generator steps (" << fmt(result->last.generator_steps_per_second, 2) << "/s), "
            << result->face_steps << " face-GAN steps ("
            << fmt(result->last.face_steps_per_second, 1) << "/s), best held-out L1 "
            << fmt(result->last.best_heldout_l1, 4) << ", " << set.trainClip().frames.size()
            << " training + " << set.heldOutCount() << " held-out frames, face box "
            << set.face_side << " px" << std::endl;
  return model;
}

// Frames (model resolution) of the visitor in the mapped clip poses:
// rendered at the booth's frame size and cropped as the session was.
cv::Mat truthFrame(const PerformerLook& look, const Pose& model_pose, const TrainingSet& set) {
  const cv::Mat full =
      renderPerformer(look, set.crop.toSource(model_pose), cv::Size(set.source_width, set.source_height));
  cv::Mat out;
  cv::resize(full(cv::Rect(set.crop.x, set.crop.y, set.crop.side, set.crop.side)), out,
             cv::Size(set.resolution, set.resolution), 0, 0, cv::INTER_AREA);
  return out;
}

struct Totals {
  double n = 0;
  FrameScores sum;
  void add(const FrameScores& s) {
    auto acc = [](RegionScore& a, const RegionScore& b) {
      a.ssim += b.ssim;
      a.psnr += b.psnr;
    };
    acc(sum.whole, s.whole);
    acc(sum.body, s.body);
    acc(sum.face, s.face);
    acc(sum.person, s.person);
    n += 1;
  }
  RegionScore mean(const RegionScore& r) const { return {r.ssim / n, r.psnr / n}; }
};

// A running mean that passes over NaN (a region absent from a frame).
struct Mean {
  double sum = 0;
  int n = 0;
  void add(double v) {
    if (std::isnan(v)) return;
    sum += v;
    ++n;
  }
  double value() const { return n > 0 ? sum / n : std::nan(""); }
};

// The scores kept per class of pose (seen, unseen).
struct PoseClass {
  int frames = 0;
  Mean body, person, arms;
};

std::string generatorParam(const Options& o) {
  std::string out;
  if (o.model.generator != GeneratorKind::kPose)
    out += std::string(",generator=") + generatorKindName(o.model.generator);
  if (o.train.lambda_l2sp > 0) out += ",l2sp=" + fmt(o.train.lambda_l2sp, 4);
  if (o.train.d_learning_rate_scale != TrainConfig{}.d_learning_rate_scale)
    out += ",d_lr_scale=" + fmt(o.train.d_learning_rate_scale, 3);
  if (o.train.instance_noise > 0) out += ",instance_noise=" + fmt(o.train.instance_noise, 3);
  return out;
}

void saveStrip(const std::string& path, const std::vector<std::vector<cv::Mat>>& rows) {
  std::vector<cv::Mat> lines;
  for (const auto& r : rows) {
    cv::Mat line;
    cv::hconcat(r, line);
    cv::resize(line, line, cv::Size(), 2, 2, cv::INTER_NEAREST);
    lines.push_back(line);
  }
  cv::Mat strip;
  cv::vconcat(lines, strip);
  cv::imwrite(path, strip);
}

int runSynthetic(const Options& o) {
  const PerformerLook* look = findPerformer(o.visitor);
  const ChoreographySpec* session_dance = findChoreography(o.session_choreography);
  if (!look || !session_dance) {
    std::cerr << "trainer_quality_bench: error: unknown --visitor '" << o.visitor
              << "' or --session-choreography '" << o.session_choreography << "'\n";
    return 2;
  }
  if (o.render.choreography == o.session_choreography) {
    std::cerr << "trainer_quality_bench: error: --render-choreography '" << o.render.choreography
              << "' is the one the visitor danced; the yardstick scores moves the visitor did "
                 "not make\n";
    return 2;
  }
  const cv::Size frame(640, 480);
  const auto session = syntheticSession(*look, *session_dance, o.session_seed, o.session_seconds,
                                        30, frame, 90);
  TrainingSetOptions set_options;
  set_options.resolution = o.model.resolution;
  auto set = buildTrainingSet(session, set_options);
  if (!set.ok()) {
    std::cerr << "trainer_quality_bench: error: " << set.error() << "\n";
    return 1;
  }
  auto model = trainedModel(o, set.value());
  if (!model.ok()) {
    std::cerr << "trainer_quality_bench: error: " << model.error() << "\n";
    return 1;
  }
  auto poses = clipPoses(o.render, set->floor);
  if (!poses.ok()) {
    std::cerr << "trainer_quality_bench: error: " << poses.error() << "\n";
    return 1;
  }
  const int res = o.model.resolution;
  cv::Mat backdrop;
  cv::resize(renderPerformer(*look, Pose{}, frame)(cv::Rect(set->crop.x, set->crop.y, set->crop.side,
                                                            set->crop.side)),
             backdrop, cv::Size(res, res), 0, 0, cv::INTER_AREA);
  // Seen or unseen: each clip pose's distance to the nearest pose the model
  // trained on (bench/README.md).
  const std::span<const Pose> trained_poses(set->poses.data(), set->held_out_begin);
  // Arm pixels: a band along upper arm and forearm, a sixteenth of the
  // frame wide, within the person.
  const int arm_band = std::max(3, res / 16);
  Totals generated, empty;
  PoseClass seen, unseen;
  Mean flicker_mean;
  FrameScores first_frame;
  cv::Mat previous_out, previous_truth;
  std::vector<std::vector<cv::Mat>> strip;
  // The warp generator's input, shown beside its frames in the strip.
  std::optional<ReferencePool> references;
  if (o.model.generator == GeneratorKind::kWarp) {
    auto pool = ReferencePool::create(set->frames, set->poses);
    if (pool.ok()) references = std::move(pool).value();
  }
  const std::size_t n = poses->mapped.size();
  (*model)->startSequence();
  for (std::size_t i = 0; i < n; ++i) {
    const Pose& pose = poses->mapped[i];
    const cv::Mat stick = renderStickFigure(pose, cv::Size(res, res));
    const auto box = faceBox(pose, set->face_side, cv::Size(res, res));
    auto out = (*model)->nextFrame(stick, pose, o.render.face_gan ? box : std::nullopt);
    if (!out.ok()) {
      std::cerr << "trainer_quality_bench: error: " << out.error() << "\n";
      return 1;
    }
    const cv::Mat truth = truthFrame(*look, pose, set.value());
    const FrameScores scores = scoreFrame(out.value(), truth, backdrop, box);
    generated.add(scores);
    empty.add(scoreFrame(backdrop, truth, backdrop, box));
    if (i == 0) first_frame = scores;
    const cv::Mat person = personMask(truth, backdrop);
    PoseClass& c = nearestPoseDistance(pose, trained_poses) > kUnseenPoseDegrees ? unseen : seen;
    ++c.frames;
    c.body.add(scores.body.ssim);
    c.person.add(scores.person.ssim);
    c.arms.add(meanOver(ssimMap(out.value(), truth), armMask(pose, cv::Size(res, res), arm_band) & person));
    if (i > 0)
      flicker_mean.add(flicker(previous_out, out.value(), previous_truth, truth,
                               person | personMask(previous_truth, backdrop)));
    previous_out = out.value();
    previous_truth = truth;
    if (!o.save_png.empty() && (i == 0 || i == n / 3 || i == (2 * n) / 3)) {
      strip.push_back({stick, out.value(), truth});
      if (references) {
        const auto chosen = references->choose(pose, std::nullopt);
        if (chosen) strip.back().push_back(references->warp(*chosen, pose).image);
      }
    }
  }
  // Frame 0 as it was drawn before it was primed (from zeros in one pass).
  FrameScores unprimed_first;
  if (n > 0) {
    const Pose& pose = poses->mapped[0];
    const auto box = faceBox(pose, set->face_side, cv::Size(res, res));
    (*model)->startSequence(/*prime_first_frame=*/false);
    auto out = (*model)->nextFrame(renderStickFigure(pose, cv::Size(res, res)), pose,
                                   o.render.face_gan ? box : std::nullopt);
    if (!out.ok()) {
      std::cerr << "trainer_quality_bench: error: " << out.error() << "\n";
      return 1;
    }
    unprimed_first = scoreFrame(out.value(), truthFrame(*look, pose, set.value()), backdrop, box);
  }
  if (!o.save_png.empty()) saveStrip(o.save_png, strip);

  const bool warm = !o.base.empty() || !o.pose_base.empty();
  const int budget = static_cast<int>(std::lround(o.train.budget_seconds));
  // The old generator's figures keep their names; others say which they
  // are. A run of a fixed step count (--iterations) is named by it.
  const std::string p = "res=" + std::to_string(res) +
                        (o.train.max_iterations > 0 ? ",iterations=" + std::to_string(o.train.max_iterations)
                                                    : ",budget=" + std::to_string(budget)) +
                        ",warm=" + (!o.pose_base.empty() ? "pose" : warm ? "1" : "0") + generatorParam(o);
  const bool timed = o.train.max_iterations == 0;
  const bool headline = timed && res == 128 && warm && budget == 300;
  const bool quick = timed && res == 128 && warm && budget == 60;
  const std::string none = "no target";
  figure("trainer.ssim_body", p, generated.mean(generated.sum.body).ssim, 3, "",
         headline ? "target >= 0.90" : quick ? "target >= 0.87 (quick)" : none);
  figure("trainer.ssim_face", p, generated.mean(generated.sum.face).ssim, 3, "",
         headline ? "target >= 0.80" : none);
  figure("trainer.ssim_person", p, generated.mean(generated.sum.person).ssim, 3, "",
         headline ? "target >= 0.80" : none);
  figure("trainer.ssim_whole", p, generated.mean(generated.sum.whole).ssim, 3, "", none);
  figure("trainer.psnr_body", p, generated.mean(generated.sum.body).psnr, 2, "dB", none);
  figure("trainer.psnr_face", p, generated.mean(generated.sum.face).psnr, 2, "dB", none);
  figure("trainer.psnr_person", p, generated.mean(generated.sum.person).psnr, 2, "dB", none);
  figure("trainer.psnr_whole", p, generated.mean(generated.sum.whole).psnr, 2, "dB", none);
  for (const auto& [name, c] : {std::pair<const char*, const PoseClass&>{"unseen", unseen},
                                 std::pair<const char*, const PoseClass&>{"seen", seen}}) {
    const bool u = std::string(name) == "unseen";
    const std::string q = p + ",poses=" + name;
    const std::string frames = std::to_string(c.frames) + " frames";
    figure("trainer.ssim_body", q, c.body.value(), 3, "",
           (headline && u ? "target >= 0.88; " : "no target; ") + frames);
    figure("trainer.ssim_person", q, c.person.value(), 3, "", "no target; " + frames);
    figure("trainer.ssim_arms", q, c.arms.value(), 3, "",
           (headline && u ? "target >= 0.70; " : "no target; ") + frames + " (SSIM over arm pixels)");
  }
  figure("trainer.unseen_pct", p, n > 0 ? 100.0 * unseen.frames / static_cast<double>(n) : std::nan(""),
         1, "%", "no target; clip frames whose nearest training pose is more than " +
                     fmt(kUnseenPoseDegrees, 0) + " degrees away on some body limb");
  const double mean_whole = generated.mean(generated.sum.whole).ssim;
  figure("trainer.ssim_whole", p + ",frame=0", first_frame.whole.ssim, 3, "",
         "target within 0.02 of the clip's mean " + fmt(mean_whole, 3));
  figure("trainer.psnr_whole", p + ",frame=0", first_frame.whole.psnr, 2, "dB",
         "no target; clip mean " + fmt(generated.mean(generated.sum.whole).psnr, 2) + " dB");
  figure("trainer.ssim_whole", p + ",frame=0,primed=0", unprimed_first.whole.ssim, 3, "",
         "no target; frame 0 drawn from zeros in one pass, as before");
  figure("trainer.psnr_whole", p + ",frame=0,primed=0", unprimed_first.whole.psnr, 2, "dB",
         "no target; frame 0 drawn from zeros in one pass, as before");
  figure("trainer.flicker", p, flicker_mean.value(), 2, "",
         "lower is steadier (0: as steady as the truth); mean |generated change - true change| "
         "over the person pixels of consecutive frames, 8-bit units");
  if (o.calibration) {
    const std::string c = "res=" + std::to_string(res);
    const std::string cal = "calibration: the empty backdrop scored like a frame";
    figure("trainer.ssim_body_backdrop", c, empty.mean(empty.sum.body).ssim, 3, "", cal);
    figure("trainer.ssim_face_backdrop", c, empty.mean(empty.sum.face).ssim, 3, "", cal);
    figure("trainer.ssim_person_backdrop", c, empty.mean(empty.sum.person).ssim, 3, "", cal);
    figure("trainer.ssim_whole_backdrop", c, empty.mean(empty.sum.whole).ssim, 3, "", cal);
    figure("trainer.psnr_body_backdrop", c, empty.mean(empty.sum.body).psnr, 2, "dB", cal);
  }
  std::cout << "# " << n << " frames of '" << o.render.choreography << "' (reference "
            << o.render.reference_performer << ") drawn for " << o.visitor << ", trained on "
            << o.session_seconds << " s of '" << o.session_choreography << "'"
            << (warm ? ", warm start from " + (o.base.empty() ? o.pose_base : o.base) : ", cold start")
            << std::endl;
  return 0;
}

// tfjs-models' test video: 17 named COCO keypoints per frame in pixels.
Result<std::vector<Pose>> readTfjsKeypoints(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail("cannot read " + path);
  const auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_array()) return fail(path + " is not a JSON list of frames");
  std::vector<Pose> poses;
  for (const auto& frame : json) {
    Pose pose;
    for (int j = 0; j < kCoco17Count; ++j) {
      const std::string name(coco17Name(j));
      if (!frame.contains(name)) return fail(path + ": a frame lacks '" + name + "'");
      Keypoint& k = pose.points[static_cast<std::size_t>(j)];
      k.x = frame[name].value("x", 0.f);
      k.y = frame[name].value("y", 0.f);
      k.confidence = 1.f;
    }
    poses.push_back(pose);
  }
  return poses;
}

int runReal(const Options& o) {
  auto poses = readTfjsKeypoints(o.real_keypoints);
  if (!poses.ok()) {
    std::cerr << "trainer_quality_bench: error: " << poses.error() << "\n";
    return 1;
  }
  cv::VideoCapture video(o.real_video);
  std::vector<cv::Mat> images;
  for (cv::Mat f; video.read(f);) images.push_back(f.clone());
  const auto total = static_cast<std::size_t>(o.real_train_frames + o.real_test_frames);
  if (images.size() < total || poses->size() < total) {
    std::cerr << "trainer_quality_bench: error: " << o.real_video << " has " << images.size()
              << " frames and " << poses->size() << " poses, need " << total << "\n";
    return 1;
  }
  TrainingSetOptions set_options;
  set_options.resolution = o.model.resolution;
  std::vector<cv::Mat> train_images(images.begin(), images.begin() + o.real_train_frames);
  std::vector<Pose> train_poses(poses->begin(), poses->begin() + o.real_train_frames);
  auto set = buildTrainingSet(train_images, train_poses, set_options);
  if (!set.ok()) {
    std::cerr << "trainer_quality_bench: error: " << set.error() << "\n";
    return 1;
  }
  auto model = trainedModel(o, set.value());
  if (!model.ok()) {
    std::cerr << "trainer_quality_bench: error: " << model.error() << "\n";
    return 1;
  }
  const int res = o.model.resolution;
  double sum = 0;
  std::vector<std::vector<cv::Mat>> strip;
  (*model)->startSequence();
  for (int i = 0; i < o.real_test_frames; ++i) {
    const auto k = static_cast<std::size_t>(o.real_train_frames + i);
    const Pose pose = set->crop.toModel((*poses)[k]);
    const cv::Mat stick = renderStickFigure(pose, cv::Size(res, res));
    const auto box = faceBox(pose, set->face_side, cv::Size(res, res));
    auto out = (*model)->nextFrame(stick, pose, o.render.face_gan ? box : std::nullopt);
    if (!out.ok()) {
      std::cerr << "trainer_quality_bench: error: " << out.error() << "\n";
      return 1;
    }
    cv::Mat truth;
    cv::resize(images[k](cv::Rect(set->crop.x, set->crop.y, set->crop.side, set->crop.side)), truth,
               cv::Size(res, res), 0, 0, cv::INTER_AREA);
    // The body box: the keypoints' bounding box grown by a tenth of the
    // person's height (the real person has no backdrop to subtract).
    std::vector<cv::Point2f> points;
    for (const auto& kp : pose.points) points.emplace_back(kp.x, kp.y);
    cv::Rect body = cv::boundingRect(points);
    const int grow = std::max(2, body.height / 10);
    body = cv::Rect(body.x - grow, body.y - grow, body.width + 2 * grow, body.height + 2 * grow) &
           cv::Rect(0, 0, res, res);
    cv::Mat mask(res, res, CV_8U, cv::Scalar(0));
    mask(body).setTo(255);
    sum += meanOver(ssimMap(out.value(), truth), mask);
    if (!o.save_png.empty() && (i == 0 || i == o.real_test_frames / 2 || i == o.real_test_frames - 1))
      strip.push_back({stick, out.value(), truth});
  }
  if (!o.save_png.empty()) saveStrip(o.save_png, strip);
  figure("trainer.ssim_body_real", "res=" + std::to_string(res) + generatorParam(o), sum / o.real_test_frames, 3, "",
         "no target; fine-tuned " + std::to_string(static_cast<int>(o.train.budget_seconds)) + " s " +
             (o.base.empty() ? "cold" : "warm") + " on frames 0-" +
             std::to_string(o.real_train_frames - 1) + ", scored on the next " +
             std::to_string(o.real_test_frames));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string precision = "fp32";
  std::string generator = "pose";
  po::options_description desc("trainer_quality_bench (see bench/README.md)");
  // clang-format off
  desc.add_options()
    ("help", "this help")
    ("base", po::value(&o.base), "base checkpoint to fine-tune from (warm start); cold without")
    ("base-from-pose", po::value(&o.pose_base), "with --generator warp: start from this pose generator's base, the warp input channels at zero (warm=pose in the figures)")
    ("budget", po::value(&o.train.budget_seconds)->default_value(60), "fine-tuning seconds")
    ("iterations", po::value(&o.train.max_iterations)->default_value(0), "stop after this many steps of both kinds (0: by --budget only); with a large --budget, runs compare at equal step counts on a busy machine")
    ("threads", po::value(&o.threads)->default_value(0), "libtorch threads (0 = every CPU)")
    ("generator", po::value(&generator)->default_value(generator), "pose | warp (the base must hold the same kind)")
    ("resolution", po::value(&o.model.resolution)->default_value(o.model.resolution), "")
    ("ngf", po::value(&o.model.ngf)->default_value(o.model.ngf), "")
    ("blocks", po::value(&o.model.blocks)->default_value(o.model.blocks), "")
    ("downsamples", po::value(&o.model.downsamples)->default_value(o.model.downsamples), "")
    ("ndf", po::value(&o.model.ndf)->default_value(o.model.ndf), "")
    ("d-scales", po::value(&o.model.d_scales)->default_value(o.model.d_scales), "")
    ("d-layers", po::value(&o.model.d_layers)->default_value(o.model.d_layers), "")
    ("batch-size", po::value(&o.train.batch_size)->default_value(o.train.batch_size), "")
    ("learning-rate", po::value(&o.train.learning_rate)->default_value(o.train.learning_rate), "")
    ("constant-lr-fraction", po::value(&o.train.constant_lr_fraction)->default_value(o.train.constant_lr_fraction), "")
    ("lambda-l1", po::value(&o.train.lambda_l1)->default_value(o.train.lambda_l1), "")
    ("lambda-feat", po::value(&o.train.lambda_feat)->default_value(o.train.lambda_feat), "")
    ("lambda-gan", po::value(&o.train.lambda_gan)->default_value(o.train.lambda_gan), "")
    ("lambda-l2sp", po::value(&o.train.lambda_l2sp)->default_value(o.train.lambda_l2sp), "L2-SP pull towards the base (0 = off)")
    ("d-lr-scale", po::value(&o.train.d_learning_rate_scale)->default_value(o.train.d_learning_rate_scale), "discriminator learning rate / generator's")
    ("instance-noise", po::value(&o.train.instance_noise)->default_value(o.train.instance_noise), "instance noise on the discriminator's frames (0 = off)")
    ("face-gan", po::value(&o.train.face_gan)->default_value(o.train.face_gan), "train and use the face GAN")
    ("face-fraction", po::value(&o.train.face_fraction)->default_value(o.train.face_fraction), "")
    ("eval-seconds", po::value(&o.train.eval_seconds)->default_value(o.train.eval_seconds), "")
    ("precision", po::value(&precision)->default_value(precision), "fp32 | bf16")
    ("visitor", po::value(&o.visitor)->default_value(o.visitor), "built-in performer of the session")
    ("session-choreography", po::value(&o.session_choreography)->default_value(o.session_choreography), "")
    ("session-seconds", po::value(&o.session_seconds)->default_value(o.session_seconds), "")
    ("session-seed", po::value(&o.session_seed)->default_value(o.session_seed), "")
    ("render-choreography", po::value(&o.render.choreography)->default_value(o.render.choreography), "")
    ("reference-performer", po::value(&o.render.reference_performer)->default_value(o.render.reference_performer), "")
    ("render-seconds", po::value(&o.render.seconds)->default_value(o.render.seconds), "")
    ("render-fps", po::value(&o.render.fps)->default_value(o.render.fps), "")
    ("calibration", po::bool_switch(&o.calibration), "also print the empty backdrop's scores")
    ("save-png", po::value(&o.save_png), "write stick | generated | truth of three frames here")
    ("real-video", po::value(&o.real_video), "real mode: the video")
    ("real-keypoints", po::value(&o.real_keypoints), "real mode: its keypoints (tfjs JSON)")
    ("real-train-frames", po::value(&o.real_train_frames)->default_value(o.real_train_frames), "")
    ("real-test-frames", po::value(&o.real_test_frames)->default_value(o.real_test_frames), "");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "trainer_quality_bench: error: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  if (precision != "fp32" && precision != "bf16") {
    std::cerr << "trainer_quality_bench: error: --precision must be fp32 or bf16\n";
    return 2;
  }
  o.train.precision = precision == "bf16" ? Precision::kBfloat16 : Precision::kFloat32;
  auto kind = parseGeneratorKind(generator);
  if (!kind.ok()) {
    std::cerr << "trainer_quality_bench: error: --" << kind.error() << "\n";
    return 2;
  }
  o.model.generator = kind.value();
  o.render.face_gan = o.train.face_gan;
  const CpuRuntime rt = configureCpuRuntime(o.threads);
  o.train.adapt_threads = o.threads == 0;
  std::cout << "# " << rt.describe() << std::endl;
  return o.real_video.empty() ? runSynthetic(o) : runReal(o);
}
