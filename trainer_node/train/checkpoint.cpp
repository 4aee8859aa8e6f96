#include "trainer_node/train/checkpoint.h"

#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "common/os/durable_file.h"

namespace booth {
namespace {

// Every ModelConfig field by name: the one list that save, load and the
// mismatch message share.
struct ConfigField {
  const char* name;
  int ModelConfig::*member;
};
constexpr ConfigField kConfigFields[] = {
    {"resolution", &ModelConfig::resolution},
    {"ngf", &ModelConfig::ngf},
    {"downsamples", &ModelConfig::downsamples},
    {"blocks", &ModelConfig::blocks},
    {"ndf", &ModelConfig::ndf},
    {"d_scales", &ModelConfig::d_scales},
    {"d_layers", &ModelConfig::d_layers},
    {"face_ngf", &ModelConfig::face_ngf},
    {"face_blocks", &ModelConfig::face_blocks},
    {"face_ndf", &ModelConfig::face_ndf},
    {"face_d_layers", &ModelConfig::face_d_layers},
};

torch::Tensor scalar(double v) { return torch::tensor({v}, torch::kFloat64); }
torch::Tensor integer(std::int64_t v) { return torch::tensor({v}, torch::kInt64); }

std::optional<double> readScalar(torch::serialize::InputArchive& a, const std::string& key) {
  torch::Tensor t;
  if (!a.try_read(key, t) || t.numel() != 1) return std::nullopt;
  return t.to(torch::kCPU, torch::kFloat64).item<double>();
}

// A pending copy into an existing parameter: loading stages every copy
// first and applies them only when the whole file matched.
using Staged = std::vector<std::pair<torch::Tensor, torch::Tensor>>;

// The pose generator's first convolution, whose input the warp generator
// widens (model_parts.h, generatorInput).
constexpr const char* kGeneratorHeadWeight = "generator.head.conv.weight";

Status stageModule(torch::nn::Module& module, torch::serialize::InputArchive& archive,
                   const std::string& where, Staged& staged, bool widen_head = false) {
  for (auto& p : module.named_parameters(/*recurse=*/false)) {
    torch::Tensor stored;
    if (!archive.try_read(p.key(), stored))
      return fail("it has no parameter '" + where + "." + p.key() + "'");
    if (widen_head && where + "." + p.key() == kGeneratorHeadWeight && stored.dim() == 4 &&
        p.value().dim() == 4 && stored.size(1) < p.value().size(1) &&
        stored.size(0) == p.value().size(0) && stored.size(2) == p.value().size(2) &&
        stored.size(3) == p.value().size(3)) {
      auto widened = torch::zeros_like(p.value());
      widened.narrow(1, 0, stored.size(1)).copy_(stored);
      staged.emplace_back(p.value(), widened);
      continue;
    }
    if (stored.sizes() != p.value().sizes())
      return fail("parameter '" + where + "." + p.key() + "' has shape " +
                  c10::str(stored.sizes()) + ", the model's is " + c10::str(p.value().sizes()));
    staged.emplace_back(p.value(), stored);
  }
  for (auto& child : module.named_children()) {
    torch::serialize::InputArchive nested;
    if (!archive.try_read(child.key(), nested))
      return fail("it has no submodule '" + where + "." + child.key() + "'");
    if (auto s = stageModule(*child.value(), nested, where + "." + child.key(), staged, widen_head); !s)
      return s;
  }
  return okStatus();
}

constexpr std::int64_t kFormatWithoutGeneratorKind = 2;

Result<ModelConfig> configFrom(torch::serialize::InputArchive& archive) {
  ModelConfig c;
  for (const auto& f : kConfigFields) {
    const auto v = readScalar(archive, std::string("config.") + f.name);
    if (!v) return fail(std::string("it has no config field '") + f.name + "'");
    c.*f.member = static_cast<int>(*v);
  }
  // Format 2 had one kind of generator, the pose generator.
  c.generator = GeneratorKind::kPose;
  if (const auto kind = readScalar(archive, "config.generator")) {
    if (*kind != 0 && *kind != 1)
      return fail("its generator kind " + std::to_string(static_cast<std::int64_t>(*kind)) +
                  " is unknown (0 pose, 1 warp)");
    c.generator = *kind == 1 ? GeneratorKind::kWarp : GeneratorKind::kPose;
  }
  return c;
}

Status checkFormat(torch::serialize::InputArchive& archive) {
  const auto version = readScalar(archive, "format_version");
  if (!version) {
    torch::Tensor old;
    if (archive.try_read("config", old))
      return fail(
          "it has checkpoint format 1 (positional layers, written by an older trainer), which "
          "this trainer cannot map onto its named layers; make a new base with "
          "'trainer_node pretrain'");
    return fail("it has no format_version record (not a booth checkpoint?)");
  }
  const auto v = static_cast<std::int64_t>(*version);
  if (v != kCheckpointFormat && v != kFormatWithoutGeneratorKind)
    return fail("it has checkpoint format " + std::to_string(v) + ", this trainer reads formats " +
                std::to_string(kFormatWithoutGeneratorKind) + " and " +
                std::to_string(kCheckpointFormat));
  return okStatus();
}

Result<torch::serialize::InputArchive> openArchive(const std::string& path,
                                                   torch::Device device) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return fail("no such file");
  torch::serialize::InputArchive archive;
  archive.load_from(path, device);
  return archive;
}

}  // namespace

