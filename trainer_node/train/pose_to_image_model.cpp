#include "trainer_node/train/pose_to_image_model.h"

#include <exception>
#include <utility>

#include <torch/torch.h>

#include "trainer_node/train/checkpoint.h"
#include "trainer_node/train/face_gan.h"
#include "trainer_node/train/model_parts.h"
#include "trainer_node/train/tensor_image.h"
#include "trainer_node/train/training_loop.h"

namespace booth {

struct PoseToImageModel::Impl {
  Impl(const ModelConfig& c, torch::Device d) : parts(c, d) {}
  ModelParts parts;
  // Rendering: the previous raw generator output (undefined at a clip's start).
  torch::Tensor previous;
  bool prime_first_frame = true;
  // The warp generator's references, and the one the previous frame used.
  ReferencePool references;
  std::optional<std::size_t> reference;
};

PoseToImageModel::PoseToImageModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PoseToImageModel::~PoseToImageModel() = default;

Result<std::unique_ptr<PoseToImageModel>> PoseToImageModel::create(const ModelConfig& config,
                                                                   const std::string& device) {
  if (auto s = validate(config); !s) return fail(s.error());
  try {
    if (device != "cpu" && device.rfind("cuda", 0) != 0)
      return fail("device '" + device + "' is not supported; use 'cpu', 'cuda' or 'cuda:N'");
    torch::Device dev(device);  // throws on a malformed string such as "cuda:x"
    if (dev.is_cuda()) {
      if (!torch::cuda::is_available())
        return fail("device '" + device +
                    "' requested but no CUDA device is available; use --device cpu");
      const auto count = static_cast<int>(torch::cuda::device_count());
      if (dev.has_index() && dev.index() >= count)
        return fail("device '" + device + "' requested but only " + std::to_string(count) +
                    " CUDA device(s) are available");
      // TF32 matmuls and convolutions: measured 1.4x faster on an H100 with
      // no visible change in the frames. cuDNN picks the fastest algorithm
      // for the model's fixed shapes.
      at::globalContext().setAllowTF32CuBLAS(true);
      at::globalContext().setAllowTF32CuDNN(true);
      at::globalContext().setBenchmarkCuDNN(true);
    }
    return std::unique_ptr<PoseToImageModel>(
        new PoseToImageModel(std::make_unique<Impl>(config, dev)));
  } catch (const std::exception& e) {
    return fail("cannot create model on device '" + device + "': " + e.what());
  }
}

const ModelConfig& PoseToImageModel::config() const { return impl_->parts.config; }

std::string PoseToImageModel::deviceName() const { return impl_->parts.device.str(); }

Status PoseToImageModel::save(const std::string& path) const {
  return saveCheckpoint(impl_->parts, path);
}

Status PoseToImageModel::load(const std::string& path) {
  return loadCheckpoint(impl_->parts, path, LoadMode::kResume);
}

Status PoseToImageModel::loadWeights(const std::string& path) {
  return loadCheckpoint(impl_->parts, path, LoadMode::kWeights);
}

Status PoseToImageModel::loadWeightsFromPoseBase(const std::string& path) {
  return loadCheckpoint(impl_->parts, path, LoadMode::kWeightsFromPoseBase);
}

Result<ModelConfig> PoseToImageModel::checkpointConfig(const std::string& path) {
  return readCheckpointConfig(path);
}

Result<TrainResult> PoseToImageModel::train(std::span<const TrainClip> clips,
                                            const TrainClip* held_out, const TrainConfig& config,
                                            const TrainHooks& hooks, std::stop_token stop) {
  if (auto s = validate(config); !s) return fail(s.error());
  ModelParts& parts = impl_->parts;
  if (config.cuda_graph && !parts.device.is_cuda())
    return fail("train config: cuda_graph needs a CUDA device, the model is on " +
                parts.device.str());
  std::size_t frames = 0;
  for (const auto& c : clips) frames += c.frames.size();
  if (frames < 2)
    return fail("train: need at least 2 consecutive frames, got " + std::to_string(frames));
  auto train = uploadClips(clips, parts.config, parts.device, "train");
  if (!train.ok()) return fail("train: " + train.error());
  std::optional<DeviceClips> held;
  if (held_out != nullptr && !held_out->frames.empty()) {
    auto uploaded = uploadClips(std::span<const TrainClip>(held_out, 1), parts.config,
                                parts.device, "held-out", clips);
    if (!uploaded.ok()) return fail("train: " + uploaded.error());
    held = std::move(uploaded).value();
  }
  impl_->previous = torch::Tensor();
  return runTraining(parts, train.value(), held ? &*held : nullptr, config, hooks, stop,
                     [&] { return saveCheckpoint(parts, hooks.checkpoint_path); });
}

void PoseToImageModel::startSequence(bool prime_first_frame) {
  impl_->previous = torch::Tensor();
  impl_->prime_first_frame = prime_first_frame;
  impl_->reference.reset();
}

Status PoseToImageModel::setReferences(std::span<const cv::Mat> frames, std::span<const Pose> poses) {
  const int res = impl_->parts.config.resolution;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (auto s = checkImage(frames[i], res, "reference frame " + std::to_string(i)); !s) return s;
  }
  auto pool = ReferencePool::create(frames, poses);
  if (!pool.ok()) return fail(pool.error());
  impl_->references = std::move(pool).value();
  impl_->reference.reset();
  return okStatus();
}

