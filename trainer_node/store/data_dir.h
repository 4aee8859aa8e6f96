#pragma once
// The trainer's data directory holds visitors' frames, models and clips:
// it is private to the trainer's user. secureDataDir() creates it with
// mode 0700, or tightens an existing one: every directory below to 0700
// and every file to 0600 (data written by older versions included; links
// are not followed). Together with the process umask 077 (set in main),
// everything written later is private too.
#include <filesystem>

#include "common/core/result.h"

namespace booth {
Status secureDataDir(const std::filesystem::path& dir);
}
