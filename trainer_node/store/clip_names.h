#pragma once
// The one place that names a clip: its unguessable token, its files in the
// clips folder and its links. Everything else asks here.
//   clips/<token>.mp4            the clip (its blob key too: clipBlobKey)
//   clips/<token>.jpg            its poster (http/clip_poster.h; blob key posterBlobKey)
//   PUBLIC/clips/<token>.mp4     the clip's link
//   PUBLIC/c/<token>             the visitor page; /poster.jpg and /qr.svg below it
// A token is 32 lowercase hex digits (128 random bits): the only key to a
// visitor's clip.
#include <filesystem>
#include <optional>
#include <string>

namespace booth {

// The pattern of a token in a route (one capture group).
inline constexpr const char* kClipTokenPattern = "([0-9a-f]{32})";

// A fresh token from the system's random source.
std::string newClipToken();
bool isClipToken(const std::string& token);

std::filesystem::path clipFile(const std::filesystem::path& clips_dir, const std::string& token);
// The clip's blob key: "clips/<token>.mp4". A LocalBlobStore rooted at the
// data folder keeps it at clipFile(DATA/clips, token).
std::string clipBlobKey(const std::string& token);
// Its poster's blob key: "clips/<token>.jpg" (beside the clip in a
// LocalBlobStore, as http/clip_poster.h's posterPath).
std::string posterBlobKey(const std::string& token);
// The token a file in the clips folder is named after (the clip, its poster
// and their temporaries: the name up to its first dot); nullopt when none.
std::optional<std::string> clipTokenOfFile(const std::filesystem::path& file);

std::string clipUrlPath(const std::string& token);  // /clips/<token>.mp4
std::string clipUrl(const std::string& public_url, const std::string& token);
std::string visitorPagePath(const std::string& token);  // /c/<token>
std::string visitorPageUrl(const std::string& public_url, const std::string& token);
std::string posterUrlPath(const std::string& token);  // /c/<token>/poster.jpg
std::string qrUrlPath(const std::string& token);      // /c/<token>/qr.svg
// The file name a visitor's download is saved under.
std::string clipDownloadName(const std::string& session_id);

}  // namespace booth
