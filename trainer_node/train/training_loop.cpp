#include "trainer_node/train/training_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

#include "trainer_node/train/cpu_runtime.h"
#include "trainer_node/train/cuda_graph_step.h"
#include "trainer_node/train/face_box.h"
#include "trainer_node/train/face_gan.h"
#include "trainer_node/train/losses.h"
#include "trainer_node/train/precision.h"
#include "trainer_node/train/tensor_image.h"

namespace booth {
namespace {

double steadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double scheduledLearningRate(double base, double phase_fraction, double constant_fraction) {
  const double q = std::clamp(phase_fraction, 0.0, 1.0);
  if (q <= constant_fraction) return base;
  return base * std::max(0.0, (1.0 - q) / (1.0 - constant_fraction));
}

void setRequiresGrad(torch::nn::Module& module, bool on) {
  for (auto& p : module.parameters()) p.requires_grad_(on);
}

// Shuffled epochs over a set of indices: every index is drawn once before
// any is drawn twice.
class EpochSampler {
 public:
  EpochSampler(std::vector<std::int64_t> indices, std::uint64_t seed)
      : order_(std::move(indices)), next_(order_.size()), rng_(seed) {}
  std::int64_t next() {
    if (next_ == order_.size()) {
      std::shuffle(order_.begin(), order_.end(), rng_);
      next_ = 0;
    }
    return order_[next_++];
  }

