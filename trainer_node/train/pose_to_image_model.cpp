#include "trainer_node/train/pose_to_image_model.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <numeric>
#include <random>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include <torch/torch.h>
#include <opencv2/core/check.hpp>

namespace booth {
namespace {

// Weight init is seeded so that two models created with the same config start
// identical: runs are reproducible and tests can compare outputs.
constexpr std::uint64_t kInitSeed = 20180822;
// pix2pix / pix2pixHD Adam betas; beta1 = 0.5 keeps the GAN game stable.
constexpr double kAdamBeta1 = 0.5;
constexpr double kAdamBeta2 = 0.999;
constexpr float kLeakySlope = 0.2f;
// The learning rate stays constant for this fraction of the budget, then
// decays linearly to zero at the budget's end (pix2pixHD's schedule, in time).
constexpr double kConstantLrFraction = 0.5;
constexpr double kProgressPeriodSeconds = 1.0;
// The PatchGAN shrinks the input by 8 and then by 2 more pixels; below 32 its
// last convolutions have nothing left to look at.
constexpr int kMinResolution = 32;
constexpr int kMaxResolution = 2048;
constexpr int kMaxFilters = 512;
constexpr int kMaxDownsamples = 6;
constexpr int kMaxBlocks = 64;
constexpr std::int64_t kConfigFields = 5;

using Clock = std::chrono::steady_clock;

std::string describe(const ModelConfig& c) {
  std::ostringstream out;
  out << "{resolution=" << c.resolution << ", ngf=" << c.ngf << ", ndf=" << c.ndf
      << ", downsamples=" << c.downsamples << ", blocks=" << c.blocks << "}";
  return out.str();
}

bool sameConfig(const ModelConfig& a, const ModelConfig& b) {
  return a.resolution == b.resolution && a.ngf == b.ngf && a.ndf == b.ndf &&
         a.downsamples == b.downsamples && a.blocks == b.blocks;
}

torch::nn::Conv2dOptions conv(std::int64_t in, std::int64_t out, std::int64_t kernel) {
  return torch::nn::Conv2dOptions(in, out, kernel);
}

torch::nn::InstanceNorm2d instanceNorm(std::int64_t channels) {
  // affine=false, no running stats: train and eval behave the same.
  return torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(channels));
}

class ResidualBlockImpl : public torch::nn::Module {
 public:
  explicit ResidualBlockImpl(std::int64_t channels) {
    body_ = register_module(
        "body", torch::nn::Sequential(
                    torch::nn::ReflectionPad2d(1), torch::nn::Conv2d(conv(channels, channels, 3)),
                    instanceNorm(channels), torch::nn::ReLU(true), torch::nn::ReflectionPad2d(1),
                    torch::nn::Conv2d(conv(channels, channels, 3)), instanceNorm(channels)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return x + body_->forward(x); }

 private:
  torch::nn::Sequential body_{nullptr};
};
TORCH_MODULE(ResidualBlock);

// pix2pixHD global generator: 6 channels in (stick t, generated t-1), 3 out in [-1, 1].
class GeneratorImpl : public torch::nn::Module {
 public:
  explicit GeneratorImpl(const ModelConfig& c) {
    torch::nn::Sequential seq;
    std::int64_t ch = c.ngf;
    seq->push_back(torch::nn::ReflectionPad2d(3));
    seq->push_back(torch::nn::Conv2d(conv(6, ch, 7)));
    seq->push_back(instanceNorm(ch));
    seq->push_back(torch::nn::ReLU(true));
    for (int i = 0; i < c.downsamples; ++i) {
      seq->push_back(torch::nn::Conv2d(conv(ch, ch * 2, 3).stride(2).padding(1)));
      seq->push_back(instanceNorm(ch * 2));
      seq->push_back(torch::nn::ReLU(true));
      ch *= 2;
    }
    for (int i = 0; i < c.blocks; ++i) seq->push_back(ResidualBlock(ch));
    for (int i = 0; i < c.downsamples; ++i) {
      seq->push_back(torch::nn::ConvTranspose2d(
          torch::nn::ConvTranspose2dOptions(ch, ch / 2, 3).stride(2).padding(1).output_padding(1)));
      seq->push_back(instanceNorm(ch / 2));
      seq->push_back(torch::nn::ReLU(true));
      ch /= 2;
    }
    seq->push_back(torch::nn::ReflectionPad2d(3));
    seq->push_back(torch::nn::Conv2d(conv(ch, 3, 7)));
    seq->push_back(torch::nn::Tanh());
    model_ = register_module("model", seq);
  }
  torch::Tensor forward(const torch::Tensor& x) { return model_->forward(x); }

 private:
  torch::nn::Sequential model_{nullptr};
};
TORCH_MODULE(Generator);

// 70x70-style PatchGAN (pix2pix, n_layers = 3) on 12 channels:
// (stick t-1, stick t, frame t-1, frame t). Outputs raw scores for LSGAN.
class DiscriminatorImpl : public torch::nn::Module {
 public:
  explicit DiscriminatorImpl(const ModelConfig& c) {
    const std::int64_t nf = c.ndf;
    model_ = register_module(
        "model",
        torch::nn::Sequential(
            torch::nn::Conv2d(conv(12, nf, 4).stride(2).padding(1)),
            torch::nn::LeakyReLU(
                torch::nn::LeakyReLUOptions().negative_slope(kLeakySlope).inplace(true)),
            torch::nn::Conv2d(conv(nf, nf * 2, 4).stride(2).padding(1)), instanceNorm(nf * 2),
            torch::nn::LeakyReLU(
                torch::nn::LeakyReLUOptions().negative_slope(kLeakySlope).inplace(true)),
            torch::nn::Conv2d(conv(nf * 2, nf * 4, 4).stride(2).padding(1)), instanceNorm(nf * 4),
            torch::nn::LeakyReLU(
                torch::nn::LeakyReLUOptions().negative_slope(kLeakySlope).inplace(true)),
            torch::nn::Conv2d(conv(nf * 4, nf * 8, 4).stride(1).padding(1)), instanceNorm(nf * 8),
            torch::nn::LeakyReLU(
                torch::nn::LeakyReLUOptions().negative_slope(kLeakySlope).inplace(true)),
            torch::nn::Conv2d(conv(nf * 8, 1, 4).stride(1).padding(1))));
  }
  torch::Tensor forward(const torch::Tensor& x) { return model_->forward(x); }

 private:
  torch::nn::Sequential model_{nullptr};
};
TORCH_MODULE(Discriminator);

Status validateConfig(const ModelConfig& c) {
  auto inRange = [](int v, int lo, int hi) { return v >= lo && v <= hi; };
  if (!inRange(c.resolution, kMinResolution, kMaxResolution))
    return fail("model config: resolution must be in [" + std::to_string(kMinResolution) + ", " +
                std::to_string(kMaxResolution) + "], got " + std::to_string(c.resolution));
  if (!inRange(c.ngf, 1, kMaxFilters))
    return fail("model config: ngf must be in [1, " + std::to_string(kMaxFilters) + "], got " +
                std::to_string(c.ngf));
  if (!inRange(c.ndf, 1, kMaxFilters))
    return fail("model config: ndf must be in [1, " + std::to_string(kMaxFilters) + "], got " +
                std::to_string(c.ndf));
  if (!inRange(c.downsamples, 0, kMaxDownsamples))
    return fail("model config: downsamples must be in [0, " + std::to_string(kMaxDownsamples) +
                "], got " + std::to_string(c.downsamples));
  if (!inRange(c.blocks, 0, kMaxBlocks))
    return fail("model config: blocks must be in [0, " + std::to_string(kMaxBlocks) + "], got " +
                std::to_string(c.blocks));
  const int factor = 1 << c.downsamples;
  // The bottleneck must be a whole number of pixels, and at least 2 wide for
  // the residual blocks' reflection padding.
  if (c.resolution % factor != 0 || c.resolution / factor < 2)
    return fail("model config: resolution " + std::to_string(c.resolution) +
                " must be divisible by 2^downsamples = " + std::to_string(factor) +
                " and leave at least 2 pixels at the bottleneck");
  return okStatus();
}

Status validateTrainConfig(const TrainConfig& t) {
  if (!(t.budget_seconds > 0))
    return fail("train config: budget_seconds must be > 0, got " +
                std::to_string(t.budget_seconds));
  if (t.batch_size < 1)
    return fail("train config: batch_size must be >= 1, got " + std::to_string(t.batch_size));
  if (!(t.learning_rate > 0))
    return fail("train config: learning_rate must be > 0, got " + std::to_string(t.learning_rate));
  if (!(t.lambda_l1 >= 0))
    return fail("train config: lambda_l1 must be >= 0, got " + std::to_string(t.lambda_l1));
  if (t.max_iterations < 0)
    return fail("train config: max_iterations must be >= 0, got " +
                std::to_string(t.max_iterations));
  return okStatus();
}

Status checkImage(const cv::Mat& m, int resolution, const std::string& what) {
  if (m.type() != CV_8UC3)
    return fail(what + " has type " + cv::typeToString(m.type()) +
                ", expected CV_8UC3 (8-bit BGR)");
  if (m.cols != resolution || m.rows != resolution)
    return fail(what + " is " + std::to_string(m.cols) + "x" + std::to_string(m.rows) +
                ", expected " + std::to_string(resolution) + "x" + std::to_string(resolution) +
                " (ModelConfig::resolution)");
  return okStatus();
}

// N images (already validated as CV_8UC3, R x R) -> uint8 tensor N x 3 x R x R,
// BGR channel order kept. Stored as bytes: a quarter of the float size, and
// batches are converted on the fly (see toUnit).
torch::Tensor stackImages(std::span<const cv::Mat> images, int resolution) {
  const auto n = static_cast<std::int64_t>(images.size());
  auto hwc = torch::empty({n, resolution, resolution, 3}, torch::kUInt8);
  const std::size_t rowBytes = static_cast<std::size_t>(resolution) * 3;
  auto* dst = hwc.data_ptr<std::uint8_t>();
  for (const cv::Mat& m : images) {
    for (int y = 0; y < resolution; ++y) {
      std::memcpy(dst, m.ptr<std::uint8_t>(y), rowBytes);
      dst += rowBytes;
    }
  }
  return hwc.permute({0, 3, 1, 2}).contiguous();
}

// uint8 [0, 255] -> float [-1, 1].
torch::Tensor toUnit(const torch::Tensor& bytes) {
  return bytes.to(torch::kFloat32).div_(127.5).sub_(1.0);
}

// float N x 3 x R x R in [-1, 1] -> first image as an 8-bit BGR Mat.
cv::Mat toMat(const torch::Tensor& image) {
  auto bytes = image[0]
                   .detach()
                   .add(1.0)
                   .mul_(127.5)
                   .round_()
                   .clamp_(0, 255)
                   .to(torch::kUInt8)
                   .permute({1, 2, 0})
                   .contiguous()
                   .to(torch::kCPU);
  const int h = static_cast<int>(bytes.size(0));
  const int w = static_cast<int>(bytes.size(1));
  return cv::Mat(h, w, CV_8UC3, bytes.data_ptr<std::uint8_t>()).clone();
}

torch::Tensor configTensor(const ModelConfig& c) {
  return torch::tensor({c.resolution, c.ngf, c.ndf, c.downsamples, c.blocks}, torch::kInt64);
}

void setLearningRate(torch::optim::Adam& opt, double lr) {
  for (auto& group : opt.param_groups())
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

void setRequiresGrad(torch::nn::Module& module, bool on) {
  for (auto& p : module.parameters()) p.requires_grad_(on);
}

// Time-based schedule: constant, then linear decay to zero at the budget.
double scheduledLearningRate(double base, double elapsed, double budget) {
  const double frac = elapsed / budget;
  if (frac <= kConstantLrFraction) return base;
  return base * std::max(0.0, (1.0 - frac) / (1.0 - kConstantLrFraction));
}

}  // namespace

struct PoseToImageModel::Impl {
  Impl(const ModelConfig& c, torch::Device d)
      : config(c), device(d), generator(c), discriminator(c) {
    generator->to(device);
    discriminator->to(device);
  }
  ModelConfig config;
  torch::Device device;
  Generator generator;
  Discriminator discriminator;
};

PoseToImageModel::PoseToImageModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PoseToImageModel::~PoseToImageModel() = default;

Result<std::unique_ptr<PoseToImageModel>> PoseToImageModel::create(const ModelConfig& config,
                                                                   const std::string& device) {
  if (auto s = validateConfig(config); !s) return fail(s.error());
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
    }
    torch::manual_seed(kInitSeed);
    return std::unique_ptr<PoseToImageModel>(
        new PoseToImageModel(std::make_unique<Impl>(config, dev)));
  } catch (const std::exception& e) {
    return fail("cannot create model on device '" + device + "': " + e.what());
  }
}

const ModelConfig& PoseToImageModel::config() const { return impl_->config; }

std::string PoseToImageModel::deviceName() const { return impl_->device.str(); }

Status PoseToImageModel::save(const std::string& path) const {
  // Write next to the target and rename, so a crash never leaves a truncated
  // checkpoint where the previous good one was.
  const std::string tmp = path + ".tmp";
  try {
    torch::serialize::OutputArchive archive;
    torch::serialize::OutputArchive g;
    torch::serialize::OutputArchive d;
    impl_->generator->save(g);
    impl_->discriminator->save(d);
    archive.write("generator", g);
    archive.write("discriminator", d);
    archive.write("config", configTensor(impl_->config));
    archive.save_to(tmp);
  } catch (const std::exception& e) {
    return fail("cannot save checkpoint '" + path + "': " + e.what());
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec)
    return fail("cannot save checkpoint '" + path + "': rename from '" + tmp +
                "' failed: " + ec.message());
  return okStatus();
}

Status PoseToImageModel::load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return fail("cannot load checkpoint '" + path + "': no such file");
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, impl_->device);
    torch::Tensor stored;
    if (!archive.try_read("config", stored) || stored.numel() != kConfigFields)
      return fail("cannot load checkpoint '" + path + "': it has no model config record");
    stored = stored.to(torch::kCPU, torch::kInt64);
    const auto* v = stored.data_ptr<std::int64_t>();
    const ModelConfig theirs{static_cast<int>(v[0]), static_cast<int>(v[1]), static_cast<int>(v[2]),
                             static_cast<int>(v[3]), static_cast<int>(v[4])};
    if (!sameConfig(theirs, impl_->config))
      return fail("cannot load checkpoint '" + path + "': it was made with model config " +
                  describe(theirs) + " but this model has config " + describe(impl_->config));
    // Load into fresh modules first so that a failure halfway leaves this
    // model's weights untouched.
    Generator g(impl_->config);
    Discriminator d(impl_->config);
    torch::serialize::InputArchive ga;
    torch::serialize::InputArchive da;
    archive.read("generator", ga);
    archive.read("discriminator", da);
    g->load(ga);
    d->load(da);
    g->to(impl_->device);
    d->to(impl_->device);
    impl_->generator = g;
    impl_->discriminator = d;
    return okStatus();
  } catch (const std::exception& e) {
    return fail("cannot load checkpoint '" + path + "': " + e.what());
  }
}