Result<cv::Mat> PoseToImageModel::nextFrame(const cv::Mat& stick,
                                            const std::optional<cv::Rect>& face_box) {
  if (impl_->parts.config.generator == GeneratorKind::kWarp)
    return fail("generate: the warp generator needs the target pose: call nextFrame(stick, pose, ...)");
  return nextFrame(stick, Pose{}, face_box);
}

Result<cv::Mat> PoseToImageModel::nextFrame(const cv::Mat& stick, const Pose& pose,
                                            const std::optional<cv::Rect>& face_box) {
  ModelParts& parts = impl_->parts;
  const int res = parts.config.resolution;
  if (auto s = checkImage(stick, res, "generate: stick"); !s) return fail(s.error());
  if (face_box) {
    const cv::Rect inside(0, 0, res, res);
    if (face_box->width != face_box->height || face_box->width % 4 != 0 || face_box->width < 8 ||
        (*face_box & inside) != *face_box)
      return fail("generate: face box " + std::to_string(face_box->x) + "," +
                  std::to_string(face_box->y) + " " + std::to_string(face_box->width) + "x" +
                  std::to_string(face_box->height) +
                  " must be a square of side divisible by 4 (>= 8) inside the frame");
  }
  try {
    torch::NoGradGuard no_grad;
    const auto stick_t =
        toUnit(stackImages(std::span<const cv::Mat>(&stick, 1), res).to(parts.device));
    torch::Tensor warp;
    if (parts.config.generator == GeneratorKind::kWarp) {
      if (impl_->references.empty())
        return fail("generate: the warp generator has no reference frames of the visitor (setReferences)");
      impl_->reference = impl_->references.choose(pose, impl_->reference);
      if (!impl_->reference)
        return fail("generate: the target pose shows no body limb to choose a reference frame by");
      const WarpedReference w = impl_->references.warp(*impl_->reference, pose);
      warp = toUnit(warpBytes(w.image, w.mask).unsqueeze(0).to(parts.device));
    }
    if (!impl_->previous.defined()) {
      impl_->previous = torch::zeros_like(stick_t);
      if (impl_->prime_first_frame) impl_->previous = primeFirstFrame(parts, stick_t, warp);
    }
    impl_->previous = parts.generator->forward(generatorInput(parts, stick_t, impl_->previous, warp));
    if (!face_box) return toMat(impl_->previous[0]);
    // The face GAN refines a copy; the raw frame is what the next frame sees,
    // as in training.
    auto frame = impl_->previous.clone();
    const cv::Rect boxes[] = {*face_box};
    const auto stick_crop = cropBoxes(stick_t, boxes);
    const auto raw_crop = cropBoxes(frame, boxes);
    const auto residual = parts.face_generator->forward(torch::cat({stick_crop, raw_crop}, 1));
    pasteBox(frame, refineFace(raw_crop, residual), *face_box);
    return toMat(frame[0]);
  } catch (const std::exception& e) {
    return fail(std::string("generate: ") + e.what());
  }
}

std::int64_t PoseToImageModel::generatorParameters() const {
  return impl_->parts.generator_opt->parameterCount();
}

std::int64_t PoseToImageModel::discriminatorParameters() const {
  return impl_->parts.discriminator_opt->parameterCount();
}

double PoseToImageModel::generatorForwardFlops() const {
  const auto& c = impl_->parts.config;
  return generatorFlops(generatorOptions(c), c.resolution, c.resolution);
}

double PoseToImageModel::discriminatorForwardFlops() const {
  const auto& c = impl_->parts.config;
  return discriminatorFlops(discriminatorOptions(c), c.resolution, c.resolution);
}

}  // namespace booth