 private:
  std::vector<std::int64_t> order_;
  std::size_t next_;
  std::mt19937_64 rng_;
};

// The float inputs of a generator step, on the device (the warps only for
// the warp generator).
struct MainBatch {
  torch::Tensor stick_prev, stick_cur, frame_prev, frame_cur;
  torch::Tensor warp_prev, warp_cur;
  torch::Tensor noise_std;  // 0-dim: this step's instance noise
};

// Loss values of the last step: 0-dim device tensors, read only when
// reported (a CUDA step then needs no sync).
struct StepLosses {
  torch::Tensor g, d, l1;
};

// Face crops of a set of frames: uint8 M x 3 x S x S.
struct FaceCrops {
  torch::Tensor sticks, raw, real;
  std::int64_t count() const { return sticks.defined() ? sticks.size(0) : 0; }
  void append(const FaceCrops& more) {
    if (more.count() == 0) return;
    if (count() == 0) {
      *this = more;
      return;
    }
    sticks = torch::cat({sticks, more.sticks});
    raw = torch::cat({raw, more.raw});
    real = torch::cat({real, more.real});
  }
};

void store(torch::Tensor& slot, const torch::Tensor& value, bool in_place) {
  if (in_place) {
    slot.copy_(value.detach());
  } else {
    slot = value.detach();
  }
}

// One generator/discriminator step. The optimizers' step sizes were set by
// the caller (FlatAdam::prepare). With `graph` the results are written into
// the existing loss tensors, so that a captured graph writes them too.
void generatorStep(ModelParts& p, const MainBatch& b, const TrainConfig& c, StepLosses& out,
                   bool graph) {
  const bool bf16 = c.precision == Precision::kBfloat16;
  const bool gan = c.lambda_gan > 0 || c.lambda_feat > 0;
  const torch::DeviceType type = p.device.type();
  torch::Tensor fake, prev_fake, real_pair, fake_pair, loss_l1;
  std::vector<PatchOutputs> d_real;
  {
    AutocastScope autocast(bf16, type, !graph);
    // Two unrolled steps as in EDN: frame t-1 from zeros, frame t from the
    // generated t-1. The fed-back frame is detached: cheaper, and the L1 on
    // prev_fake still trains the first step.
    prev_fake = p.generator
                    ->forward(generatorInput(p, b.stick_prev, torch::zeros_like(b.frame_prev),
                                             b.warp_prev))
                    .to(torch::kFloat32);
    fake = p.generator->forward(generatorInput(p, b.stick_cur, prev_fake.detach(), b.warp_cur))
               .to(torch::kFloat32);
    loss_l1 = torch::l1_loss(fake, b.frame_cur) + torch::l1_loss(prev_fake, b.frame_prev);
  }
  torch::Tensor loss_g = c.lambda_l1 * loss_l1;
  torch::Tensor loss_d;
  if (gan) {
    // Instance noise on every frame the discriminator sees (the stick
    // figures stay exact).
    auto noisy = [&](const torch::Tensor& frame) {
      return c.instance_noise > 0 ? frame + torch::randn_like(frame) * b.noise_std : frame;
    };
    real_pair = torch::cat({b.stick_prev, b.stick_cur, noisy(b.frame_prev), noisy(b.frame_cur)}, 1);
    fake_pair = torch::cat({b.stick_prev, b.stick_cur, noisy(prev_fake), noisy(fake)}, 1);
    setRequiresGrad(*p.discriminator, true);
    {
      AutocastScope autocast(bf16, type, !graph);
      d_real = p.discriminator->forward(real_pair);
      const auto d_fake = p.discriminator->forward(fake_pair.detach());
      loss_d = 0.5 * (lsganLoss(d_real, true) + lsganLoss(d_fake, false));
    }
    p.discriminator_opt->zeroGrad();
    loss_d.backward();
    p.discriminator_opt->apply();
    // The discriminator's weights need no gradient for the generator's step.
    setRequiresGrad(*p.discriminator, false);
    {
      AutocastScope autocast(bf16, type, !graph);
      const auto d_fake_g = p.discriminator->forward(fake_pair);
      loss_g = loss_g + c.lambda_gan * lsganLoss(d_fake_g, true) +
               c.lambda_feat * featureMatchingLoss(d_fake_g, d_real);
    }
  } else {
    loss_d = torch::zeros({}, loss_l1.options());
  }
  p.generator_opt->zeroGrad();
  loss_g.backward();
  if (c.lambda_l2sp > 0 && p.state.anchor_generator.defined()) {
    // L2-SP: the gradient of (lambda / 2) |w - w_anchor|^2, added in place
    // (no autograd graph over the flat weights; a CUDA graph replays it).
    torch::NoGradGuard no_grad;
    p.generator_opt->flatGradients().add_(
        p.generator_opt->flatParameters() - p.state.anchor_generator, c.lambda_l2sp);
  }
  p.generator_opt->apply();
  if (gan) setRequiresGrad(*p.discriminator, true);
  store(out.g, loss_g, graph);
  store(out.d, loss_d, graph);
  store(out.l1, loss_l1, graph);
}

// One face GAN step on crops (the generator is frozen; its outputs were
// rendered once, see faceCrops).
void faceStep(ModelParts& p, const torch::Tensor& stick, const torch::Tensor& raw,
              const torch::Tensor& real, const TrainConfig& c, StepLosses& out) {
  const bool bf16 = c.precision == Precision::kBfloat16;
  const torch::DeviceType type = p.device.type();
  torch::Tensor refined, real_in, fake_in, loss_l1;
  std::vector<PatchOutputs> d_real;
  {
    AutocastScope autocast(bf16, type);
    refined = refineFace(raw, p.face_generator->forward(torch::cat({stick, raw}, 1)).to(torch::kFloat32));
    loss_l1 = torch::l1_loss(refined, real);
  }
  real_in = torch::cat({stick, real}, 1);
  fake_in = torch::cat({stick, refined}, 1);
  setRequiresGrad(*p.face_discriminator, true);
  torch::Tensor loss_d;
  {
    AutocastScope autocast(bf16, type);
    d_real = p.face_discriminator->forward(real_in);
    const auto d_fake = p.face_discriminator->forward(fake_in.detach());
    loss_d = 0.5 * (lsganLoss(d_real, true) + lsganLoss(d_fake, false));
  }
  p.face_discriminator_opt->zeroGrad();
  loss_d.backward();
  p.face_discriminator_opt->apply();
  setRequiresGrad(*p.face_discriminator, false);
  torch::Tensor loss_g;
  {
    AutocastScope autocast(bf16, type);
    const auto d_fake_g = p.face_discriminator->forward(fake_in);
    loss_g = c.lambda_gan * lsganLoss(d_fake_g, true) +
             c.lambda_feat * featureMatchingLoss(d_fake_g, d_real) + c.face_lambda_l1 * loss_l1;
  }
  p.face_generator_opt->zeroGrad();
  loss_g.backward();
  p.face_generator_opt->apply();
  setRequiresGrad(*p.face_discriminator, true);
  out.g = loss_g.detach();
  out.d = loss_d.detach();
  out.l1 = loss_l1.detach();
}

// The face crops of frames [begin, end) of one clip that have a box, the
// generator's part drawn as a clip draws it (frames in order, each fed the
// previous output, `begin` primed as a clip's first frame).
FaceCrops faceCrops(ModelParts& p, const DeviceClips& clips, std::int64_t begin, std::int64_t end) {
  FaceCrops crops;
  if (clips.face_side == 0) return crops;
  std::vector<torch::Tensor> sticks, raw, real;
  const auto drawn = toBytes(renderSequence(p, clips, begin, end));
  for (std::int64_t i = begin; i < end; ++i) {
    const auto& box = clips.face_boxes[static_cast<std::size_t>(i)];
    if (!box) continue;
    auto crop = [&](const torch::Tensor& image) {
      return image.narrow(1, box->y, box->height).narrow(2, box->x, box->width);
    };
    sticks.push_back(crop(clips.sticks[i]));
    raw.push_back(crop(drawn[i - begin]));
    real.push_back(crop(clips.frames[i]));
  }
  if (sticks.empty()) return crops;
  crops.sticks = torch::stack(sticks);
  crops.raw = torch::stack(raw);
  crops.real = torch::stack(real);
  return crops;
}

// Every clip's face crops, each clip drawn whole (the held-out frames).
FaceCrops faceCrops(ModelParts& p, const DeviceClips& clips) {
  FaceCrops crops;
  for (const auto& [begin, end] : clips.ranges) crops.append(faceCrops(p, clips, begin, end));
  return crops;
}

// The face phase's training crops are drawn as the phase goes, not all
// before its first step (a pretraining corpus has thousands of frames: a
// forward pass each): in runs of kFaceRunFrames consecutive frames of one
// clip, the runs in a shuffled order, each run drawn as a short clip.
constexpr std::int64_t kFaceRunFrames = 8;

class FaceCropRuns {
 public:
  FaceCropRuns(const DeviceClips& clips, std::uint64_t seed) {
    if (clips.face_side > 0) runs_ = faceCropRuns(clips.ranges, clips.face_boxes, kFaceRunFrames, seed);
  }
  bool done() const { return next_ == runs_.size(); }
  FaceCrops drawNext(ModelParts& p, const DeviceClips& clips) {
    const auto [begin, end] = runs_[next_++];
    return faceCrops(p, clips, begin, end);
  }

