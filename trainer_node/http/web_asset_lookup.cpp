#include "trainer_node/http/web_assets.h"

namespace booth {

std::optional<WebAsset> findWebAsset(std::string_view name) {
  for (const WebAsset& a : webAssets()) {
    if (a.name == name) return a;
  }
  return std::nullopt;
}

std::string_view webContentType(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  return "application/octet-stream";
}

}  // namespace booth
