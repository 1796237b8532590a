// Subscriptions to the whole log: catch-up from disk, then live, with no gap
// and no duplicate at the switch, under concurrent appends.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/eventstore/store_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::eventstore {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

absl::Time Soon() { return absl::Now() + absl::Seconds(30); }

class SubscriptionTest : public ::testing::Test {
 protected:
  void Open(size_t buffer_events = 16384) {
    auto opened = RocksDbEventStore::Open(
        {.path = dir_.Sub("log"), .subscriber_buffer_events = buffer_events});
    ASSERT_THAT(opened, IsOk());
    store_ = *std::move(opened);
  }

  void AppendOne(const std::string& stream, const std::string& payload) {
    ASSERT_THAT(
        store_->Append(OneStream(stream, ExpectedVersion::Any(), {payload})),
        IsOk());
  }

  // Reads from `subscription` until `count` events have arrived.
  std::vector<RecordedEvent> Take(Subscription& subscription, size_t count) {
    std::vector<RecordedEvent> events;
    while (events.size() < count) {
      auto next = subscription.Next(Soon());
      EXPECT_THAT(next, IsOk());
      if (!next.ok() || next->empty()) break;
      for (auto& event : *next) events.push_back(std::move(event));
    }
    return events;
  }

  leadledger::testing::TempDir dir_;
  std::unique_ptr<RocksDbEventStore> store_;
};

TEST_F(SubscriptionTest, CatchesUpThenReceivesLiveEvents) {
  Open();
  AppendOne("a", "1");
  AppendOne("b", "2");
  auto subscription = store_->SubscribeAll({});
  ASSERT_THAT(subscription, IsOk());

  EXPECT_THAT(PayloadsOf(Take(**subscription, 2)), ElementsAre("1", "2"));
  AppendOne("a", "3");
  EXPECT_THAT(PayloadsOf(Take(**subscription, 1)), ElementsAre("3"));
}

TEST_F(SubscriptionTest, StartsAtTheGivenPosition) {
  Open();
  for (int i = 1; i <= 5; ++i) AppendOne("s", absl::StrCat(i));
  auto subscription = store_->SubscribeAll({.from_position = 4});
  ASSERT_THAT(subscription, IsOk());
  EXPECT_THAT(PositionsOf(Take(**subscription, 2)), ElementsAre(4, 5));
}

TEST_F(SubscriptionTest, FiltersByType) {
  Open();
  AppendRequest mixed = OneStream("s", ExpectedVersion::Any(), {"1", "2", "3"});
  mixed.writes[0].events[1].type = "Wanted";
  ASSERT_THAT(store_->Append(mixed), IsOk());
  auto subscription = store_->SubscribeAll({.types = {"Wanted"}});
  ASSERT_THAT(subscription, IsOk());
  EXPECT_THAT(PositionsOf(Take(**subscription, 1)), ElementsAre(2));

  AppendRequest live = OneStream("s", ExpectedVersion::Any(), {"4", "5"});
  live.writes[0].events[1].type = "Wanted";
  ASSERT_THAT(store_->Append(live), IsOk());
  EXPECT_THAT(PositionsOf(Take(**subscription, 1)), ElementsAre(5));
}

TEST_F(SubscriptionTest, NextReturnsNothingAtTheDeadline) {
  Open();
  auto subscription = store_->SubscribeAll({});
  ASSERT_THAT(subscription, IsOk());
  auto next = (*subscription)->Next(absl::Now() + absl::Milliseconds(20));
  ASSERT_THAT(next, IsOk());
  EXPECT_THAT(*next, IsEmpty());
}

TEST_F(SubscriptionTest, CancelWakesABlockedNext) {
  Open();
  auto subscription = store_->SubscribeAll({});
  ASSERT_THAT(subscription, IsOk());
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(50));
    (*subscription)->Cancel();
  });
  EXPECT_THAT((*subscription)->Next(absl::InfiniteFuture()),
              StatusIs(absl::StatusCode::kCancelled));
  canceller.join();
}

TEST_F(SubscriptionTest, PositionPastTheHeadWaitsForThatEvent) {
  Open();
  AppendOne("s", "1");
  auto subscription = store_->SubscribeAll({.from_position = 4});
  ASSERT_THAT(subscription, IsOk());
  auto early = (*subscription)->Next(absl::Now() + absl::Milliseconds(20));
  ASSERT_THAT(early, IsOk());
  EXPECT_THAT(*early, IsEmpty());
  for (int i = 2; i <= 5; ++i) AppendOne("s", absl::StrCat(i));
  EXPECT_THAT(PositionsOf(Take(**subscription, 2)), ElementsAre(4, 5));
}

TEST_F(SubscriptionTest, PositionZeroIsInvalid) {
  Open();
  EXPECT_THAT(store_->SubscribeAll({.from_position = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Subscribers starting at different moments, while writers append, each see
// every event exactly once, in order.
TEST_F(SubscriptionTest, NoGapNoDuplicateUnderConcurrentAppends) {
  Open();
  constexpr int kWriters = 4;
  constexpr int kAppendsPerWriter = 300;
  constexpr size_t kTotal = kWriters * kAppendsPerWriter;
  std::atomic<bool> writers_started = false;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      writers_started = true;
      for (int i = 0; i < kAppendsPerWriter; ++i) {
        AppendOne(absl::StrCat("w", w), absl::StrCat(w, "-", i));
      }
    });
  }
  std::vector<std::vector<RecordedEvent>> seen(3);
  std::vector<std::thread> readers;
  for (size_t r = 0; r < seen.size(); ++r) {
    readers.emplace_back([&, r] {
      while (!writers_started) absl::SleepFor(absl::Milliseconds(1));
      absl::SleepFor(absl::Milliseconds(5 * r));
      auto subscription = store_->SubscribeAll({});
      ASSERT_THAT(subscription, IsOk());
      seen[r] = Take(**subscription, kTotal);
    });
  }
  for (auto& thread : writers) thread.join();
  for (auto& thread : readers) thread.join();
  for (const auto& events : seen) {
    ASSERT_EQ(events.size(), kTotal);
    for (size_t i = 0; i < events.size(); ++i) {
      ASSERT_EQ(events[i].position, i + 1);
    }
  }
}

// A subscriber that stops reading is dropped to catch-up reads once its
// buffer is full; appends go on, and it still sees everything in order.
TEST_F(SubscriptionTest, SlowSubscriberFallsBackToDiskWithoutLosingEvents) {
  Open(/*buffer_events=*/8);
  auto subscription = store_->SubscribeAll({});
  ASSERT_THAT(subscription, IsOk());
  AppendOne("s", "0");
  ASSERT_EQ(Take(**subscription, 1).size(), 1u);  // Now live.

  for (int i = 1; i <= 100; ++i) AppendOne("s", absl::StrCat(i));
  std::vector<RecordedEvent> events = Take(**subscription, 100);
  ASSERT_EQ(events.size(), 100u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].position, i + 2);
  }
  AppendOne("s", "live again");
  EXPECT_THAT(PayloadsOf(Take(**subscription, 1)), ElementsAre("live again"));
}

}  // namespace
}  // namespace leadledger::eventstore
