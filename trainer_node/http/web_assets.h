#pragma once
// The operator and visitor pages' files (trainer_node/http/web/), embedded
// in the binary at build time by embed_web_assets.cmake.
#include <optional>
#include <string_view>
#include <vector>

namespace booth {

struct WebAsset {
  std::string_view name;  // file name, e.g. "operator.js"
  std::string_view content;
};

const std::vector<WebAsset>& webAssets();
std::optional<WebAsset> findWebAsset(std::string_view name);
// "text/html; charset=utf-8" etc., from the file name's extension.
std::string_view webContentType(std::string_view name);

}  // namespace booth
