#include "trainer_node/pretrain/video_clips.h"

#include <algorithm>
#include <cctype>
#include <ostream>

#include <opencv2/imgproc.hpp>

#include "common/image/frame_image.h"

namespace booth {
namespace fs = std::filesystem;
namespace {

bool isVideoFile(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".mp4" || ext == ".mov" || ext == ".mkv" || ext == ".avi" || ext == ".webm" ||
         ext == ".m4v";
}

Pose scaled(Pose pose, double scale) {
  for (Keypoint& k : pose.points) {
    k.x = static_cast<float>(k.x * scale);
    k.y = static_cast<float>(k.y * scale);
  }
  return pose;
}

constexpr int kJpegQuality = 92;

}  // namespace

Result<std::vector<fs::path>> listVideos(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail("--videos " + dir.string() + " is not a folder");
  std::vector<fs::path> out;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec) && isVideoFile(it->path())) out.push_back(it->path());
  }
  if (ec) return fail("cannot list --videos " + dir.string() + ": " + ec.message());
  std::sort(out.begin(), out.end());
  if (out.empty()) {
    return fail("--videos " + dir.string() + " has no video (.mp4 .mov .mkv .avi .webm .m4v)");
  }
  return out;
}

Result<TrainingSet> videoTrainingSet(const fs::path& video, const VideoCorpusOptions& options) {
  ImportConfig config;
  config.video = video;
  config.name = "pretrain-video";
  config.pose = options.pose;
  config.crop_model = options.crop_model;
  config.top_down = options.top_down;
  config.max_frames = options.max_frames_per_video;

  // The frames as they are decoded, shrunk and kept as JPEG; their poses
  // come out of the smoother later, in the video's pixels.
  std::vector<StoredFrame> frames;
  double scale = 1;
  std::string frame_error;
  const int target_side = 2 * options.training.resolution;
  ChoreographyImporter importer(config);
  auto file = importer.run({}, [&](std::size_t index, const cv::Mat& image) {
    if (!frame_error.empty()) return;
    scale = std::min(1.0, static_cast<double>(target_side) / std::min(image.cols, image.rows));
    cv::Mat small;
    if (scale < 1) {
      cv::resize(image, small, cv::Size(), scale, scale, cv::INTER_AREA);
    } else {
      small = image.isContinuous() ? image : image.clone();
    }
    auto jpeg = encodeFrameJpeg(
        FrameEncoding::kRawBgr, small.cols, small.rows,
        std::string_view(reinterpret_cast<const char*>(small.data), small.total() * small.elemSize()),
        kJpegQuality);
    if (!jpeg.ok()) {
      frame_error = "frame " + std::to_string(index) + ": " + jpeg.error();
      return;
    }
    StoredFrame f;
    f.sequence = index;
    f.encoding = FrameEncoding::kJpeg;
    f.width = small.cols;
    f.height = small.rows;
    f.data = std::move(jpeg).value();
    frames.push_back(std::move(f));
  });
  if (!file.ok()) return fail(file.error());
  if (!frame_error.empty()) return fail("video " + video.string() + ": " + frame_error);
  for (StoredFrame& f : frames) {
    if (f.sequence >= file->frames.size()) continue;
    const Pose& pose = file->frames[f.sequence];
    if (pose.validCount() > 0) f.pose = scaled(pose, scale);
  }
  auto set = buildTrainingSet(frames, options.training);
  if (!set.ok()) return fail("video " + video.string() + ": " + set.error());
  return set;
}

Result<VideoCorpus> loadVideoClips(const fs::path& dir, const VideoCorpusOptions& options,
                                   std::ostream& log) {
  auto videos = listVideos(dir);
  if (!videos.ok()) return fail(videos.error());
  VideoCorpus out;
  std::string last_error;
  for (const fs::path& video : videos.value()) {
    if (options.training.should_stop && options.training.should_stop()) {
      return fail("stopped while posing the videos");
    }
    ++out.videos_seen;
    log << "pretrain: posing " << video.string() << std::endl;
    auto set = videoTrainingSet(video, options);
    if (!set.ok()) {
      log << "pretrain: skipping " << video.string() << ": " << set.error() << std::endl;
      last_error = set.error();
      continue;
    }
    log << "pretrain: " << video.filename().string() << ": " << set->frames.size()
        << " frames with a pose" << std::endl;
    out.clips.push_back(std::move(set).value());
    last_error.clear();
  }
  // Every video failing (a pose model that does not load, say) is an error,
  // not a corpus quietly without them.
  if (out.clips.empty()) {
    return fail("no video in --videos " + dir.string() + " gave a training clip (the last: " +
                last_error + ")");
  }
  return out;
}

}  // namespace booth
