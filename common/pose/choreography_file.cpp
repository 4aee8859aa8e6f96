#include "common/pose/choreography_file.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <nlohmann/json.hpp>

namespace booth {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "booth-choreography";
constexpr int kVersion = 1;
constexpr double kMaxCoordinate = 1e5;  // pixels; anything beyond is a broken file
constexpr int kMaxSide = 16384;

double rounded(float v) { return std::round(static_cast<double>(v) * 100.0) / 100.0; }

}  // namespace

bool ChoreographyFile::isValidName(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
         });
}

const Pose& ChoreographyFile::poseAt(double t) const {
  const double index = std::round(t * fps);
  const double last = static_cast<double>(frames.size()) - 1;
  return frames[static_cast<std::size_t>(std::clamp(std::isfinite(index) ? index : 0.0, 0.0, last))];
}

std::string ChoreographyFile::toJson() const {
  json frames_json = json::array();
  for (const Pose& pose : frames) {
    if (pose.validCount() == 0) {
      frames_json.push_back(nullptr);
      continue;
    }
    json joints = json::array();
    for (const Keypoint& k : pose.points) {
      if (!isUsable(k)) {
        joints.push_back({0, 0, 0, 0});
      } else {
        joints.push_back({rounded(k.x), rounded(k.y), rounded(k.confidence), k.imputed ? 1 : 0});
      }
    }
    frames_json.push_back(std::move(joints));
  }
  const json root = {{"format", kFormat},  {"version", kVersion},         {"name", name},
                     {"source", source},   {"fps", fps},                 {"width", width},
                     {"height", height},   {"keypoint_layout", "coco17"}, {"frames", frames_json}};
  return root.dump() + "\n";
}

Status ChoreographyFile::save(const std::filesystem::path& path) const {
  if (!isValidName(name)) {
    return fail("choreography name '" + name + "' must be 1..64 of [A-Za-z0-9_-]");
  }
  if (frames.empty()) return fail("choreography " + name + " has no frames to save");
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return fail("cannot write " + tmp.string() + ": " + std::strerror(errno));
    out << toJson();
    out.flush();
    if (!out) return fail("cannot write " + tmp.string() + " (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return fail("cannot move " + tmp.string() + " to " + path.string() + ": " + ec.message());
  }
  return okStatus();
}

Result<ChoreographyFile> ChoreographyFile::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return fail("choreography file " + path.string() + " not found");
  }
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxBytes) {
    return fail("choreography file " + path.string() + " is " + std::to_string(size) +
                " bytes, more than the " + std::to_string(kMaxBytes) + " allowed");
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return fail("cannot read choreography file " + path.string());
  return parse(text, path.string());
}

Result<ChoreographyFile> ChoreographyFile::parse(const std::string& json_text,
                                                 const std::string& what) {
  const std::string where = "choreography file " + what;
  if (json_text.size() > kMaxBytes) return fail(where + " is larger than 64 MiB");
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    return fail(where + " is not valid JSON (" + e.what() + ")");
  }
  if (!root.is_object()) return fail(where + " is not a JSON object");
  ChoreographyFile file;
  try {
    if (root.value("format", std::string()) != kFormat) {
      return fail(where + ": format is not \"" + kFormat + "\"");
    }
    if (root.value("version", 0) != kVersion) {
      return fail(where + ": version " + root.value("version", json(nullptr)).dump() +
                  " is not supported (only 1)");
    }
    if (root.value("keypoint_layout", std::string()) != "coco17") {
      return fail(where + ": keypoint_layout must be \"coco17\"");
    }
    file.name = root.at("name").get<std::string>();
    file.source = root.value("source", std::string());
    file.fps = root.at("fps").get<double>();
    file.width = root.at("width").get<int>();
    file.height = root.at("height").get<int>();
    if (!isValidName(file.name)) {
      return fail(where + ": name '" + file.name + "' must be 1..64 of [A-Za-z0-9_-]");
    }
    if (!(file.fps > 0 && file.fps <= 240)) {
      return fail(where + ": fps " + std::to_string(file.fps) + " must be in (0, 240]");
    }
    if (file.width < 1 || file.height < 1 || file.width > kMaxSide || file.height > kMaxSide) {
      return fail(where + ": frame size " + std::to_string(file.width) + "x" +
                  std::to_string(file.height) + " out of range 1.." + std::to_string(kMaxSide));
    }
    const json& frames = root.at("frames");
    if (!frames.is_array() || frames.empty() || frames.size() > kMaxFrames) {
      return fail(where + ": frames must be an array of 1.." + std::to_string(kMaxFrames) +
                  " frames");
    }
    file.frames.reserve(frames.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
      const json& frame = frames[i];
      Pose pose;
      if (!frame.is_null()) {
        if (!frame.is_array() || frame.size() != kCoco17Count) {
          return fail(where + ": frame " + std::to_string(i) + " must be null or 17 joints");
        }
        for (int j = 0; j < kCoco17Count; ++j) {
          const json& k = frame[j];
          if (!k.is_array() || k.size() != 4) {
            return fail(where + ": frame " + std::to_string(i) + " joint " +
                        std::string(coco17Name(j)) + " must be [x, y, confidence, imputed]");
          }
          const double x = k[0].get<double>();
          const double y = k[1].get<double>();
          const double c = k[2].get<double>();
          if (!(std::abs(x) <= kMaxCoordinate && std::abs(y) <= kMaxCoordinate && c >= 0 &&
                c <= 1)) {
            return fail(where + ": frame " + std::to_string(i) + " joint " +
                        std::string(coco17Name(j)) + " out of range: " + k.dump());
          }
          pose.points[j] = {static_cast<float>(x), static_cast<float>(y), static_cast<float>(c),
                            k[3].get<int>() != 0};
        }
      }
      file.frames.push_back(pose);
    }
  } catch (const json::exception& e) {
    return fail(where + ": " + e.what());
  }
  return file;
}

ChoreographyDirScan scanChoreographyDir(const std::filesystem::path& dir) {
  ChoreographyDirScan scan;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return scan;
  // increment() can fail too (a folder removed while it is read): use the
  // error-code form throughout.
  std::filesystem::directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const auto& entry = *it;
    const auto& path = entry.path();
    std::error_code type_ec;
    if (path.extension() != ".json" || !entry.is_regular_file(type_ec)) continue;
    auto file = ChoreographyFile::load(path);
    if (!file.ok()) {
      scan.problems.push_back(file.error());
    } else if (file->name != path.stem().string()) {
      scan.problems.push_back(path.string() + ": its name '" + file->name +
                              "' is not its file name; rename the file to " + file->name +
                              ".json");
    } else if (file->frames.empty()) {
      scan.problems.push_back(path.string() + ": no frames");
    } else {
      scan.names.push_back(file->name);
    }
  }
  if (ec) scan.problems.push_back(dir.string() + ": " + ec.message());
  std::sort(scan.names.begin(), scan.names.end());
  return scan;
}

}  // namespace booth