 private:
  std::vector<std::pair<std::int64_t, std::int64_t>> runs_;
  std::size_t next_ = 0;
};

// Mean absolute error in [-1, 1] units of the generator on every held-out
// clip, drawn as a clip is drawn.
double generatorError(ModelParts& p, const DeviceClips& held_out) {
  torch::NoGradGuard no_grad;
  double total = 0;
  std::int64_t frames = 0;
  for (const auto& [begin, end] : held_out.ranges) {
    const auto drawn = renderSequence(p, held_out, begin, end);
    const auto real = toUnit(held_out.frames.narrow(0, begin, end - begin));
    total += (drawn - real).abs().mean().item<double>() * static_cast<double>(end - begin);
    frames += end - begin;
  }
  return frames > 0 ? total / static_cast<double>(frames) : 0;
}

double faceError(ModelParts& p, const FaceCrops& crops) {
  torch::NoGradGuard no_grad;
  const auto stick = toUnit(crops.sticks);
  const auto raw = toUnit(crops.raw);
  const auto refined =
      refineFace(raw, p.face_generator->forward(torch::cat({stick, raw}, 1)).to(torch::kFloat32));
  return (refined - toUnit(crops.real)).abs().mean().item<double>();
}

const char* phaseName(TrainPhase phase) {
  switch (phase) {
    case TrainPhase::kGenerator:
      return "generator";
    case TrainPhase::kFace:
      return "face";
    case TrainPhase::kDone:
      break;
  }
  return "done";
}

}  // namespace

torch::Tensor primeFirstFrame(ModelParts& p, const torch::Tensor& stick, const torch::Tensor& warp) {
  torch::NoGradGuard no_grad;
  return p.generator->forward(generatorInput(p, stick, torch::zeros_like(stick), warp));
}

torch::Tensor warpInput(const DeviceClips& clips, std::int64_t i, torch::Device device,
                        std::mt19937_64* rng) {
  const auto frame = static_cast<std::size_t>(i);
  const ReferencePool& pool = clips.pools.at(clips.pool_of.at(frame));
  const std::size_t k = rng ? kTrainingReferenceCandidates : 1;
  const auto& place = clips.place_in_pool.at(frame);
  auto candidates = place ? pool.trainingCandidates(*place, k) : pool.nearest(clips.poses[frame], k);
  if (candidates.empty()) candidates.push_back(0);  // no pose compares: any frame, warped as it can be
  std::size_t pick = 0;
  if (rng) pick = std::uniform_int_distribution<std::size_t>(0, candidates.size() - 1)(*rng);
  const WarpedReference w = pool.warp(candidates[pick], clips.poses[frame]);
  return toUnit(warpBytes(w.image, w.mask).unsqueeze(0).to(device));
}

torch::Tensor renderSequence(ModelParts& p, const DeviceClips& clips, std::int64_t begin,
                             std::int64_t end) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& sticks = clips.sticks;
  const bool warp = p.config.generator == GeneratorKind::kWarp;
  std::vector<torch::Tensor> out;
  out.reserve(static_cast<std::size_t>(std::max<std::int64_t>(0, end - begin)));
  torch::Tensor previous;
  for (std::int64_t i = begin; i < end; ++i) {
    const auto stick = toUnit(sticks.narrow(0, i, 1));
    const torch::Tensor w = warp ? warpInput(clips, i, p.device, nullptr) : torch::Tensor();
    if (!previous.defined()) previous = primeFirstFrame(p, stick, w);
    previous = p.generator->forward(generatorInput(p, stick, previous, w));
    out.push_back(previous);
  }
  if (out.empty()) return torch::empty({0, 3, sticks.size(2), sticks.size(3)}, sticks.options().dtype(torch::kFloat32));
  return torch::cat(out, 0);
}

