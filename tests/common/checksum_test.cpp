// FNV-1a 64 against the published test vectors (Noll, "FNV test
// vectors", fnv-5.0.2 test_fnv.c, FNV1A_64 column).
#include <gtest/gtest.h>

#include "common/core/checksum.h"

namespace booth {
namespace {

TEST(Fnv1a64, EmptyInputIsTheOffsetBasis) { EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull); }

TEST(Fnv1a64, MatchesThePublishedVectors) {
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
  EXPECT_EQ(fnv1a64("chongo was here!\n"), 0x46810940eff5f915ull);
}

}  // namespace
}  // namespace booth
