#include "services/worker_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "eventstore/rocksdb_thread.h"
#include "gtest/gtest.h"

namespace leadledger::services {
namespace {

TEST(WorkerPoolTest, RunsEveryScheduledTaskBeforeDestruction) {
  std::atomic<int> ran = 0;
  {
    WorkerPool pool(3, 1000);
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE(pool.Schedule([&ran] { ++ran; }));
    }
  }
  EXPECT_EQ(ran.load(), 500);
}

TEST(WorkerPoolTest, RefusesTasksBeyondTheQueueBound) {
  absl::Notification release;
  absl::Notification started;
  std::atomic<int> ran = 0;
  {
    WorkerPool pool(1, 2);
    ASSERT_TRUE(pool.Schedule([&] {
      started.Notify();
      release.WaitForNotification();
      ++ran;
    }));
    started.WaitForNotification();  // the only worker is busy from now on
    EXPECT_TRUE(pool.Schedule([&ran] { ++ran; }));
    EXPECT_TRUE(pool.Schedule([&ran] { ++ran; }));
    EXPECT_FALSE(pool.Schedule([&ran] { ++ran; }));
    release.Notify();
  }
  EXPECT_EQ(ran.load(), 3);
}

TEST(WorkerPoolTest, WorkersDoNotCountIntoRocksDbsPerfContext) {
  std::atomic<int> counting = 0;
  {
    WorkerPool pool(2, 100);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(pool.Schedule([&counting] {
        if (eventstore::RocksDbPerfCountersEnabledOnThisThread()) ++counting;
      }));
    }
  }
  EXPECT_EQ(counting.load(), 0);
}

TEST(WorkerPoolTest, AtLeastOneThreadWhateverIsAsked) {
  WorkerPool pool(0, 10);
  EXPECT_EQ(pool.threads(), 1);
}

}  // namespace
}  // namespace leadledger::services
