#pragma once
// Result<T>: a value or an error message with context. Recoverable failures
// (bad config, missing device, unreachable peer, I/O) travel as Results;
// exceptions from third-party libraries are converted at component edges.
#include <string>
#include <utility>
#include <variant>

namespace booth {

struct Error {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const std::string& error() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

// Status: success or an error, for operations with no value.
struct Ok {};
using Status = Result<Ok>;
inline Status okStatus() { return Ok{}; }
inline Error fail(std::string message) { return Error{std::move(message)}; }

}  // namespace booth
