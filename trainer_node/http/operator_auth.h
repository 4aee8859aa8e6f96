#pragma once
// The operator token: the one secret that operator actions and job
// listings need (starting and cancelling sessions, the job list with its
// clip links, nodes, live events, deleting a visitor's data). Visitors
// never need it: a clip's unguessable link is its own key.
//
// The token lives in a file (first line), readable by the trainer's user
// only. The page asks for it once and trades it for a session
// (operator_sessions.h) whose random id is an HttpOnly, SameSite=Strict
// cookie (so the browser's EventSource can send it and page scripts cannot
// read it); the token itself is never a cookie. Scripts and tools send
// `Authorization: Bearer TOKEN`.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/random_token.h"  // randomHexToken, for the callers of this header
#include "common/core/result.h"

namespace booth {

inline constexpr std::string_view kOperatorCookie = "booth_operator";

// Reads the token from `path`. When the file does not exist and `create`
// is set, writes a new random token (128 bits, hex) there with mode 0600.
// Fails when the file is readable by group or others (like ssh does with
// keys), is empty, or has a token shorter than 16 characters.
Result<std::string> loadOperatorToken(const std::filesystem::path& path, bool create);

// Value of cookie `name` in a Cookie header, if present.
std::optional<std::string> cookieValue(std::string_view cookie_header, std::string_view name);

// X of an `Authorization: Bearer X` header, if that is what it is.
std::optional<std::string> bearerToken(std::string_view authorization);

// Compares in time independent of where the strings differ.
bool sameSecret(std::string_view a, std::string_view b);

}  // namespace booth
