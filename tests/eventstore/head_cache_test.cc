#include "eventstore/head_cache.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadledger::eventstore {
namespace {

using ::testing::Optional;

TEST(HeadCacheTest, FindsTheLastVersionSet) {
  HeadCache cache(8);
  EXPECT_EQ(cache.Find("lead-a"), std::nullopt);
  cache.Set("lead-a", 0);
  cache.Set("lead-b", 4);
  cache.Set("lead-a", 1);
  EXPECT_THAT(cache.Find("lead-a"), Optional(1));
  EXPECT_THAT(cache.Find("lead-b"), Optional(4));
  EXPECT_EQ(cache.size(), 2u);
}

TEST(HeadCacheTest, StaysWithinItsCapacityAndKeepsTheStreamsInUse) {
  constexpr size_t kCapacity = 64;
  HeadCache cache(kCapacity);
  cache.Set("busy", 0);
  int64_t busy_version = 0;
  for (int i = 0; i < 10'000; ++i) {
    cache.Set(absl::StrCat("lead-", i), i);
    ASSERT_LE(cache.size(), kCapacity);
    // The busy stream is appended to every tenth new stream: well within a
    // generation, so it is never forgotten.
    if (i % 10 == 0) {
      ASSERT_THAT(cache.Find("busy"), Optional(busy_version)) << i;
      cache.Set("busy", ++busy_version);
    }
  }
  // Streams of long ago are forgotten, recent ones kept.
  EXPECT_EQ(cache.Find("lead-0"), std::nullopt);
  EXPECT_THAT(cache.Find("lead-9999"), Optional(9999));
}

TEST(HeadCacheTest, AStreamFoundInTheOldGenerationSurvivesTheNextTurn) {
  HeadCache cache(4);  // two streams per generation
  cache.Set("a", 1);
  cache.Set("b", 2);
  cache.Set("c", 3);                          // a and b become old
  EXPECT_THAT(cache.Find("a"), Optional(1));  // a moves to the young one
  cache.Set("d", 4);                          // b goes with its generation
  cache.Set("e", 5);
  EXPECT_THAT(cache.Find("a"), Optional(1));
  EXPECT_EQ(cache.Find("b"), std::nullopt);
  EXPECT_LE(cache.size(), 4u);
}

}  // namespace
}  // namespace leadledger::eventstore
