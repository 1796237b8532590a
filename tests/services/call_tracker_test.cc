#include "services/call_tracker.h"

#include <optional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace leadledger::services {
namespace {

TEST(CallTrackerTest, DrainWaitsForCallsInFlightAndRefusesNewOnes) {
  CallTracker calls;
  std::optional<CallTracker::Scope> call = calls.Enter();
  ASSERT_TRUE(call.has_value());

  absl::Notification drained;
  int64_t left = -1;
  std::thread drainer([&] {
    left = calls.DrainUntil(absl::InfiniteFuture());
    drained.Notify();
  });
  // Draining has begun once new calls are refused.
  while (true) {
    std::optional<CallTracker::Scope> late = calls.Enter();
    if (!late.has_value()) break;
  }
  EXPECT_FALSE(drained.HasBeenNotified());

  call.reset();
  drainer.join();
  EXPECT_EQ(left, 0);
}

TEST(CallTrackerTest, DrainGivesUpAtTheDeadline) {
  CallTracker calls;
  std::optional<CallTracker::Scope> stuck = calls.Enter();
  EXPECT_EQ(calls.DrainUntil(absl::Now() + absl::Milliseconds(10)), 1);
}

TEST(CallTrackerTest, ScopesMoveWithoutCountingTwice) {
  CallTracker calls;
  {
    std::optional<CallTracker::Scope> first = calls.Enter();
    CallTracker::Scope moved = std::move(*first);
    first.reset();
  }
  EXPECT_EQ(calls.DrainUntil(absl::Now()), 0);
}

}  // namespace
}  // namespace leadledger::services
