#pragma once
// A small, really full-able file system for tests: a tmpfs of `bytes`
// mounted at `dir` for the life of the object. Mounting needs root (or
// CAP_SYS_ADMIN); where it is not possible the test exits 77 (skipped),
// saying why.
#include <sys/mount.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace booth::test {

class SmallDisk {
 public:
  SmallDisk(const std::filesystem::path& dir, std::size_t bytes) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    const std::string options = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      std::fprintf(stderr, "skipped: cannot mount a %zu-byte tmpfs at %s (%s); run as root\n",
                   bytes, dir_.c_str(), std::strerror(errno));
      std::exit(77);
    }
  }
  ~SmallDisk() { ::umount2(dir_.c_str(), MNT_DETACH); }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace booth::test
