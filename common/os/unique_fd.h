#pragma once
// UniqueFd: sole owner of a POSIX file descriptor. Move-only; the destructor
// closes it. Modelled on libcamera's UniqueFd. Not thread-safe: one owner,
// one thread at a time (like the object that holds it).
#include <unistd.h>

#include <utility>

namespace booth {

class UniqueFd {
 public:
  UniqueFd() = default;
  // Takes ownership of `fd` (-1 for none).
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }

  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  bool isValid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return isValid(); }

  // Gives up ownership without closing; the caller now owns the fd.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

  // Closes the current fd (if any) and takes ownership of `fd`. close() is
  // not retried on EINTR: on Linux the fd is released either way.
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0 && fd_ != fd) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace booth
