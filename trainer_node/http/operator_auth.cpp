#include "trainer_node/http/operator_auth.h"

#include <sys/stat.h>

#include <fstream>

namespace booth {
namespace fs = std::filesystem;

Result<std::string> loadOperatorToken(const fs::path& path, bool create) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (!create) {
      return fail("operator token file " + path.string() +
                  " does not exist; write a token (16+ characters) into it with mode 0600");
    }
    const std::string token = randomHexToken();
    const fs::path tmp = path.string() + ".tmp";
    {
      const mode_t old = ::umask(077);
      std::ofstream out(tmp, std::ios::trunc);
      ::umask(old);
      out << token << "\n";
      if (!out.flush()) return fail("cannot write operator token file " + tmp.string());
    }
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, ec);
    fs::rename(tmp, path, ec);
    if (ec) return fail("cannot create operator token file " + path.string() + ": " + ec.message());
    return token;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return fail("cannot read operator token file " + path.string());
  }
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    return fail("operator token file " + path.string() +
                " is accessible by group or others; chmod 600 it");
  }
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.size() < 16) {
    return fail("operator token in " + path.string() + " is missing or shorter than 16 characters");
  }
  for (char c : token) {
    // Sent in a header and a cookie: visible ASCII without separators.
    if (c <= 0x20 || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\') {
      return fail("operator token in " + path.string() +
                  " has characters other than letters, digits and punctuation");
    }
  }
  return token;
}

std::optional<std::string> cookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return std::nullopt;
}

std::optional<std::string> bearerToken(std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && authorization.substr(0, kBearer.size()) == kBearer) {
    return std::string(authorization.substr(kBearer.size()));
  }
  return std::nullopt;
}

bool sameSecret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < b.size(); ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ static_cast<unsigned char>(b[i]));
  }
  return diff == 0;
}

}  // namespace booth