Result<TrainResult> PoseToImageModel::train(
    std::span<const cv::Mat> sticks, std::span<const cv::Mat> frames, const TrainConfig& config,
    const std::function<void(const TrainProgress&)>& progress, std::stop_token stop) {
  if (auto s = validateTrainConfig(config); !s) return fail(s.error());
  if (sticks.size() != frames.size())
    return fail("train: sticks and frames must pair up, got " + std::to_string(sticks.size()) +
                " sticks vs " + std::to_string(frames.size()) + " frames");
  if (sticks.size() < 2)
    return fail("train: need at least 2 consecutive frames, got " + std::to_string(sticks.size()));
  const int res = impl_->config.resolution;
  for (std::size_t i = 0; i < sticks.size(); ++i) {
    if (auto s = checkImage(sticks[i], res, "train: stick " + std::to_string(i)); !s)
      return fail(s.error());
    if (auto s = checkImage(frames[i], res, "train: frame " + std::to_string(i)); !s)
      return fail(s.error());
  }

  try {
    const auto start = Clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
    const torch::Device dev = impl_->device;
    const torch::Tensor allSticks = stackImages(sticks, res).to(dev);
    const torch::Tensor allFrames = stackImages(frames, res).to(dev);

    Generator& gen = impl_->generator;
    Discriminator& disc = impl_->discriminator;
    gen->train();
    disc->train();
    auto adam = [&](torch::nn::Module& m) {
      return torch::optim::Adam(
          m.parameters(),
          torch::optim::AdamOptions(config.learning_rate).betas({kAdamBeta1, kAdamBeta2}));
    };
    torch::optim::Adam optG = adam(*gen);
    torch::optim::Adam optD = adam(*disc);

    // Sample index i of the pair (i-1, i) as shuffled epochs over 1..N-1, so
    // every pair is seen once before any is seen twice.
    std::mt19937_64 rng(config.seed);
    std::vector<std::int64_t> order(sticks.size() - 1);
    std::iota(order.begin(), order.end(), std::int64_t{1});
    std::size_t next = order.size();
    std::vector<std::int64_t> batchIdx(static_cast<std::size_t>(config.batch_size));

    TrainProgress p;
    p.budget_seconds = config.budget_seconds;
    // Loss values stay tensors until reported, so a CUDA step does not sync.
    torch::Tensor lastG, lastD, lastL1;
    double lastReport = 0;
    std::int64_t reportedIterations = -1;
    auto report = [&] {
      p.elapsed_seconds = elapsed();
      if (lastG.defined()) {
        p.loss_g = lastG.item<float>();
        p.loss_d = lastD.item<float>();
        p.loss_l1 = lastL1.item<float>();
      }
      lastReport = p.elapsed_seconds;
      reportedIterations = p.iterations;
      if (progress) progress(p);
    };

    while (!stop.stop_requested()) {
      const double now = elapsed();
      if (now >= config.budget_seconds) break;
      if (config.max_iterations > 0 && p.iterations >= config.max_iterations) break;
      const double lr = scheduledLearningRate(config.learning_rate, now, config.budget_seconds);
      setLearningRate(optG, lr);
      setLearningRate(optD, lr);

      for (auto& idx : batchIdx) {
        if (next == order.size()) {
          std::shuffle(order.begin(), order.end(), rng);
          next = 0;
        }
        idx = order[next++];
      }
      const auto cur = torch::tensor(batchIdx, torch::kInt64).to(dev);
      const auto prev = cur - 1;
      const auto stickPrev = toUnit(allSticks.index_select(0, prev));
      const auto stickCur = toUnit(allSticks.index_select(0, cur));
      const auto framePrev = toUnit(allFrames.index_select(0, prev));
      const auto frameCur = toUnit(allFrames.index_select(0, cur));

      // Two unrolled steps as in EDN: frame t-1 from zeros, frame t from the
      // generated t-1. The fed-back frame is detached: cheaper, and the L1 on
      // prevFake still trains the first step.
      const auto prevFake = gen->forward(torch::cat({stickPrev, torch::zeros_like(framePrev)}, 1));
      const auto fake = gen->forward(torch::cat({stickCur, prevFake.detach()}, 1));
      const auto realPair = torch::cat({stickPrev, stickCur, framePrev, frameCur}, 1);
      const auto fakePair = torch::cat({stickPrev, stickCur, prevFake, fake}, 1);

      setRequiresGrad(*disc, true);
      const auto dReal = disc->forward(realPair);
      const auto dFake = disc->forward(fakePair.detach());
      const auto lossD = 0.5 * (torch::mse_loss(dReal, torch::ones_like(dReal)) +
                                torch::mse_loss(dFake, torch::zeros_like(dFake)));
      optD.zero_grad();
      lossD.backward();
      optD.step();

      // D's weights need no gradient for the generator's step.
      setRequiresGrad(*disc, false);
      const auto dFakeG = disc->forward(fakePair);
      const auto lossL1 = torch::l1_loss(fake, frameCur) + torch::l1_loss(prevFake, framePrev);
      const auto lossG =
          torch::mse_loss(dFakeG, torch::ones_like(dFakeG)) + config.lambda_l1 * lossL1;
      optG.zero_grad();
      lossG.backward();
      optG.step();

      lastG = lossG.detach();
      lastD = lossD.detach();
      lastL1 = lossL1.detach();
      ++p.iterations;
      if (elapsed() - lastReport >= kProgressPeriodSeconds) report();
    }
    setRequiresGrad(*disc, true);
    if (reportedIterations != p.iterations)
      report();  // the final state, unless just reported
    else
      p.elapsed_seconds = elapsed();

    TrainResult result;
    result.iterations = p.iterations;
    result.seconds = p.elapsed_seconds;
    result.iterations_per_second =
        result.seconds > 0 ? static_cast<double>(result.iterations) / result.seconds : 0;
    result.last = p;
    return result;
  } catch (const std::exception& e) {
    setRequiresGrad(*impl_->discriminator, true);
    return fail(std::string("train: ") + e.what());
  }
}

Result<cv::Mat> PoseToImageModel::generate(const cv::Mat& stick, const cv::Mat& previous) {
  const int res = impl_->config.resolution;
  if (auto s = checkImage(stick, res, "generate: stick"); !s) return fail(s.error());
  if (!previous.empty()) {
    if (auto s = checkImage(previous, res, "generate: previous frame"); !s) return fail(s.error());
  }
  try {
    torch::NoGradGuard noGrad;
    impl_->generator->eval();
    const torch::Device dev = impl_->device;
    const auto stickT = toUnit(stackImages(std::span<const cv::Mat>(&stick, 1), res).to(dev));
    const auto prevT =
        previous.empty() ? torch::zeros_like(stickT)
                         : toUnit(stackImages(std::span<const cv::Mat>(&previous, 1), res).to(dev));
    return toMat(impl_->generator->forward(torch::cat({stickT, prevT}, 1)));
  } catch (const std::exception& e) {
    return fail(std::string("generate: ") + e.what());
  }
}

}  // namespace booth
