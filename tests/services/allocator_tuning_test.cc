// The allocator tuning against the allocator this binary links: jemalloc in
// the usual build, as leadledgerd; the sanitizers' allocator in theirs.
#include "services/allocator_tuning.h"

#include <optional>

#include "gtest/gtest.h"

namespace leadledger::services {
namespace {

#if LEADLEDGER_TEST_LINKS_JEMALLOC

TEST(AllocatorTuningTest, BackgroundPurgeStartsAndStops) {
  ASSERT_EQ(AllocatorBackgroundPurge(), std::optional<bool>(false));
  EXPECT_TRUE(SetAllocatorBackgroundPurge(true));
  EXPECT_EQ(AllocatorBackgroundPurge(), std::optional<bool>(true));
  // Starting twice is harmless.
  EXPECT_TRUE(SetAllocatorBackgroundPurge(true));
  EXPECT_TRUE(SetAllocatorBackgroundPurge(false));
  EXPECT_EQ(AllocatorBackgroundPurge(), std::optional<bool>(false));
}

TEST(AllocatorTuningTest, TheBulkFoldHookRunsTheThreadsDuringAFold) {
  ASSERT_EQ(AllocatorBackgroundPurge(), std::optional<bool>(false));
  PurgeInBackgroundDuringBulkFolds(true);
  EXPECT_EQ(AllocatorBackgroundPurge(), std::optional<bool>(true));
  PurgeInBackgroundDuringBulkFolds(false);
  EXPECT_EQ(AllocatorBackgroundPurge(), std::optional<bool>(false));
}

#else

TEST(AllocatorTuningTest, DoesNothingWithAnotherAllocator) {
  EXPECT_EQ(AllocatorBackgroundPurge(), std::nullopt);
  EXPECT_FALSE(SetAllocatorBackgroundPurge(true));
  EXPECT_EQ(AllocatorBackgroundPurge(), std::nullopt);
  PurgeInBackgroundDuringBulkFolds(true);
  EXPECT_EQ(AllocatorBackgroundPurge(), std::nullopt);
}

#endif

}  // namespace
}  // namespace leadledger::services
