#include "trainer_node/train/model_config.h"

#include <cmath>
#include <sstream>

namespace booth {
namespace {

constexpr int kMinResolution = 32;
constexpr int kMaxResolution = 2048;
constexpr int kMaxFilters = 512;
constexpr int kMaxDownsamples = 6;
constexpr int kMaxBlocks = 64;
constexpr int kMaxScales = 5;
constexpr int kMaxLayers = 6;

Status range(const char* what, int value, int lo, int hi) {
  if (value >= lo && value <= hi) return okStatus();
  return fail(std::string("model config: ") + what + " must be in [" + std::to_string(lo) + ", " +
              std::to_string(hi) + "], got " + std::to_string(value));
}

std::string number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

const char* generatorKindName(GeneratorKind kind) {
  return kind == GeneratorKind::kWarp ? "warp" : "pose";
}

Result<GeneratorKind> parseGeneratorKind(const std::string& name) {
  if (name == "pose") return GeneratorKind::kPose;
  if (name == "warp") return GeneratorKind::kWarp;
  return fail("generator must be 'pose' or 'warp', got '" + name + "'");
}

std::string describe(const ModelConfig& c) {
  std::ostringstream out;
  out << "{generator=" << generatorKindName(c.generator) << ", resolution=" << c.resolution << ", ngf=" << c.ngf << ", downsamples=" << c.downsamples
      << ", blocks=" << c.blocks << ", ndf=" << c.ndf << ", d_scales=" << c.d_scales
      << ", d_layers=" << c.d_layers << ", face_ngf=" << c.face_ngf
      << ", face_blocks=" << c.face_blocks << ", face_ndf=" << c.face_ndf
      << ", face_d_layers=" << c.face_d_layers << "}";
  return out.str();
}

Status validate(const ModelConfig& c) {
  for (auto s : {range("resolution", c.resolution, kMinResolution, kMaxResolution),
                 range("ngf", c.ngf, 1, kMaxFilters), range("downsamples", c.downsamples, 0, kMaxDownsamples),
                 range("blocks", c.blocks, 0, kMaxBlocks), range("ndf", c.ndf, 1, kMaxFilters),
                 range("d_scales", c.d_scales, 1, kMaxScales), range("d_layers", c.d_layers, 1, kMaxLayers),
                 range("face_ngf", c.face_ngf, 1, kMaxFilters),
                 range("face_blocks", c.face_blocks, 0, kMaxBlocks),
                 range("face_ndf", c.face_ndf, 1, kMaxFilters),
                 range("face_d_layers", c.face_d_layers, 1, kMaxLayers)}) {
    if (!s) return s;
  }
  const int factor = 1 << c.downsamples;
  // The bottleneck must be a whole number of pixels, and at least 2 wide for
  // the residual blocks' reflection padding.
  if (c.resolution % factor != 0 || c.resolution / factor < 2)
    return fail("model config: resolution " + std::to_string(c.resolution) +
                " must be divisible by 2^downsamples = " + std::to_string(factor) +
                " and leave at least 2 pixels at the bottleneck");
  // The coarsest discriminator scale still needs a few pixels to look at.
  if ((c.resolution >> (c.d_scales - 1)) < 16)
    return fail("model config: d_scales " + std::to_string(c.d_scales) + " at resolution " +
                std::to_string(c.resolution) + " leaves the coarsest scale under 16 pixels");
  return okStatus();
}

const char* precisionName(Precision p) { return p == Precision::kBfloat16 ? "bf16" : "fp32"; }

Status validate(const TrainConfig& t) {
  if (!(t.budget_seconds > 0) || !std::isfinite(t.budget_seconds))
    return fail("train config: budget_seconds must be > 0, got " + number(t.budget_seconds));
  if (t.max_iterations < 0)
    return fail("train config: max_iterations must be >= 0, got " + std::to_string(t.max_iterations));
  if (t.batch_size < 1 || t.batch_size > 256)
    return fail("train config: batch_size must be in [1, 256], got " + std::to_string(t.batch_size));
  if (!(t.learning_rate > 0))
    return fail("train config: learning_rate must be > 0, got " + number(t.learning_rate));
  if (!(t.constant_lr_fraction >= 0 && t.constant_lr_fraction < 1))
    return fail("train config: constant_lr_fraction must be in [0, 1), got " +
                number(t.constant_lr_fraction));
  if (!(t.lambda_l1 >= 0) || !(t.lambda_feat >= 0) || !(t.lambda_gan >= 0) || !(t.face_lambda_l1 >= 0) ||
      !(t.lambda_l2sp >= 0))
    return fail("train config: loss weights must be >= 0, got l1=" + number(t.lambda_l1) +
                " feat=" + number(t.lambda_feat) + " gan=" + number(t.lambda_gan) +
                " face_l1=" + number(t.face_lambda_l1) + " l2sp=" + number(t.lambda_l2sp));
  if (!(t.d_learning_rate_scale > 0 && t.d_learning_rate_scale <= 10))
    return fail("train config: d_learning_rate_scale must be in (0, 10], got " +
                number(t.d_learning_rate_scale));
  if (!(t.instance_noise >= 0 && t.instance_noise <= 2))
    return fail("train config: instance_noise must be in [0, 2], got " + number(t.instance_noise));
  if (!(t.face_fraction >= 0 && t.face_fraction <= 0.9))
    return fail("train config: face_fraction must be in [0, 0.9], got " + number(t.face_fraction));
  if (!(t.eval_seconds >= 0))
    return fail("train config: eval_seconds must be >= 0, got " + number(t.eval_seconds));
  return okStatus();
}

}  // namespace booth