namespace {

// The warp generator's reference pools of `clips` (see uploadClips).
Status attachReferences(DeviceClips& out, std::span<const TrainClip> clips,
                        std::span<const TrainClip> reference_clips, const std::string& what) {
  for (std::size_t c = 0; c < clips.size(); ++c) {
    if (clips[c].poses.size() != clips[c].frames.size())
      return fail(what + " clip " + std::to_string(c) + ": the warp generator needs a pose per frame, got " +
                  std::to_string(clips[c].poses.size()) + " poses for " +
                  std::to_string(clips[c].frames.size()) + " frames");
    out.poses.insert(out.poses.end(), clips[c].poses.begin(), clips[c].poses.end());
  }
  if (reference_clips.empty()) {
    for (std::size_t c = 0; c < clips.size(); ++c) {
      auto pool = ReferencePool::create(clips[c].frames, clips[c].poses);
      if (!pool.ok()) return fail(what + " clip " + std::to_string(c) + ": " + pool.error());
      out.pools.push_back(std::move(pool).value());
      for (std::size_t i = 0; i < clips[c].frames.size(); ++i) {
        out.pool_of.push_back(c);
        out.place_in_pool.emplace_back(i);
      }
    }
    return okStatus();
  }
  std::vector<cv::Mat> frames;
  std::vector<Pose> poses;
  for (const TrainClip& r : reference_clips) {
    if (r.poses.size() != r.frames.size())
      return fail(what + ": the warp generator's reference clips need a pose per frame");
    frames.insert(frames.end(), r.frames.begin(), r.frames.end());
    poses.insert(poses.end(), r.poses.begin(), r.poses.end());
  }
  auto pool = ReferencePool::create(frames, poses);
  if (!pool.ok()) return fail(what + ": " + pool.error());
  out.pools.push_back(std::move(pool).value());
  out.pool_of.assign(out.poses.size(), 0);
  out.place_in_pool.assign(out.poses.size(), std::nullopt);
  return okStatus();
}

}  // namespace

