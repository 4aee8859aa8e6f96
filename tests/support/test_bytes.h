#pragma once
// Test support: `n` pseudo-random bytes (zeros and high bytes included),
// the same for the same seed.
#include <random>
#include <string>

namespace booth::testing {

inline std::string randomBytes(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::mt19937 rng(seed);
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

}  // namespace booth::testing