Status saveCheckpoint(const ModelParts& parts, const std::string& path) {
  // Serialised in memory first, then written by replaceFile (temporary,
  // sync, rename): libtorch's file writer throws from its destructor when
  // the disk fills ("unexpected pos"), which ends the process; a write
  // error of ours is a value, and leaves no temporary behind.
  std::ostringstream bytes;
  try {
    torch::serialize::OutputArchive archive;
    archive.write("format_version", integer(kCheckpointFormat));
    for (const auto& f : kConfigFields)
      archive.write(std::string("config.") + f.name, integer(parts.config.*f.member));
    archive.write("config.generator", integer(static_cast<int>(parts.config.generator)));
    const std::pair<const char*, const torch::nn::Module*> networks[] = {
        {"generator", parts.generator.get()},
        {"discriminator", parts.discriminator.get()},
        {"face_generator", parts.face_generator.get()},
        {"face_discriminator", parts.face_discriminator.get()},
    };
    for (const auto& [name, module] : networks) {
      torch::serialize::OutputArchive nested;
      module->save(nested);
      archive.write(name, nested);
    }
    parts.generator_opt->save(archive, "optim.generator");
    parts.discriminator_opt->save(archive, "optim.discriminator");
    parts.face_generator_opt->save(archive, "optim.face_generator");
    parts.face_discriminator_opt->save(archive, "optim.face_discriminator");
    const TrainingState& s = parts.state;
    archive.write("state.seconds", scalar(s.seconds));
    archive.write("state.iterations", integer(s.iterations));
    archive.write("state.face_steps", integer(s.face_steps));
    archive.write("state.phase", integer(static_cast<int>(s.phase)));
    archive.write("state.budget_seconds", scalar(s.budget_seconds));
    archive.write("state.max_iterations", integer(s.max_iterations));
    archive.write("state.evaluations", integer(s.evaluations));
    archive.write("state.best_generator_error", scalar(s.best_generator_error));
    archive.write("state.best_face_error", scalar(s.best_face_error));
    if (s.best_generator.defined()) archive.write("state.best_generator", s.best_generator);
    if (s.best_face_generator.defined())
      archive.write("state.best_face_generator", s.best_face_generator);
    if (s.anchor_generator.defined()) archive.write("state.anchor_generator", s.anchor_generator);
    archive.save_to(bytes);
  } catch (const std::exception& e) {
    return fail("cannot save checkpoint '" + path + "': " + e.what());
  }
  if (auto st = replaceFile(path, bytes.view()); !st.ok())
    return fail("cannot save checkpoint '" + path + "': " + st.error());
  return okStatus();
}

