#include "services/lead_turns.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadledger::services {
namespace {

using ::testing::ElementsAre;

// Waits (without a deadline: ctest's timeout catches a hang) until `lead_id`
// has `queued` turns held or awaited.
void AwaitQueued(const LeadTurns& turns, const std::string& lead_id,
                 uint64_t queued) {
  while (turns.turns_queued(lead_id) != queued) {
    absl::SleepFor(absl::Microseconds(100));
  }
}

TEST(LeadTurnsTest, TurnsOnOneLeadAreServedInArrivalOrder) {
  LeadTurns turns;
  std::optional<LeadTurns::Turn> first = turns.Take("a");
  absl::Mutex mu;
  std::vector<int> served;
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      LeadTurns::Turn turn = turns.Take("a");
      absl::MutexLock lock(&mu);
      served.push_back(i);
    });
    // Thread i waits before thread i + 1 starts.
    AwaitQueued(turns, "a", i + 2);
  }
  first.reset();
  for (auto& thread : threads) thread.join();
  EXPECT_THAT(served, ElementsAre(0, 1, 2, 3, 4, 5));
  EXPECT_EQ(turns.busy_leads(), 0u);
}

TEST(LeadTurnsTest, OtherLeadsDoNotWait) {
  LeadTurns turns;
  LeadTurns::Turn a = turns.Take("a");
  // Would never return if "b" waited for "a".
  LeadTurns::Turn b = turns.Take("b");
  EXPECT_EQ(turns.busy_leads(), 2u);
  EXPECT_EQ(turns.turns_queued("a"), 1u);
  EXPECT_EQ(turns.turns_queued("c"), 0u);
}

TEST(LeadTurnsTest, IdleLeadsAreForgotten) {
  LeadTurns turns;
  {
    std::vector<LeadTurns::Turn> held = turns.TakeAll({"x", "y", "x", "z"});
    EXPECT_EQ(held.size(), 3u);  // "x" once
    EXPECT_EQ(turns.busy_leads(), 3u);
  }
  EXPECT_EQ(turns.busy_leads(), 0u);
  LeadTurns::Turn moved_from = turns.Take("m");
  LeadTurns::Turn moved = std::move(moved_from);
  EXPECT_EQ(turns.turns_queued("m"), 1u);
}

TEST(LeadTurnsTest, OneHolderAtATime) {
  LeadTurns turns;
  constexpr int kThreads = 8;
  constexpr int kRounds = 2000;
  int unguarded = 0;  // changed only while holding the turn on "hot"
  std::atomic<int> holders = 0;
  std::atomic<int> overlaps = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        LeadTurns::Turn turn = turns.Take("hot");
        if (holders.fetch_add(1) != 0) ++overlaps;
        ++unguarded;
        holders.fetch_sub(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(unguarded, kThreads * kRounds);
  EXPECT_EQ(turns.busy_leads(), 0u);
}

TEST(LeadTurnsTest, OverlappingSetsInAnyOrderDoNotDeadlock) {
  LeadTurns turns;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        std::vector<std::string> ids =
            t % 2 == 0 ? std::vector<std::string>{"p", "q", "r"}
                       : std::vector<std::string>{"r", "q", "p"};
        std::vector<LeadTurns::Turn> held = turns.TakeAll(ids);
        LeadTurns::Turn single = turns.Take(t % 2 == 0 ? "s" : "t");
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(turns.busy_leads(), 0u);
}

std::shared_ptr<const LeadSnapshot> StateAt(int64_t version) {
  auto state = std::make_shared<LeadSnapshot>();
  state->version = version;
  return state;
}

TEST(LeadTurnsTest, APassedTurnHandsItsStateToTheNext) {
  LeadTurns turns;
  LeadTurns::Turn first = turns.Take("a");
  EXPECT_EQ(first.StateAhead(), nullptr);
  const auto one = StateAt(1);
  LeadTurns::InFlight first_append = turns.Pass(std::move(first), one);
  // The turn has ended: the next one starts at once, on the state ahead.
  LeadTurns::Turn second = turns.Take("a");
  EXPECT_EQ(second.StateAhead(), one);
  const auto two = StateAt(2);
  LeadTurns::InFlight second_append = turns.Pass(std::move(second), two);
  first_append.Committed();
  EXPECT_EQ(turns.Take("a").StateAhead(), two);
  second_append.Committed();
  // Nothing in flight: the stored lead is the one to decide on.
  EXPECT_EQ(turns.Take("a").StateAhead(), nullptr);
  EXPECT_EQ(turns.busy_leads(), 0u);
}

TEST(LeadTurnsTest, AFailedAppendSendsTheNextTurnToTheStoredLead) {
  LeadTurns turns;
  std::optional<LeadTurns::InFlight> first =
      turns.Pass(turns.Take("a"), StateAt(1));
  LeadTurns::InFlight second = turns.Pass(turns.Take("a"), StateAt(2));
  first.reset();  // settled without Committed(): failed
  EXPECT_EQ(turns.Take("a").StateAhead(), nullptr);
  EXPECT_EQ(turns.busy_leads(), 1u);  // the second append is still in flight
  second.Committed();
  EXPECT_EQ(turns.busy_leads(), 0u);
}

TEST(LeadTurnsTest, AwaitSettledWaitsForAppendsInFlight) {
  LeadTurns turns;
  std::optional<LeadTurns::InFlight> in_flight =
      turns.Pass(turns.Take("a"), StateAt(1));
  std::atomic<bool> settled = false;
  std::thread waiter([&] {
    LeadTurns::Turn turn = turns.Take("a");
    turn.AwaitSettled();
    settled = true;
  });
  AwaitQueued(turns, "a", 1);  // the waiter holds its turn
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(settled.load());
  in_flight->Committed();
  waiter.join();
  EXPECT_TRUE(settled.load());
  EXPECT_EQ(turns.busy_leads(), 0u);
}

}  // namespace
}  // namespace leadledger::services
