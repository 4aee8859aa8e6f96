#include "trainer_node/render/clip_renderer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include <opencv2/imgproc.hpp>

#include "common/pose/stick_figure.h"
#include "common/pose/choreography_file.h"
#include "common/synthetic/choreography.h"
#include "common/synthetic/synthetic_performer.h"
#include "trainer_node/render/mp4_writer.h"
#include "trainer_node/train/face_box.h"

namespace booth {
namespace {

const cv::Size kStage(640, 480);

// Removes the partial file unless released (the clip was completed).
class PartialFile {
 public:
  explicit PartialFile(std::string path) : path_(std::move(path)) {}
  ~PartialFile() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;
  void release() { path_.clear(); }

 private:
  std::string path_;
};

}  // namespace

int clipFrameCount(const RenderConfig& config) {
  return std::max(1, static_cast<int>(std::lround(config.seconds * config.fps)));
}

namespace {

// An imported choreography's poses, from its video's pixels into the
// reference stage (fitted, standing on the stage's bottom edge); a frame
// without a dancer holds the nearest pose before it (or after, at the start).
Result<std::vector<Pose>> importedPoses(const RenderConfig& config, int n) {
  if (config.choreography_dir.empty() || !ChoreographyFile::isValidName(config.choreography))
    return fail("unknown reference choreography '" + config.choreography + "'");
  const auto path = config.choreography_dir / (config.choreography + ".json");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return fail("unknown reference choreography '" + config.choreography + "' (not built in, no " +
                path.string() + ")");
  }
  auto file = ChoreographyFile::load(path);
  if (!file.ok()) return fail("reference choreography: " + file.error());
  if (file->frames.empty() || file->width <= 0 || file->height <= 0)
    return fail("reference choreography " + path.string() + " has no frames or no frame size");
  const double scale = std::min(static_cast<double>(kStage.width) / file->width,
                                static_cast<double>(kStage.height) / file->height);
  const double dx = (kStage.width - file->width * scale) / 2;
  const double dy = kStage.height - file->height * scale;
  std::vector<Pose> out;
  out.reserve(static_cast<std::size_t>(n));
  std::optional<Pose> last;
  int leading_empty = 0;
  for (int i = 0; i < n; ++i) {
    Pose p = file->poseAt(i / config.fps);
    if (p.validCount() == 0) {
      if (last) {
        out.push_back(*last);
      } else {
        out.push_back(p);
        ++leading_empty;
      }
      continue;
    }
    for (Keypoint& k : p.points) {
      k.x = static_cast<float>(k.x * scale + dx);
      k.y = static_cast<float>(k.y * scale + dy);
    }
    last = p;
    out.push_back(p);
  }
  if (!last) return fail("reference choreography " + path.string() + " shows no dancer");
  for (int i = leading_empty - 1; i >= 0; --i) out[static_cast<std::size_t>(i)] = out[static_cast<std::size_t>(i) + 1];
  return out;
}

}  // namespace

Result<ClipPoses> clipPoses(const RenderConfig& config, const FloorStats& visitor_floor) {
  const PerformerLook* pro = findPerformer(config.reference_performer);
  if (!pro) return fail("unknown reference performer '" + config.reference_performer + "'");
  const int n = clipFrameCount(config);
  ClipPoses poses;
  poses.reference.reserve(static_cast<std::size_t>(n));
  if (const ChoreographySpec* spec = findChoreography(config.choreography)) {
    const Choreography dance(*spec, pro->body, Stage{kStage}, config.seed);
    for (int i = 0; i < n; ++i) poses.reference.push_back(dance.poseAt(i / config.fps));
  } else {
    auto imported = importedPoses(config, n);
    if (!imported.ok()) return fail(imported.error());
    poses.reference = std::move(imported.value());
  }
  auto source_floor = computeFloorStats(poses.reference);
  if (!source_floor) return fail("reference choreography has no usable ankles");
  PoseNormalizer normalizer(*source_floor, visitor_floor);
  for (const Pose& p : poses.reference) poses.mapped.push_back(normalizer.apply(p));
  return poses;
}