Status loadCheckpoint(ModelParts& parts, const std::string& path, LoadMode mode) {
  auto bad = [&](const std::string& why) { return fail("cannot load checkpoint '" + path + "': " + why); };
  try {
    auto opened = openArchive(path, parts.device);
    if (!opened.ok()) return bad(opened.error());
    torch::serialize::InputArchive& archive = opened.value();
    if (auto s = checkFormat(archive); !s) return bad(s.error());
    auto theirs = configFrom(archive);
    if (!theirs.ok()) return bad(theirs.error());
    const bool from_pose_base = mode == LoadMode::kWeightsFromPoseBase;
    if (from_pose_base && (theirs->generator != GeneratorKind::kPose ||
                           parts.config.generator != GeneratorKind::kWarp))
      return bad(std::string("only a 'pose' generator's checkpoint loads into a 'warp' model this "
                             "way; it holds a '") +
                 generatorKindName(theirs->generator) + "' generator and this model is '" +
                 generatorKindName(parts.config.generator) + "'");
    ModelConfig comparable = theirs.value();
    if (from_pose_base) comparable.generator = parts.config.generator;
    if (!from_pose_base && theirs->generator != parts.config.generator) {
      const std::string held = generatorKindName(theirs->generator);
      const std::string wanted = generatorKindName(parts.config.generator);
      return bad("it holds a '" + held + "' generator, but this trainer is configured for the '" +
                 wanted + "' generator (--generator " + wanted +
                 "), whose inputs differ; run with --generator " + held +
                 ", or make a base for it with 'trainer_node pretrain --generator " + wanted + "'");
    }
    if (!(comparable == parts.config))
      return bad("it was made with model config " + describe(theirs.value()) +
                 " but this model has config " + describe(parts.config));

    Staged staged;
    const std::pair<const char*, torch::nn::Module*> networks[] = {
        {"generator", parts.generator.get()},
        {"discriminator", parts.discriminator.get()},
        {"face_generator", parts.face_generator.get()},
        {"face_discriminator", parts.face_discriminator.get()},
    };
    for (const auto& [name, module] : networks) {
      torch::serialize::InputArchive nested;
      if (!archive.try_read(name, nested)) return bad(std::string("it has no network '") + name + "'");
      if (auto s = stageModule(*module, nested, name, staged, from_pose_base); !s) return bad(s.error());
    }

    TrainingState state;
    if (mode == LoadMode::kResume) {
      state.seconds = readScalar(archive, "state.seconds").value_or(0);
      state.iterations = static_cast<std::int64_t>(readScalar(archive, "state.iterations").value_or(0));
      state.face_steps = static_cast<std::int64_t>(readScalar(archive, "state.face_steps").value_or(0));
      const int phase = static_cast<int>(readScalar(archive, "state.phase").value_or(0));
      if (phase < 0 || phase > static_cast<int>(TrainPhase::kDone))
        return bad("its training phase " + std::to_string(phase) + " is unknown");
      state.phase = static_cast<TrainPhase>(phase);
      state.budget_seconds = readScalar(archive, "state.budget_seconds").value_or(0);
      state.max_iterations =
          static_cast<std::int64_t>(readScalar(archive, "state.max_iterations").value_or(0));
      state.evaluations =
          static_cast<std::int64_t>(readScalar(archive, "state.evaluations").value_or(0));
      state.best_generator_error =
          readScalar(archive, "state.best_generator_error").value_or(state.best_generator_error);
      state.best_face_error =
          readScalar(archive, "state.best_face_error").value_or(state.best_face_error);
      torch::Tensor best;
      if (archive.try_read("state.best_generator", best)) {
        if (best.numel() != parts.generator_opt->parameterCount())
          return bad("its best generator has " + std::to_string(best.numel()) + " values");
        state.best_generator = best.to(parts.device);
      }
      torch::Tensor best_face;
      if (archive.try_read("state.best_face_generator", best_face)) {
        if (best_face.numel() != parts.face_generator_opt->parameterCount())
          return bad("its best face generator has " + std::to_string(best_face.numel()) + " values");
        state.best_face_generator = best_face.to(parts.device);
      }
      torch::Tensor anchor;
      if (archive.try_read("state.anchor_generator", anchor)) {
        if (anchor.numel() != parts.generator_opt->parameterCount())
          return bad("its L2-SP anchor has " + std::to_string(anchor.numel()) + " values");
        state.anchor_generator = anchor.to(parts.device);
      }
      // Optimizer state is checked before anything is changed.
      const std::pair<const char*, FlatAdam*> optimizers[] = {
          {"optim.generator", parts.generator_opt.get()},
          {"optim.discriminator", parts.discriminator_opt.get()},
          {"optim.face_generator", parts.face_generator_opt.get()},
          {"optim.face_discriminator", parts.face_discriminator_opt.get()},
      };
      torch::Tensor probe;
      for (const auto& [key, opt] : optimizers) {
        if (!archive.try_read(std::string(key) + ".exp_avg", probe) ||
            probe.numel() != opt->parameterCount())
          return bad(std::string("its optimizer state '") + key + "' is missing or of another size");
        probe = torch::Tensor();
      }
      for (const auto& [key, opt] : optimizers) {
        if (auto s = opt->load(archive, key); !s) return bad(s.error());
      }
    }

    torch::NoGradGuard no_grad;
    for (auto& [param, stored] : staged) param.copy_(stored);
    if (mode != LoadMode::kResume) {
      parts.generator_opt->reset();
      parts.discriminator_opt->reset();
      parts.face_generator_opt->reset();
      parts.face_discriminator_opt->reset();
    }
    parts.state = std::move(state);
    return okStatus();
  } catch (const std::exception& e) {
    return bad(e.what());
  }
}

Result<ModelConfig> readCheckpointConfig(const std::string& path) {
  try {
    auto opened = openArchive(path, torch::kCPU);
    if (!opened.ok()) return fail("cannot read checkpoint '" + path + "': " + opened.error());
    if (auto s = checkFormat(opened.value()); !s)
      return fail("cannot read checkpoint '" + path + "': " + s.error());
    auto config = configFrom(opened.value());
    if (!config.ok()) return fail("cannot read checkpoint '" + path + "': " + config.error());
    return config;
  } catch (const std::exception& e) {
    return fail("cannot read checkpoint '" + path + "': " + e.what());
  }
}

}  // namespace booth
