#pragma once
// Logging setup shared by both binaries: spdlog to stderr, one line per
// event, "[time] [level] [component] message".
#include <string>

namespace booth {

// level: trace, debug, info, warn, error. Returns false for an unknown level.
bool setupLogging(const std::string& level);

}  // namespace booth
