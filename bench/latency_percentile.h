#pragma once
// The p-th percentile (0..1, nearest rank below) of latency samples, for the
// HTTP load tools of bench/.
#include <algorithm>
#include <cstddef>
#include <vector>

namespace booth::bench {

inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

}  // namespace booth::bench
