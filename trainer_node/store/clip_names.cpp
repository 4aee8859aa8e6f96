#include "trainer_node/store/clip_names.h"

#include "common/core/random_token.h"

namespace booth {
namespace {
constexpr std::size_t kTokenChars = 32;
constexpr const char* kClipExtension = ".mp4";
constexpr const char* kClipsFolder = "clips";
}  // namespace

std::string newClipToken() { return randomHexToken(kTokenChars); }

bool isClipToken(const std::string& token) {
  if (token.size() != kTokenChars) return false;
  for (char c : token) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::filesystem::path clipFile(const std::filesystem::path& clips_dir, const std::string& token) {
  return clips_dir / (token + kClipExtension);
}

std::string clipBlobKey(const std::string& token) {
  return std::string(kClipsFolder) + "/" + token + kClipExtension;
}

std::string posterBlobKey(const std::string& token) {
  return std::string(kClipsFolder) + "/" + token + ".jpg";
}

std::optional<std::string> clipTokenOfFile(const std::filesystem::path& file) {
  const std::string name = file.filename().string();
  const std::string token = name.substr(0, name.find('.'));
  if (token.empty()) return std::nullopt;
  return token;
}

std::string clipUrlPath(const std::string& token) {
  return "/clips/" + token + kClipExtension;
}
std::string clipUrl(const std::string& public_url, const std::string& token) {
  return public_url + clipUrlPath(token);
}
std::string visitorPagePath(const std::string& token) { return "/c/" + token; }
std::string visitorPageUrl(const std::string& public_url, const std::string& token) {
  return public_url + visitorPagePath(token);
}
std::string posterUrlPath(const std::string& token) {
  return visitorPagePath(token) + "/poster.jpg";
}
std::string qrUrlPath(const std::string& token) { return visitorPagePath(token) + "/qr.svg"; }
std::string clipDownloadName(const std::string& session_id) {
  return "dance-" + session_id + kClipExtension;
}

}  // namespace booth
