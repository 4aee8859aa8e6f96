#pragma once
// Unguessable tokens (clip links, operator sessions, multipart boundaries):
// `chars` lowercase hex digits, 4 bits each, from std::random_device
// (/dev/urandom on Linux). One maker for every token the trainer hands out.
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace booth {

inline std::string randomHexToken(std::size_t chars = 32) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string token;
  token.reserve(chars);
  while (token.size() < chars) {
    std::uint32_t word = rd();
    for (int j = 0; j < 8 && token.size() < chars; ++j, word >>= 4) token += kHex[word & 0xf];
  }
  return token;
}

}  // namespace booth
