#include "eventstore/rocksdb_thread.h"

#include <thread>

#include "gtest/gtest.h"

namespace leadledger::eventstore {
namespace {

TEST(RocksDbThreadTest, StopsCountingOnTheCallingThreadAlone) {
  bool enabled_before = false;
  bool enabled_after = true;
  std::thread quiet([&] {
    enabled_before = RocksDbPerfCountersEnabledOnThisThread();
    DisableRocksDbPerfCountersOnThisThread();
    enabled_after = RocksDbPerfCountersEnabledOnThisThread();
  });
  quiet.join();
  // RocksDB counts by default: what the call changes.
  EXPECT_TRUE(enabled_before);
  EXPECT_FALSE(enabled_after);

  bool enabled_elsewhere = false;
  std::thread other(
      [&] { enabled_elsewhere = RocksDbPerfCountersEnabledOnThisThread(); });
  other.join();
  EXPECT_TRUE(enabled_elsewhere);
}

}  // namespace
}  // namespace leadledger::eventstore
