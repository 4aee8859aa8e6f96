#pragma once
// MappedBuffer: sole owner of one mmap()ed region (a V4L2 capture buffer, or
// any file region). Move-only; the destructor munmaps. The mapping does not
// own the fd it came from: unmapping and closing are independent, and a
// mapping may outlive its fd (POSIX keeps the pages alive).
#include <sys/mman.h>
#include <sys/types.h>

#include <cstddef>
#include <span>
#include <utility>

namespace booth {

class MappedBuffer {
 public:
  MappedBuffer() = default;
  ~MappedBuffer() { reset(); }

  MappedBuffer(MappedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MappedBuffer& operator=(MappedBuffer&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;

  // Maps `size` bytes of `fd` at `offset`, shared, read-write (V4L2 drivers
  // expect PROT_READ|PROT_WRITE). Returns an invalid buffer with errno set on
  // failure.
  static MappedBuffer map(int fd, std::size_t size, off_t offset) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
    MappedBuffer buffer;
    if (p != MAP_FAILED) {
      buffer.data_ = p;
      buffer.size_ = size;
    }
    return buffer;
  }

  bool isValid() const noexcept { return data_ != nullptr; }
  std::span<const std::byte> bytes() const noexcept {
    return {static_cast<const std::byte*>(data_), size_};
  }
  const void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

  void reset() noexcept {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = nullptr;
    size_ = 0;
  }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace booth
