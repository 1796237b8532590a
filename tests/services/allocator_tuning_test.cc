// The allocator tuning against the allocator this binary links: jemalloc in
// the usual build, as leadledgerd; the sanitizers' allocator in theirs.
#include "services/allocator_tuning.h"

#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

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

// Allocates and frees `bytes` in blocks of 64 KiB, each touched.
void AllocateAndFree(size_t bytes) {
  constexpr size_t kBlock = 64 << 10;
  std::vector<std::unique_ptr<char[]>> blocks;
  for (size_t done = 0; done < bytes; done += kBlock) {
    blocks.emplace_back(new char[kBlock]);
    std::memset(blocks.back().get(), 1, kBlock);
  }
}

TEST(AllocatorTuningTest,
     BulkFoldThreadsShareAnArenaThatKeepsPagesWhileFolding) {
  const projections::BulkFoldHooks hooks = AllocatorTuningForBulkFolds();
  ASSERT_TRUE(hooks.folding && hooks.thread_started);
  const std::optional<BulkFoldArenaStats> before = GetBulkFoldArenaStats();
  ASSERT_TRUE(before.has_value());
  const std::optional<unsigned> own = ThisThreadsArena();
  ASSERT_TRUE(own.has_value());
  EXPECT_NE(*own, before->arena);

  hooks.folding(true);
  EXPECT_EQ(AllocatorBackgroundPurge(), std::optional<bool>(true));
  EXPECT_EQ(GetBulkFoldArenaStats()->keep_freed_pages_ms, -1);
  std::vector<std::optional<unsigned>> arenas(2);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < arenas.size(); ++i) {
    threads.emplace_back([&hooks, &arenas, i] {
      hooks.thread_started();
      arenas[i] = ThisThreadsArena();
      AllocateAndFree(8 << 20);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(arenas[0], std::optional<unsigned>(before->arena));
  EXPECT_EQ(arenas[1], std::optional<unsigned>(before->arena));
  // What the threads freed stays for the next commit.
  EXPECT_GE(GetBulkFoldArenaStats()->unused_bytes, size_t{8 << 20});
  // This thread was not hooked.
  EXPECT_EQ(ThisThreadsArena(), own);

  hooks.folding(false);
  EXPECT_EQ(AllocatorBackgroundPurge(), std::optional<bool>(false));
  const std::optional<BulkFoldArenaStats> after = GetBulkFoldArenaStats();
  EXPECT_EQ(after->unused_bytes, 0u);
  EXPECT_EQ(after->keep_freed_pages_ms, before->keep_freed_pages_ms);
  EXPECT_GT(after->keep_freed_pages_ms, 0);
}

#else

TEST(AllocatorTuningTest, DoesNothingWithAnotherAllocator) {
  EXPECT_EQ(AllocatorBackgroundPurge(), std::nullopt);
  EXPECT_FALSE(SetAllocatorBackgroundPurge(true));
  EXPECT_EQ(AllocatorBackgroundPurge(), std::nullopt);
  const projections::BulkFoldHooks hooks = AllocatorTuningForBulkFolds();
  hooks.folding(true);
  hooks.thread_started();
  EXPECT_EQ(AllocatorBackgroundPurge(), std::nullopt);
  EXPECT_EQ(GetBulkFoldArenaStats(), std::nullopt);
  EXPECT_EQ(ThisThreadsArena(), std::nullopt);
  hooks.folding(false);
}

#endif

}  // namespace
}  // namespace leadledger::services
