#pragma once
// The project's pose model manifest and, for tests that run the network, a
// copy of it pointing at the published graph in ../shared/assets (found
// through BOOTH_SHARED_DIR; the test exits 77 where it is absent).
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "shared_assets.h"

namespace booth::test {

inline std::filesystem::path projectManifest() {
  return std::filesystem::path(BOOTH_SOURCE_DIR) / "capture_node/pose/models/tfpose_mobilenet_v2_small.json";
}

inline std::filesystem::path projectMoveNetManifest() {
  return std::filesystem::path(BOOTH_SOURCE_DIR) / "capture_node/pose/models/movenet_singlepose_lightning.json";
}

inline std::string readText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes a project manifest to `dir` as `file_name`, edited by `edit` (a
// JSON object to change), with its weights at the shared asset's absolute
// path.
template <class Edit>
std::filesystem::path writeAssetManifest(const std::filesystem::path& project,
                                         const std::string& asset, const std::string& file_name,
                                         const std::filesystem::path& dir, Edit edit) {
  nlohmann::json manifest = nlohmann::json::parse(readText(project));
  manifest["weights"] = std::filesystem::absolute(requireSharedAsset(asset)).string();
  edit(manifest);
  std::filesystem::create_directories(dir);
  const auto path = dir / file_name;
  std::ofstream(path) << manifest.dump(2);
  return path;
}

// The OpenPose-style (finder) manifest, as manifest.json.
template <class Edit>
std::filesystem::path assetManifest(const std::filesystem::path& dir, Edit edit) {
  return writeAssetManifest(projectManifest(), "tfpose_mobilenet_v2_small_graph_opt.pb",
                            "manifest.json", dir, edit);
}

inline std::filesystem::path assetManifest(const std::filesystem::path& dir) {
  return assetManifest(dir, [](nlohmann::json&) {});
}

// The MoveNet (crop) manifest, as movenet.json.
template <class Edit>
std::filesystem::path moveNetAssetManifest(const std::filesystem::path& dir, Edit edit) {
  return writeAssetManifest(projectMoveNetManifest(), "movenet_singlepose_lightning_4_heads.onnx",
                            "movenet.json", dir, edit);
}

inline std::filesystem::path moveNetAssetManifest(const std::filesystem::path& dir) {
  return moveNetAssetManifest(dir, [](nlohmann::json&) {});
}

}  // namespace booth::test
