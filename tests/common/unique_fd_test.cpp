#include "common/os/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "common/os/mapped_buffer.h"

namespace booth {
namespace {

bool isOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

int openDevNull() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(UniqueFd, ClosesOnDestruction) {
  int raw = -1;
  {
    UniqueFd fd(openDevNull());
    raw = fd.get();
    ASSERT_TRUE(fd.isValid());
    EXPECT_TRUE(isOpen(raw));
  }
  EXPECT_FALSE(isOpen(raw));
}

TEST(UniqueFd, MoveTransfersOwnershipWithoutClosing) {
  UniqueFd a(openDevNull());
  const int raw = a.get();
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.isValid());  // NOLINT(bugprone-use-after-move): checking moved-from state
  EXPECT_EQ(b.get(), raw);
  EXPECT_TRUE(isOpen(raw));
}

TEST(UniqueFd, MoveAssignmentClosesThePreviousFd) {
  UniqueFd a(openDevNull());
  UniqueFd b(openDevNull());
  const int old_b = b.get();
  const int raw_a = a.get();
  b = std::move(a);
  EXPECT_FALSE(isOpen(old_b));
  EXPECT_EQ(b.get(), raw_a);
  EXPECT_TRUE(isOpen(raw_a));
}

TEST(UniqueFd, ReleaseGivesUpOwnership) {
  int raw = -1;
  {
    UniqueFd fd(openDevNull());
    raw = fd.release();
    EXPECT_FALSE(fd.isValid());
  }
  EXPECT_TRUE(isOpen(raw));
  ::close(raw);
}

TEST(MappedBuffer, MapsFileContentsAndMovesOwnership) {
  char name[] = "/tmp/booth_mapped_buffer_XXXXXX";
  UniqueFd fd(::mkstemp(name));
  ASSERT_TRUE(fd.isValid()) << std::strerror(errno);
  std::filesystem::remove(name);
  const std::string text = "dance booth mmap";
  ASSERT_EQ(::write(fd.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));

  MappedBuffer mapped = MappedBuffer::map(fd.get(), text.size(), 0);
  ASSERT_TRUE(mapped.isValid()) << std::strerror(errno);
  fd.reset();  // the mapping outlives the fd
  MappedBuffer moved = std::move(mapped);
  EXPECT_FALSE(mapped.isValid());  // NOLINT(bugprone-use-after-move)
  ASSERT_EQ(moved.size(), text.size());
  EXPECT_EQ(std::string(static_cast<const char*>(moved.data()), moved.size()), text);
}

TEST(MappedBuffer, FailedMapIsInvalid) {
  MappedBuffer mapped = MappedBuffer::map(-1, 4096, 0);
  EXPECT_FALSE(mapped.isValid());
  EXPECT_EQ(mapped.size(), 0u);
}

}  // namespace
}  // namespace booth
