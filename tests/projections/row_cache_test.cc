#include "projections/row_cache.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace leadledger::projections {
namespace {

// The row at `key` for a reader at `sequence`; nullopt when the store must
// answer.
std::optional<std::string> Read(RowCache& cache, absl::string_view key,
                                uint64_t sequence) {
  std::string value;
  if (!cache.Lookup(key, sequence, &value)) return std::nullopt;
  return value;
}

void Write(RowCache& cache, absl::string_view key,
           const std::optional<std::string>& value, uint64_t sequence) {
  cache.BeginWrite(key);
  cache.FinishWrite(key, value, sequence);
}

TEST(RowCacheTest, AnswersOnlyReadersWhoseSnapshotHoldsTheWrite) {
  RowCache cache(1 << 20);
  EXPECT_EQ(Read(cache, "r/a", 100), std::nullopt);
  Write(cache, "r/a", "one", 10);
  EXPECT_EQ(Read(cache, "r/a", 9), std::nullopt);
  EXPECT_EQ(Read(cache, "r/a", 10), "one");
  EXPECT_EQ(Read(cache, "r/a", 50), "one");
  Write(cache, "r/a", "two", 20);
  // A snapshot between the two writes saw "one": the store says so.
  EXPECT_EQ(Read(cache, "r/a", 15), std::nullopt);
  EXPECT_EQ(Read(cache, "r/a", 20), "two");
  EXPECT_EQ(Read(cache, "r/b", 20), std::nullopt);
}

TEST(RowCacheTest, AnAnnouncedWriteSendsEveryReaderToTheStore) {
  RowCache cache(1 << 20);
  Write(cache, "r/a", "one", 10);
  cache.BeginWrite("r/a");
  // The store may have applied it already, at a sequence still unknown.
  EXPECT_EQ(Read(cache, "r/a", 1000), std::nullopt);
  cache.FinishWrite("r/a", "two", 20);
  EXPECT_EQ(Read(cache, "r/a", 1000), "two");
}

TEST(RowCacheTest, DeletesAndFailedWritesLeaveNoRow) {
  RowCache cache(1 << 20);
  Write(cache, "r/a", "one", 10);
  Write(cache, "r/a", std::nullopt, 20);
  EXPECT_EQ(Read(cache, "r/a", 10), std::nullopt);
  EXPECT_EQ(Read(cache, "r/a", 30), std::nullopt);
  Write(cache, "r/b", "one", 30);
  cache.BeginWrite("r/b");
  cache.FinishWrite("r/b", std::nullopt, 0);  // the store refused it
  EXPECT_EQ(Read(cache, "r/b", 40), std::nullopt);
  EXPECT_EQ(cache.GetStats().entries, 0u);
}

TEST(RowCacheTest, OverlappingWritesOfAKeyLeaveNoRow) {
  RowCache cache(1 << 20);
  cache.BeginWrite("r/a");
  cache.BeginWrite("r/a");
  cache.FinishWrite("r/a", "first", 10);
  EXPECT_EQ(Read(cache, "r/a", 100), std::nullopt);
  // Which of the two the store applied last is not known here.
  cache.FinishWrite("r/a", "second", 11);
  EXPECT_EQ(Read(cache, "r/a", 100), std::nullopt);
  // The next lone write is cached again.
  Write(cache, "r/a", "third", 12);
  EXPECT_EQ(Read(cache, "r/a", 100), "third");
}

TEST(RowCacheTest, AnIngestionForgetsEveryRow) {
  RowCache cache(1 << 20);
  Write(cache, "r/a", "one", 10);
  cache.BeginWrite("r/b");
  cache.Suspend();
  EXPECT_EQ(Read(cache, "r/a", 100), std::nullopt);
  cache.Resume();
  EXPECT_EQ(Read(cache, "r/a", 100), std::nullopt);
  // A write announced before the ingestion may predate what it ingested.
  cache.FinishWrite("r/b", "one", 11);
  EXPECT_EQ(Read(cache, "r/b", 100), std::nullopt);
  Write(cache, "r/a", "two", 12);
  EXPECT_EQ(Read(cache, "r/a", 100), "two");
}

TEST(RowCacheTest, StaysWithinItsCapacityAndKeepsAnnouncedRows) {
  constexpr size_t kCapacity = 64 << 10;
  RowCache cache(kCapacity);
  cache.BeginWrite("r/pending");
  const std::string value(200, 'x');
  for (int i = 0; i < 2000; ++i) {
    Write(cache, absl::StrCat("r/", i), value, i);
  }
  const RowCache::Stats stats = cache.GetStats();
  EXPECT_LE(stats.bytes, kCapacity);
  EXPECT_GT(stats.entries, 50u);
  EXPECT_LT(stats.entries, 2000u);
  // The recently written rows stay, the oldest went first.
  EXPECT_EQ(Read(cache, "r/1999", 5000), value);
  EXPECT_EQ(Read(cache, "r/0", 5000), std::nullopt);
  // Forgetting an announced row would let its writer's value through
  // unannounced to the next overlapping write.
  cache.FinishWrite("r/pending", "kept", 3000);
  EXPECT_EQ(Read(cache, "r/pending", 5000), "kept");
}

TEST(RowCacheTest, ReadsRefreshTheirRows) {
  constexpr size_t kCapacity = 64 << 10;
  RowCache cache(kCapacity);
  const std::string value(200, 'x');
  Write(cache, "r/read", value, 1);
  for (int i = 0; i < 2000; ++i) {
    Write(cache, absl::StrCat("r/", i), value, i + 2);
    EXPECT_EQ(Read(cache, "r/read", 10000), value) << i;
  }
  const RowCache::Stats stats = cache.GetStats();
  EXPECT_EQ(stats.hits, 2000u);
}

}  // namespace
}  // namespace leadledger::projections
