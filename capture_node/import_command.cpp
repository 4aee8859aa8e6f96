#include "capture_node/import_command.h"

#include <cstdio>
#include <iostream>
#include <regex>

#include <spdlog/spdlog.h>

#include "capture_node/capture_options.h"
#include "common/app/command_line.h"

namespace booth {
namespace po = boost::program_options;

Result<ImportCommandOptions> parseImportCommand(int argc, const char* const* argv) {
  ImportCommandOptions opt;
  std::string video;
  std::string out;
  std::string input = "auto";
  std::string mode = "top-down";
  std::string crop_model = "auto";
  std::string zone;
  po::options_description desc(
      "capture_node import-choreography: imports a dance video as a reference choreography "
      "(its dancer's keypoints, through the booth's own pose estimator, performer tracker and "
      "smoother).\nOptions (also accepted as key=value lines in --config)");
  addStandardOptions(desc);
  // clang-format off
  desc.add_options()
    ("video", po::value(&video), "the dance video (any format FFmpeg reads)")
    ("pose-model", po::value(&opt.import.pose.model_path), "pose model manifest (e.g. capture_node/pose/models/tfpose_mobilenet_v2_small.json)")
    ("name", po::value(&opt.import.name), "choreography name operators pick it by: 1..64 of A-Z a-z 0-9 _ -")
    ("out", po::value(&out), "the choreography file to write (JSON)")
    ("pose-input", po::value(&input)->default_value(input), "network input WxH, or auto (the manifest's default pixel count at the video's aspect)")
    ("pose-mode", po::value(&mode)->default_value(mode), "top-down (the --pose-model network finds the dancer, the crop network poses them on every frame) | single (the --pose-model network alone)")
    ("pose-crop-model", po::value(&crop_model)->default_value(crop_model), "top-down: the crop network's manifest (auto: movenet_singlepose_lightning.json beside --pose-model)")
    ("pose-finder-hz", po::value(&opt.import.top_down.finder_hz)->default_value(opt.import.top_down.finder_hz), "top-down: person finder runs per second of video (0: every frame)")
    ("performance-zone", po::value(&zone), "X,Y,W,H normalised: the dancer is who stands (feet) in it first (default: anyone, the largest and most central)")
    ("log-level", po::value(&opt.log_level)->default_value(opt.log_level), "trace | debug | info | warn | error");
  // clang-format on
  auto parsed = parseCommandLine(argc, argv, desc, "capture_node import-choreography");
  if (!parsed.ok()) return fail(parsed.error());
  opt.help_text = parsed->help_text;
  if (parsed->help) {
    opt.help = true;
    return opt;
  }
  if (video.empty()) return fail("--video is required: the dance video to import");
  if (opt.import.pose.model_path.empty()) {
    return fail("--pose-model is required: a pose model manifest, e.g. "
                "capture_node/pose/models/tfpose_mobilenet_v2_small.json");
  }
  if (opt.import.name.empty()) return fail("--name is required: how operators will pick it");
  if (!ChoreographyFile::isValidName(opt.import.name)) {
    return fail("--name '" + opt.import.name + "' must be 1..64 of A-Z a-z 0-9 _ -");
  }
  if (out.empty()) return fail("--out is required: the choreography file to write");
  if (input != "auto") {
    std::smatch m;
    if (!std::regex_match(input, m, std::regex(R"((\d{2,4})x(\d{2,4}))"))) {
      return fail("--pose-input '" + input + "' is not WxH (e.g. 368x368) or auto");
    }
    opt.import.pose.input_width = std::stoi(m[1]);
    opt.import.pose.input_height = std::stoi(m[2]);
  }
  if (mode != "top-down" && mode != "single") {
    return fail("--pose-mode '" + mode + "' is not top-down or single");
  }
  if (mode == "top-down") {
    opt.import.crop_model = crop_model == "auto" ? defaultCropModel(opt.import.pose.model_path)
                                                 : crop_model;
  }
  if (!(opt.import.top_down.finder_hz >= 0 && opt.import.top_down.finder_hz <= 240)) {
    return fail("--pose-finder-hz out of range; use 0 (every frame) .. 240");
  }
  if (!zone.empty()) {
    auto parsed_zone = parsePerformanceZone(zone);
    if (!parsed_zone) return fail(parsed_zone.error());
    if (!parsed_zone->first.empty()) return fail("--performance-zone takes no camera here");
    opt.import.zone = parsed_zone->second;
  }
  opt.import.video = video;
  opt.out = out;
  return opt;
}

int runImportCommand(const ImportCommandOptions& options) {
  ChoreographyImporter importer(options.import);
  std::size_t last_report = 0;
  auto file = importer.run([&](std::size_t done, std::size_t total) {
    if (done - last_report < 100) return;
    last_report = done;
    spdlog::info("import: {} of {} frames", done, total > 0 ? std::to_string(total) : "?");
  });
  if (!file.ok()) {
    std::cerr << "capture_node import-choreography: error: " << file.error() << "\n";
    return 1;
  }
  if (auto st = file->save(options.out); !st.ok()) {
    std::cerr << "capture_node import-choreography: error: " << st.error() << "\n";
    return 1;
  }
  const ImportSummary& s = importer.summary();
  std::printf("imported '%s' from %s: %zu frames at %.2f fps (%.1f s), dancer in %zu, %zu failed, "
              "network input %dx%d -> %s\n",
              file->name.c_str(), options.import.video.string().c_str(), s.frames, file->fps,
              file->seconds(), s.frames_with_dancer, s.frames_failed, s.input.width,
              s.input.height, options.out.string().c_str());
  return 0;
}

}  // namespace booth