Result<DeviceClips> uploadClips(std::span<const TrainClip> clips, const ModelConfig& config,
                                torch::Device device, const std::string& what,
                                std::span<const TrainClip> reference_clips) {
  const int resolution = config.resolution;
  DeviceClips out;
  std::vector<cv::Mat> sticks;
  std::vector<cv::Mat> frames;
  bool any_box = false;
  for (std::size_t c = 0; c < clips.size(); ++c) {
    const TrainClip& clip = clips[c];
    const std::string name = what + " clip " + std::to_string(c);
    if (clip.sticks.size() != clip.frames.size())
      return fail(name + ": sticks and frames must pair up, got " +
                  std::to_string(clip.sticks.size()) + " sticks vs " +
                  std::to_string(clip.frames.size()) + " frames");
    if (!clip.face_boxes.empty() && clip.face_boxes.size() != clip.frames.size())
      return fail(name + ": " + std::to_string(clip.face_boxes.size()) + " face boxes for " +
                  std::to_string(clip.frames.size()) + " frames");
    const auto begin = static_cast<std::int64_t>(sticks.size());
    for (std::size_t i = 0; i < clip.sticks.size(); ++i) {
      if (auto s = checkImage(clip.sticks[i], resolution, name + ": stick " + std::to_string(i)); !s)
        return fail(s.error());
      if (auto s = checkImage(clip.frames[i], resolution, name + ": frame " + std::to_string(i)); !s)
        return fail(s.error());
      sticks.push_back(clip.sticks[i]);
      frames.push_back(clip.frames[i]);
      std::optional<cv::Rect> box;
      if (!clip.face_boxes.empty()) box = clip.face_boxes[i];
      if (box) {
        const cv::Rect inside(0, 0, resolution, resolution);
        if (box->width != box->height || (*box & inside) != *box || box->width % 4 != 0)
          return fail(name + ": face box " + std::to_string(i) + " (" + std::to_string(box->x) +
                      "," + std::to_string(box->y) + " " + std::to_string(box->width) + "x" +
                      std::to_string(box->height) +
                      ") must be a square inside the frame with a side divisible by 4");
        if (any_box && box->width != out.face_side)
          return fail(name + ": face box " + std::to_string(i) + " has side " +
                      std::to_string(box->width) + ", earlier boxes " +
                      std::to_string(out.face_side) + " (one side per run)");
        out.face_side = box->width;
        any_box = true;
      }
      out.face_boxes.push_back(box);
    }
    const auto end = static_cast<std::int64_t>(sticks.size());
    for (std::int64_t i = begin + 1; i < end; ++i) out.pair_ends.push_back(i);
    if (end > begin) out.ranges.emplace_back(begin, end);
  }
  if (!any_box) out.face_boxes.clear();
  if (config.generator == GeneratorKind::kWarp) {
    if (auto s = attachReferences(out, clips, reference_clips, what); !s) return fail(s.error());
  }
  try {
    out.sticks = stackImages(sticks, resolution).to(device);
    out.frames = stackImages(frames, resolution).to(device);
  } catch (const std::exception& e) {
    return fail(what + ": cannot move " + std::to_string(sticks.size()) +
                " frames to the device: " + e.what());
  }
  return out;
}

