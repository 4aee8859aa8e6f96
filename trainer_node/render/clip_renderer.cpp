#include "trainer_node/render/clip_renderer.h"

#include <cmath>
#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "common/synthetic/choreography.h"
#include "common/pose/stick_figure.h"
#include "common/synthetic/synthetic_performer.h"
#include "trainer_node/render/mp4_writer.h"

namespace booth {

int clipFrameCount(const RenderConfig& config) {
  return std::max(1, static_cast<int>(std::lround(config.seconds * config.fps)));
}

Result<ClipInfo> renderClip(PoseToImageModel& model, const FloorStats& visitor_floor,
                            const RenderConfig& config, const std::string& path,
                            const std::function<void(double)>& progress) {
  const ChoreographySpec* spec = findChoreography(config.choreography);
  if (!spec) return fail("unknown reference choreography '" + config.choreography + "'");
  const PerformerLook* pro = findPerformer(config.reference_performer);
  if (!pro) return fail("unknown reference performer '" + config.reference_performer + "'");
  if (config.panel_size < 16 || config.panel_size % 2) {
    return fail("panel size " + std::to_string(config.panel_size) + " must be even and >= 16");
  }
  const cv::Size stage_size(640, 480);
  const Choreography dance(*spec, pro->body, Stage{stage_size}, config.seed);
  const int n = clipFrameCount(config);
  std::vector<Pose> reference;
  reference.reserve(n);
  for (int i = 0; i < n; ++i) reference.push_back(dance.poseAt(i / config.fps));
  auto source_floor = computeFloorStats(reference);
  if (!source_floor) return fail("reference choreography has no usable ankles");
  PoseNormalizer normalizer(*source_floor, visitor_floor);

  const int res = model.config().resolution;
  const int panel = config.panel_size;
  Mp4Writer writer;
  if (auto st = writer.open(path, panel * 3, panel, config.fps); !st.ok()) return fail(st.error());
  cv::Mat previous;
  const int side = std::min(stage_size.width, stage_size.height);
  const cv::Rect pro_crop((stage_size.width - side) / 2, stage_size.height - side, side, side);
  for (int i = 0; i < n; ++i) {
    const Pose mapped = normalizer.apply(reference[i]);
    const cv::Mat stick = renderStickFigure(mapped, cv::Size(res, res));
    auto generated = model.generate(stick, previous);
    if (!generated.ok())
      return fail("generator failed at frame " + std::to_string(i) + ": " + generated.error());
    previous = generated.value();

    cv::Mat canvas(panel, panel * 3, CV_8UC3);
    const cv::Mat pro_frame = renderPerformer(*pro, reference[i], stage_size);
    cv::resize(pro_frame(pro_crop), canvas(cv::Rect(0, 0, panel, panel)), cv::Size(panel, panel), 0,
               0, cv::INTER_AREA);
    cv::resize(stick, canvas(cv::Rect(panel, 0, panel, panel)), cv::Size(panel, panel), 0, 0,
               cv::INTER_NEAREST);
    cv::resize(previous, canvas(cv::Rect(panel * 2, 0, panel, panel)), cv::Size(panel, panel), 0, 0,
               cv::INTER_CUBIC);
    if (auto st = writer.write(canvas); !st.ok()) return fail(st.error());
    if (progress) progress(static_cast<double>(i + 1) / n);
  }
  if (auto st = writer.close(); !st.ok()) return fail(st.error());
  ClipInfo info;
  info.frames = n;
  info.width = panel * 3;
  info.height = panel;
  std::error_code ec;
  info.bytes = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  return info;
}

}  // namespace booth