namespace {

// One clip frame: the three panels side by side.
Result<cv::Mat> composeFrame(PoseToImageModel& model, const VisitorFrame& visitor,
                             const RenderConfig& config, const PerformerLook& pro,
                             const ClipPoses& poses, std::size_t i) {
  const int res = model.config().resolution;
  const int panel = config.panel_size;
  const int side = std::min(kStage.width, kStage.height);
  const cv::Rect pro_crop((kStage.width - side) / 2, kStage.height - side, side, side);
  const Pose& mapped = poses.mapped[i];
  const cv::Mat stick = renderStickFigure(mapped, cv::Size(res, res));
  std::optional<cv::Rect> box;
  if (config.face_gan && visitor.face_side > 0)
    box = faceBox(mapped, visitor.face_side, cv::Size(res, res));
  auto generated = model.nextFrame(stick, mapped, box);
  if (!generated.ok())
    return fail("generator failed at frame " + std::to_string(i) + ": " + generated.error());
  cv::Mat canvas(panel, panel * 3, CV_8UC3);
  const cv::Mat pro_frame = renderPerformer(pro, poses.reference[i], kStage);
  cv::resize(pro_frame(pro_crop), canvas(cv::Rect(0, 0, panel, panel)), cv::Size(panel, panel), 0,
             0, cv::INTER_AREA);
  cv::resize(stick, canvas(cv::Rect(panel, 0, panel, panel)), cv::Size(panel, panel), 0, 0,
             cv::INTER_NEAREST);
  cv::resize(generated.value(), canvas(cv::Rect(panel * 2, 0, panel, panel)),
             cv::Size(panel, panel), 0, 0, cv::INTER_CUBIC);
  return canvas;
}

}  // namespace

Result<double> measureRenderFrameSeconds(PoseToImageModel& model, const VisitorFrame& visitor,
                                         const RenderConfig& config, int frames,
                                         const std::function<double()>& now) {
  const auto seconds = [&now] {
    if (now) return now();
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  const PerformerLook* pro = findPerformer(config.reference_performer);
  if (!pro) return fail("unknown reference performer '" + config.reference_performer + "'");
  if (config.panel_size < 16 || config.panel_size % 2)
    return fail("panel size " + std::to_string(config.panel_size) + " must be even and >= 16");
  auto poses = clipPoses(config, visitor.floor);
  if (!poses.ok()) return fail(poses.error());
  const auto n = std::min<std::size_t>(poses->mapped.size(), static_cast<std::size_t>(std::max(1, frames)));
  model.startSequence();
  // The first frame warms up the allocator and libtorch's kernels: untimed.
  if (auto f = composeFrame(model, visitor, config, *pro, *poses, 0); !f.ok()) return fail(f.error());
  const double t0 = seconds();
  for (std::size_t i = 0; i < n; ++i) {
    if (auto f = composeFrame(model, visitor, config, *pro, *poses, i); !f.ok()) return fail(f.error());
  }
  model.startSequence();
  return (seconds() - t0) / static_cast<double>(n);
}

Result<ClipInfo> renderClip(PoseToImageModel& model, const VisitorFrame& visitor,
                            const RenderConfig& config, const std::string& path,
                            const RenderHooks& hooks) {
  const PerformerLook* pro = findPerformer(config.reference_performer);
  if (!pro) return fail("unknown reference performer '" + config.reference_performer + "'");
  if (config.panel_size < 16 || config.panel_size % 2) {
    return fail("panel size " + std::to_string(config.panel_size) + " must be even and >= 16");
  }
  auto poses = clipPoses(config, visitor.floor);
  if (!poses.ok()) return fail(poses.error());
  const int n = static_cast<int>(poses->mapped.size());
  const int panel = config.panel_size;
  const std::string partial = path + kPartialClipSuffix;
  PartialFile cleanup(partial);
  Mp4Writer writer;
  if (auto st = writer.open(partial, panel * 3, panel, config.fps); !st.ok()) return fail(st.error());
  model.startSequence();
  for (int i = 0; i < n; ++i) {
    if (hooks.should_stop && hooks.should_stop()) return fail("cancelled");
    auto canvas = composeFrame(model, visitor, config, *pro, *poses, static_cast<std::size_t>(i));
    if (!canvas.ok()) return fail(canvas.error());
    if (auto st = writer.write(canvas.value()); !st.ok()) return fail(st.error());
    if (hooks.progress) hooks.progress(static_cast<double>(i + 1) / n);
  }
  if (auto st = writer.close(); !st.ok()) return fail(st.error());
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) return fail("cannot move the finished clip to " + path + ": " + ec.message());
  cleanup.release();
  ClipInfo info;
  info.frames = n;
  info.width = panel * 3;
  info.height = panel;
  info.bytes = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  return info;
}

}  // namespace booth
