#include "projections/log_prefetcher.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/rocksdb_event_store.h"
#include "gtest/gtest.h"
#include "tests/eventstore/store_test_util.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::projections {
namespace {

class LogPrefetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = eventstore::RocksDbEventStore::Open({.path = dir_.Sub("log")});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(store_
                      ->Append(eventstore::OneStream(
                          "s", eventstore::ExpectedVersion::Any(),
                          {absl::StrCat("payload-", i)}))
                      .ok());
    }
  }

  // The positions of every chunk `prefetcher` hands out, up to the first
  // empty one.
  static std::vector<std::vector<uint64_t>> Drain(LogPrefetcher& prefetcher) {
    std::vector<std::vector<uint64_t>> chunks;
    while (true) {
      auto chunk = prefetcher.Next();
      EXPECT_TRUE(chunk.ok()) << chunk.status();
      if (!chunk.ok() || (*chunk)->events.empty()) return chunks;
      std::vector<uint64_t> positions;
      for (size_t i = 0; i < (*chunk)->events.size(); ++i) {
        positions.push_back((*chunk)->events[i].position);
        EXPECT_EQ(&(*chunk)->decoded[i].recorded(), &(*chunk)->events[i]);
      }
      chunks.push_back(positions);
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<eventstore::RocksDbEventStore> store_;
};

TEST_F(LogPrefetcherTest, ReadsToTheHead) {
  LogPrefetcher prefetcher(store_.get(), 3, 4, 2);
  EXPECT_EQ(Drain(prefetcher),
            (std::vector<std::vector<uint64_t>>{{3, 4, 5, 6}, {7, 8, 9, 10}}));
}

TEST_F(LogPrefetcherTest, StopsAtItsLastPositionWhateverFollows) {
  LogPrefetcher prefetcher(store_.get(), 2, 3, 2, 6);
  EXPECT_EQ(Drain(prefetcher),
            (std::vector<std::vector<uint64_t>>{{2, 3, 4}, {5, 6}}));
}

TEST_F(LogPrefetcherTest, ItsThreadStartsWithTheHookBeforeReading) {
  std::atomic<int> hooked = 0;
  std::thread::id hooked_thread;
  // The first chunk is read after the hook returns, so the test reads
  // `hooked_thread` after the hook wrote it.
  LogPrefetcher prefetcher(store_.get(), 1, 4, 2, LogPrefetcher::kToTheHead,
                           [&] {
                             hooked_thread = std::this_thread::get_id();
                             ++hooked;
                           });
  auto first = prefetcher.Next();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->events.size(), 4u);
  EXPECT_EQ(hooked.load(), 1);
  EXPECT_NE(hooked_thread, std::this_thread::get_id());
  EXPECT_EQ(Drain(prefetcher).size(), 2u);
  EXPECT_EQ(hooked.load(), 1);
}

TEST_F(LogPrefetcherTest, ALastPositionBeforeTheFirstReadsNothing) {
  LogPrefetcher prefetcher(store_.get(), 5, 3, 2, 4);
  EXPECT_TRUE(Drain(prefetcher).empty());
}

}  // namespace
}  // namespace leadledger::projections
