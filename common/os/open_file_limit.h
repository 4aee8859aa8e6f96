#pragma once
// The process's limit on open descriptors (RLIMIT_NOFILE). Servers that
// hold many connections raise the soft limit towards the hard one at start.
#include <cstddef>

namespace booth {

// Raises the soft limit to `wanted` (at most the hard limit) when it is
// lower; returns the soft limit in effect afterwards.
std::size_t raiseOpenFileLimit(std::size_t wanted);

}  // namespace booth
