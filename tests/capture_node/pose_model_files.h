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

// Writes the project manifest to `dir`, edited by `edit` (a JSON object
// to change), with its weights at the shared asset's absolute path.
template <class Edit>
std::filesystem::path assetManifest(const std::filesystem::path& dir, Edit edit) {
  nlohmann::json manifest = nlohmann::json::parse(readText(projectManifest()));
  manifest["weights"] =
      std::filesystem::absolute(requireSharedAsset("tfpose_mobilenet_v2_small_graph_opt.pb")).string();
  edit(manifest);
  std::filesystem::create_directories(dir);
  const auto path = dir / "manifest.json";
  std::ofstream(path) << manifest.dump(2);
  return path;
}

inline std::filesystem::path assetManifest(const std::filesystem::path& dir) {
  return assetManifest(dir, [](nlohmann::json&) {});
}

// The same for the project's MoveNet manifest (written as movenet.json).
template <class Edit>
std::filesystem::path moveNetAssetManifest(const std::filesystem::path& dir, Edit edit) {
  nlohmann::json manifest = nlohmann::json::parse(readText(projectMoveNetManifest()));
  manifest["weights"] =
      std::filesystem::absolute(requireSharedAsset("movenet_singlepose_lightning_4_heads.onnx")).string();
  edit(manifest);
  std::filesystem::create_directories(dir);
  const auto path = dir / "movenet.json";
  std::ofstream(path) << manifest.dump(2);
  return path;
}

inline std::filesystem::path moveNetAssetManifest(const std::filesystem::path& dir) {
  return moveNetAssetManifest(dir, [](nlohmann::json&) {});
}

}  // namespace booth::test