Result<TrainResult> runTraining(ModelParts& p, const DeviceClips& train,
                                const DeviceClips* held_out, const TrainConfig& config,
                                const TrainHooks& hooks, std::stop_token stop,
                                const std::function<Status()>& save_checkpoint) {
  const auto now = hooks.now_seconds ? hooks.now_seconds : std::function<double()>(steadySeconds);
  if (train.pair_ends.empty())
    return fail("train: need at least 2 consecutive frames in one clip, got none");
  if (held_out && held_out->ranges.empty()) held_out = nullptr;

  TrainingState& st = p.state;
  if (st.phase == TrainPhase::kDone) st = TrainingState{};  // a finished run: start a new schedule
  // L2-SP pulls towards the weights this schedule started from (a resumed
  // run keeps the anchor its checkpoint holds).
  if (config.lambda_l2sp > 0 && !st.anchor_generator.defined() && st.iterations == 0)
    st.anchor_generator = p.generator_opt->flatParameters().detach().clone();
  st.budget_seconds = config.budget_seconds;
  st.max_iterations = config.max_iterations;
  const bool face = config.face_gan && train.face_side > 0;
  const double main_fraction = face ? 1.0 - config.face_fraction : 1.0;

  const double call_start = now();
  const double seconds_at_start = st.seconds;
  const std::int64_t iterations_at_start = st.iterations;
  const std::int64_t face_steps_at_start = st.face_steps;
  // Wall seconds of each phase in this call (steps, evaluation, hooks):
  // the per-phase rates.
  double generator_wall = 0;
  double face_wall = 0;
  auto fraction = [&] {
    double f = st.seconds / config.budget_seconds;
    if (config.max_iterations > 0)
      f = std::max(f, static_cast<double>(st.iterations) / static_cast<double>(config.max_iterations));
    return std::min(f, 1.0);
  };

  TrainResult result;
  double step_seconds = 0;
  double thread_seconds = 0;  // sum of threads x step seconds
  StepLosses losses;
  const auto scalar_options = torch::TensorOptions().dtype(torch::kFloat32).device(p.device);
  losses.g = torch::zeros({}, scalar_options);
  losses.d = torch::zeros({}, scalar_options);
  losses.l1 = torch::zeros({}, scalar_options);
  bool stepped = false;
  double learning_rate = 0;

  EpochSampler pairs(train.pair_ends, config.seed + static_cast<std::uint64_t>(st.iterations));
  // The face phase: the crops drawn so far, the runs still to draw, and
  // the seconds this call spent drawing and stepping (drawing may take at
  // most as long as the steps until every run is drawn).
  std::optional<FaceCropRuns> face_runs;
  std::mt19937_64 face_rng(config.seed + 1 + static_cast<std::uint64_t>(st.iterations));
  double face_draw_seconds = 0;
  double face_step_seconds = 0;
  FaceCrops face_train;
  FaceCrops face_held;

  // The generator step's static inputs: refilled before every step, so a
  // captured CUDA graph can replay the step on new data.
  const int res = p.config.resolution;
  MainBatch batch;
  const auto float_options = torch::TensorOptions().dtype(torch::kFloat32).device(p.device);
  for (torch::Tensor* t : {&batch.stick_prev, &batch.stick_cur, &batch.frame_prev, &batch.frame_cur})
    *t = torch::zeros({config.batch_size, 3, res, res}, float_options);
  batch.noise_std = torch::zeros({}, float_options);
  const bool warp = p.config.generator == GeneratorKind::kWarp;
  if (warp) {
    for (torch::Tensor* t : {&batch.warp_prev, &batch.warp_cur})
      *t = torch::zeros({config.batch_size, kWarpChannels, res, res}, float_options);
  }
  // Which reference a training frame is warped from (resumed runs draw anew).
  std::mt19937_64 reference_rng(config.seed + 2 + static_cast<std::uint64_t>(st.iterations));
  std::unique_ptr<CudaGraphStep> graph;
  if (config.cuda_graph) {
    auto created = CudaGraphStep::create([&] { generatorStep(p, batch, config, losses, true); });
    if (!created.ok()) return fail(created.error());
    graph = std::move(created).value();
  }
  std::vector<std::int64_t> batch_index(static_cast<std::size_t>(config.batch_size));
  // This thread's libtorch thread count is its own (cpu_runtime.h).
  std::vector<int> thread_candidates = {useConfiguredThreads()};
  if (config.adapt_threads && !p.device.is_cuda() && thread_candidates[0] > 1)
    thread_candidates.push_back(1);
  ThreadTuner tuner(thread_candidates);

  auto evaluateGenerator = [&] {
    const double error = generatorError(p, *held_out);
    ++st.evaluations;
    if (error < st.best_generator_error) {
      st.best_generator_error = error;
      st.best_generator = p.generator_opt->flatParameters().detach().clone();
    }
  };
  auto evaluateFace = [&] {
    if (face_held.count() == 0) return;
    const double error = faceError(p, face_held);
    if (error < st.best_face_error) {
      st.best_face_error = error;
      st.best_face_generator = p.face_generator_opt->flatParameters().detach().clone();
    }
  };
  auto drawFaceRun = [&] {
    const double t0 = now();
    face_train.append(face_runs->drawNext(p, train));
    face_draw_seconds += now() - t0;
  };
  auto startFacePhase = [&] {
    face_train = FaceCrops{};
    face_runs.emplace(train, config.seed + 1 + static_cast<std::uint64_t>(st.iterations));
    while (face_train.count() == 0 && !face_runs->done()) drawFaceRun();
    if (held_out) face_held = faceCrops(p, *held_out);
    if (face_held.count() > 0 && !std::isfinite(st.best_face_error)) {
      // The face GAN must earn its place: with all weights zero its
      // residual is exactly zero, the raw generator's face. Whichever of
      // that and the current weights is better on held-out frames is the
      // best so far.
      torch::NoGradGuard no_grad;
      auto& flat = p.face_generator_opt->flatParameters();
      const auto current = flat.clone();
      flat.zero_();
      evaluateFace();
      flat.copy_(current);
      evaluateFace();
    }
  };
  auto endPhase = [&](TrainPhase phase) {
    torch::NoGradGuard no_grad;
    if (phase == TrainPhase::kGenerator) {
      if (held_out) evaluateGenerator();
      if (st.best_generator.defined()) p.generator_opt->flatParameters().copy_(st.best_generator);
      st.phase = face ? TrainPhase::kFace : TrainPhase::kDone;
    } else {
      evaluateFace();
      if (st.best_face_generator.defined())
        p.face_generator_opt->flatParameters().copy_(st.best_face_generator);
      st.phase = TrainPhase::kDone;
    }
  };

  auto progress = [&] {
    TrainProgress out;
    out.iterations = st.iterations;
    out.face_steps = st.face_steps;
    out.generator_steps = st.iterations - st.face_steps;
    const std::int64_t face_now = st.face_steps - face_steps_at_start;
    const std::int64_t generator_now = (st.iterations - iterations_at_start) - face_now;
    out.generator_steps_per_second =
        generator_wall > 0 ? static_cast<double>(generator_now) / generator_wall : 0;
    out.face_steps_per_second = face_wall > 0 ? static_cast<double>(face_now) / face_wall : 0;
    out.elapsed_seconds = st.seconds;
    out.budget_seconds = config.budget_seconds;
    out.fraction = fraction();
    out.phase = phaseName(st.phase);
    out.learning_rate = learning_rate;
    if (stepped) {
      out.loss_g = losses.g.item<float>();
      out.loss_d = losses.d.item<float>();
      out.loss_l1 = losses.l1.item<float>();
    }
    out.best_heldout_l1 =
        std::isfinite(st.best_generator_error) ? st.best_generator_error : -1.0;
    return out;
  };

  try {
    if (!face && st.phase == TrainPhase::kFace) st.phase = TrainPhase::kDone;
    if (st.phase == TrainPhase::kGenerator && held_out && st.evaluations == 0)
      evaluateGenerator();  // the starting point (a base model's error) is a candidate too
    if (st.phase == TrainPhase::kFace) startFacePhase();
    double last_eval = st.seconds;
    double last_progress = now();
    double last_checkpoint = now();
    double last_step_end = call_start;
    bool finished = false;

    while (!stop.stop_requested()) {
      const double f = fraction();
      if (st.phase == TrainPhase::kGenerator && f >= main_fraction) {
        endPhase(TrainPhase::kGenerator);
        if (st.phase == TrainPhase::kFace) startFacePhase();
        tuner.reset(now());
      }
      if (st.phase == TrainPhase::kFace && (f >= 1.0 || face_train.count() == 0))
        endPhase(TrainPhase::kFace);
      if (st.phase == TrainPhase::kDone) {
        finished = true;
        break;
      }
      const TrainPhase step_phase = st.phase;

      if (st.phase == TrainPhase::kGenerator) {
        learning_rate = scheduledLearningRate(config.learning_rate, f / main_fraction,
                                              config.constant_lr_fraction);
        for (auto& i : batch_index) i = pairs.next();
        const auto cur = torch::tensor(batch_index, torch::kInt64).to(p.device);
        const auto prev = cur - 1;
        {
          torch::NoGradGuard no_grad;
          batch.stick_prev.copy_(toUnit(train.sticks.index_select(0, prev)));
          batch.stick_cur.copy_(toUnit(train.sticks.index_select(0, cur)));
          batch.frame_prev.copy_(toUnit(train.frames.index_select(0, prev)));
          batch.frame_cur.copy_(toUnit(train.frames.index_select(0, cur)));
          batch.noise_std.fill_(config.instance_noise * std::max(0.0, 1.0 - f / main_fraction));
          if (warp) {
            for (std::size_t b = 0; b < batch_index.size(); ++b) {
              const auto row = static_cast<std::int64_t>(b);
              batch.warp_prev[row].copy_(warpInput(train, batch_index[b] - 1, p.device, &reference_rng)[0]);
              batch.warp_cur[row].copy_(warpInput(train, batch_index[b], p.device, &reference_rng)[0]);
            }
          }
        }
        const double t0 = now();
        p.generator_opt->prepare(learning_rate);
        p.discriminator_opt->prepare(learning_rate * config.d_learning_rate_scale);
        if (graph) {
          if (auto s = graph->run(); !s) return fail("train: " + s.error());
        } else {
          generatorStep(p, batch, config, losses, false);
        }
        const double t1 = now();
        step_seconds += t1 - t0;
        thread_seconds += tuner.threads() * (t1 - t0);
        tuner.stepDone(t1 - t0, t1);
      } else {
        learning_rate =
            scheduledLearningRate(config.learning_rate, (f - main_fraction) / (1.0 - main_fraction),
                                  config.constant_lr_fraction);
        std::uniform_int_distribution<std::int64_t> drawn(0, face_train.count() - 1);
        for (auto& i : batch_index) i = drawn(face_rng);
        const auto idx = torch::tensor(batch_index, torch::kInt64).to(p.device);
        const auto stick = toUnit(face_train.sticks.index_select(0, idx));
        const auto raw = toUnit(face_train.raw.index_select(0, idx));
        const auto real = toUnit(face_train.real.index_select(0, idx));
        const double t0 = now();
        p.face_generator_opt->prepare(learning_rate);
        p.face_discriminator_opt->prepare(learning_rate);
        faceStep(p, stick, raw, real, config, losses);
        const double t1 = now();
        step_seconds += t1 - t0;
        face_step_seconds += t1 - t0;
        thread_seconds += tuner.threads() * (t1 - t0);
        tuner.stepDone(t1 - t0, t1);
        if (!face_runs->done() && face_draw_seconds <= face_step_seconds) drawFaceRun();
      }
      stepped = true;
      ++st.iterations;
      if (step_phase == TrainPhase::kFace) ++st.face_steps;
      const double after_step = now();
      st.seconds = seconds_at_start + (after_step - call_start);
      // Everything since the last step (evaluation, hooks, a phase change)
      // is charged to this step's phase.
      (step_phase == TrainPhase::kFace ? face_wall : generator_wall) += after_step - last_step_end;
      last_step_end = after_step;

      if (held_out && st.phase == TrainPhase::kGenerator && config.eval_seconds > 0 &&
          st.seconds - last_eval >= config.eval_seconds) {
        evaluateGenerator();
        last_eval = st.seconds;
      }
      if (now() - last_progress >= hooks.progress_seconds) {
        last_progress = now();
        if (hooks.progress) hooks.progress(progress());
        if (hooks.should_stop && hooks.should_stop()) break;
      }
      if (!hooks.checkpoint_path.empty() && save_checkpoint &&
          now() - last_checkpoint >= hooks.checkpoint_seconds) {
        if (auto s = save_checkpoint(); !s) return fail("train: " + s.error());
        last_checkpoint = now();
      }
    }
    st.seconds = seconds_at_start + (now() - call_start);
    result.last = progress();
    if (hooks.progress) hooks.progress(result.last);
    result.finished = finished;
  } catch (const std::exception& e) {
    setRequiresGrad(*p.discriminator, true);
    setRequiresGrad(*p.face_discriminator, true);
    return fail(std::string("train: ") + e.what());
  }
  result.iterations = st.iterations - iterations_at_start;
  result.face_steps = st.face_steps - face_steps_at_start;
  result.generator_steps = result.iterations - result.face_steps;
  result.seconds = now() - call_start;
  result.step_seconds = step_seconds;
  result.mean_threads = step_seconds > 0 ? thread_seconds / step_seconds : at::get_num_threads();
  result.iterations_per_second =
      result.seconds > 0 ? static_cast<double>(result.iterations) / result.seconds : 0;
  return result;
}

}  // namespace booth
