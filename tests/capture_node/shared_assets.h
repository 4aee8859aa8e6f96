#pragma once
// Real test assets live in ../shared/assets (never committed). The test
// helper sets BOOTH_SHARED_DIR; where the asset is absent the test exits 77,
// which ctest reports as skipped.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace booth::test {

inline std::filesystem::path requireSharedAsset(const std::string& name) {
  const char* dir = std::getenv("BOOTH_SHARED_DIR");
  const std::filesystem::path path =
      std::filesystem::path(dir != nullptr ? dir : "../shared") / "assets" / name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    std::cout << "SKIP: needs ../shared/assets/" << name << " (looked for " << path.string()
              << "; set BOOTH_SHARED_DIR)\n";
    std::exit(77);
  }
  return path;
}

}  // namespace booth::test
