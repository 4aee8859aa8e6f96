#pragma once
// listDirectory: the entries of one folder, without exceptions. A folder's
// iteration can fail half-way (a disk error, the folder removed meanwhile);
// std::filesystem's range-for then throws from operator++, which in a
// thread body is a dead thread. This walks with increment(error_code) and
// reports the failure as a value naming the folder.
#include <filesystem>
#include <vector>

#include "common/core/result.h"

namespace booth {

enum class EntryKind { kAny, kDirectories, kFiles };

// The folder's entries of that kind (links not followed), in no set order.
// A missing folder is an error; `missing_ok` makes it an empty list.
Result<std::vector<std::filesystem::path>> listDirectory(const std::filesystem::path& dir,
                                                         EntryKind kind = EntryKind::kAny,
                                                         bool missing_ok = false);

}  // namespace booth
