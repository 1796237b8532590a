#include "eventstore/rocksdb_event_store.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/eventstore/store_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::eventstore {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kRecorded = absl::FromUnixSeconds(1'790'000'000);

class RocksDbEventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    auto opened = RocksDbEventStore::Open(
        {.path = dir_.Sub("log"), .now = [] { return kRecorded; }});
    ASSERT_THAT(opened, IsOk());
    store_ = *std::move(opened);
  }

  // Appends events with the given payloads to one stream.
  absl::StatusOr<AppendResult> Append(
      const std::string& stream, ExpectedVersion expected,
      const std::vector<std::string>& payloads) {
    return store_->Append(OneStream(stream, expected, payloads));
  }

  // Payloads of `stream`, read forward from version 0.
  std::vector<std::string> Payloads(const std::string& stream) {
    auto events = store_->ReadStream(stream, {});
    EXPECT_THAT(events, IsOk());
    return events.ok() ? PayloadsOf(*events) : std::vector<std::string>{};
  }

  leadledger::testing::TempDir dir_;
  std::unique_ptr<RocksDbEventStore> store_;
};

TEST_F(RocksDbEventStoreTest, AppendAssignsVersionsAndGaplessPositions) {
  auto first = Append("s-1", ExpectedVersion::NoStream(), {"a", "b"});
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->first_position, 1u);
  EXPECT_EQ(first->last_position, 2u);
  EXPECT_THAT(first->stream_versions, ElementsAre(1));

  auto second = Append("s-2", ExpectedVersion::Any(), {"c"});
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->first_position, 3u);
  EXPECT_THAT(second->stream_versions, ElementsAre(0));
  EXPECT_EQ(store_->HeadPosition(), 3u);
}

TEST_F(RocksDbEventStoreTest, AnAppendQueuedBehindAnotherMayExpectItsVersion) {
  // The second append is queued only once the first has its place, so it
  // commits after it and finds the version the first one left.
  std::thread second;
  absl::StatusOr<AppendResult> second_result;
  int queued_calls = 0;
  auto first = store_->AppendInOrder(
      OneStream("s-1", ExpectedVersion::NoStream(), {"a", "b"}), [&] {
        ++queued_calls;
        second = std::thread([&] {
          second_result = store_->Append(
              OneStream("s-1", ExpectedVersion::Exactly(1), {"c"}));
        });
      });
  second.join();
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second_result, IsOk());
  EXPECT_EQ(queued_calls, 1);
  EXPECT_THAT(second_result->stream_versions, ElementsAre(2));
  EXPECT_THAT(Payloads("s-1"), ElementsAre("a", "b", "c"));
}

TEST_F(RocksDbEventStoreTest, ARefusedRequestIsNeverQueued) {
  bool queued = false;
  EXPECT_THAT(store_->AppendInOrder(AppendRequest{}, [&] { queued = true; }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(queued);
  // A version conflict is found once queued: the callback ran.
  ASSERT_THAT(Append("s-1", ExpectedVersion::NoStream(), {"a"}), IsOk());
  EXPECT_THAT(store_->AppendInOrder(
                  OneStream("s-1", ExpectedVersion::NoStream(), {"b"}),
                  [&] { queued = true; }),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_TRUE(queued);
}

TEST_F(RocksDbEventStoreTest, ReadStreamReturnsTheEnvelope) {
  ASSERT_THAT(Append("s-1", ExpectedVersion::NoStream(), {"a", "b"}), IsOk());

  auto events = store_->ReadStream("s-1", {});
  ASSERT_THAT(events, IsOk());
  ASSERT_EQ(events->size(), 2u);
  const RecordedEvent& b = (*events)[1];
  EXPECT_EQ(b.event_id, "id-b");
  EXPECT_EQ(b.stream, "s-1");
  EXPECT_EQ(b.stream_version, 1);
  EXPECT_EQ(b.position, 2u);
  EXPECT_EQ(b.type, "Noted");
  EXPECT_EQ(b.schema_version, 1u);
  EXPECT_EQ(b.recorded_time, kRecorded);
  EXPECT_EQ(b.metadata.actor, "tester");
  EXPECT_EQ(b.metadata.correlation_id, "corr");
  EXPECT_EQ(b.payload, "b");
}

TEST_F(RocksDbEventStoreTest, ReadStreamBothDirectionsWithLimit) {
  ASSERT_THAT(Append("s", ExpectedVersion::NoStream(), {"0", "1", "2", "3"}),
              IsOk());
  ASSERT_THAT(Append("t", ExpectedVersion::NoStream(), {"other"}), IsOk());

  auto forward = store_->ReadStream("s", {.direction = ReadDirection::kForward,
                                          .from_version = 1,
                                          .max_count = 2});
  ASSERT_THAT(forward, IsOk());
  ASSERT_EQ(forward->size(), 2u);
  EXPECT_EQ((*forward)[0].payload, "1");
  EXPECT_EQ((*forward)[1].payload, "2");

  auto from_end =
      store_->ReadStream("s", {.direction = ReadDirection::kBackward,
                               .from_version = kNoStreamVersion,
                               .max_count = 3});
  ASSERT_THAT(from_end, IsOk());
  ASSERT_EQ(from_end->size(), 3u);
  EXPECT_EQ((*from_end)[0].payload, "3");
  EXPECT_EQ((*from_end)[2].payload, "1");

  auto backward =
      store_->ReadStream("s", {.direction = ReadDirection::kBackward,
                               .from_version = 1,
                               .max_count = 10});
  ASSERT_THAT(backward, IsOk());
  ASSERT_EQ(backward->size(), 2u);
  EXPECT_EQ((*backward)[0].payload, "1");
  EXPECT_EQ((*backward)[1].payload, "0");
}

TEST_F(RocksDbEventStoreTest, UnknownStreamReadsEmpty) {
  ASSERT_THAT(Append("s", ExpectedVersion::NoStream(), {"x"}), IsOk());
  EXPECT_TRUE(Payloads("s-").empty());
  EXPECT_TRUE(Payloads("nope").empty());
  EXPECT_THAT(store_->StreamVersion("nope"),
              leadledger::testing::IsOkAndHolds(kNoStreamVersion));
}

TEST_F(RocksDbEventStoreTest, ExpectedVersionModes) {
  // NoStream on a new stream, then refused once it exists.
  ASSERT_THAT(Append("s", ExpectedVersion::NoStream(), {"0"}), IsOk());
  EXPECT_THAT(
      Append("s", ExpectedVersion::NoStream(), {"x"}),
      StatusIs(absl::StatusCode::kAborted, HasSubstr("current version 0")));
  EXPECT_EQ(CurrentVersionOf(
                Append("s", ExpectedVersion::NoStream(), {"x"}).status()),
            0);
  EXPECT_EQ(CurrentVersionOf(absl::UnavailableError("x")), std::nullopt);
  // StreamExists only on an existing stream.
  EXPECT_THAT(Append("new", ExpectedVersion::StreamExists(), {"x"}),
              StatusIs(absl::StatusCode::kAborted));
  ASSERT_THAT(Append("s", ExpectedVersion::StreamExists(), {"1"}), IsOk());
  // Exact version.
  EXPECT_THAT(Append("s", ExpectedVersion::Exactly(0), {"x"}),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("stream s")));
  ASSERT_THAT(Append("s", ExpectedVersion::Exactly(1), {"2"}), IsOk());
  // Exactly(-1) means "no stream".
  ASSERT_THAT(
      Append("fresh", ExpectedVersion::Exactly(kNoStreamVersion), {"0"}),
      IsOk());
  // Any always.
  ASSERT_THAT(Append("s", ExpectedVersion::Any(), {"3"}), IsOk());

  EXPECT_THAT(Payloads("s"), ElementsAre("0", "1", "2", "3"));
  EXPECT_THAT(store_->StreamVersion("s"), leadledger::testing::IsOkAndHolds(3));
}

TEST_F(RocksDbEventStoreTest, MultiStreamAppendIsAllOrNothing) {
  ASSERT_THAT(Append("a", ExpectedVersion::NoStream(), {"a0"}), IsOk());

  AppendRequest refused;
  refused.writes.push_back({.stream = "b",
                            .expected_version = ExpectedVersion::NoStream(),
                            .events = {{.event_id = "1", .type = "T"}}});
  refused.writes.push_back({.stream = "a",
                            .expected_version = ExpectedVersion::NoStream(),
                            .events = {{.event_id = "2", .type = "T"}}});
  EXPECT_THAT(store_->Append(refused),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("stream a")));
  EXPECT_TRUE(Payloads("b").empty());
  EXPECT_EQ(store_->HeadPosition(), 1u);

  refused.writes[1].expected_version = ExpectedVersion::Exactly(0);
  auto accepted = store_->Append(refused);
  ASSERT_THAT(accepted, IsOk());
  EXPECT_THAT(accepted->stream_versions, ElementsAre(0, 1));
  EXPECT_EQ(accepted->first_position, 2u);
  EXPECT_EQ(accepted->last_position, 3u);
}

TEST_F(RocksDbEventStoreTest, RefusesMalformedAppends) {
  EXPECT_THAT(store_->Append({}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      Append("", ExpectedVersion::Any(), {"x"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stream")));
  EXPECT_THAT(Append(std::string("a\0b", 3), ExpectedVersion::Any(), {"x"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      Append("s", ExpectedVersion::Any(), {}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no events")));
  AppendRequest twice;
  twice.writes.push_back({.stream = "s", .events = {{.type = "T"}}});
  twice.writes.push_back({.stream = "s", .events = {{.type = "T"}}});
  EXPECT_THAT(store_->Append(twice),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
  AppendRequest untyped;
  untyped.writes.push_back({.stream = "s", .events = {{.event_id = "e"}}});
  EXPECT_THAT(store_->Append(untyped),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type")));
  EXPECT_EQ(store_->HeadPosition(), 0u);
}

TEST_F(RocksDbEventStoreTest, RefusesBadReadOptions) {
  EXPECT_THAT(
      store_->ReadStream("s", {.max_count = 0}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_count")));
  EXPECT_THAT(
      store_->ReadStream("s", {.from_version = -1}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("from_version")));
  EXPECT_THAT(store_->ReadAll({.max_count = -3}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RocksDbEventStoreTest, ReadAllInCommitOrderFromAPosition) {
  ASSERT_THAT(Append("a", ExpectedVersion::Any(), {"1", "2"}), IsOk());
  ASSERT_THAT(Append("b", ExpectedVersion::Any(), {"3"}), IsOk());
  ASSERT_THAT(Append("a", ExpectedVersion::Any(), {"4"}), IsOk());

  auto all = store_->ReadAll({.from_position = 2, .max_count = 2});
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].payload, "2");
  EXPECT_EQ((*all)[1].payload, "3");
  EXPECT_EQ((*all)[1].stream, "b");

  auto rest = store_->ReadAll({.from_position = 4});
  ASSERT_THAT(rest, IsOk());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ((*rest)[0].position, 4u);
}

TEST_F(RocksDbEventStoreTest, ReadAllFiltersByType) {
  AppendRequest mixed = OneStream("a", ExpectedVersion::Any(), {"1", "2", "3"});
  mixed.writes[0].events[1].type = "Other";
  ASSERT_THAT(store_->Append(mixed), IsOk());
  ASSERT_THAT(Append("b", ExpectedVersion::Any(), {"4"}), IsOk());

  auto noted = store_->ReadAll({.types = {"Noted"}});
  ASSERT_THAT(noted, IsOk());
  EXPECT_THAT(PayloadsOf(*noted), ElementsAre("1", "3", "4"));
  auto other = store_->ReadAll({.types = {"Other", "Missing"}});
  ASSERT_THAT(other, IsOk());
  EXPECT_THAT(PositionsOf(*other), ElementsAre(2));
  // The limit counts matching events.
  auto first_two = store_->ReadAll({.max_count = 2, .types = {"Noted"}});
  ASSERT_THAT(first_two, IsOk());
  EXPECT_THAT(PayloadsOf(*first_two), ElementsAre("1", "3"));
}

TEST_F(RocksDbEventStoreTest, ReopenRecoversHeadsAndPositions) {
  ASSERT_THAT(Append("a", ExpectedVersion::NoStream(), {"1", "2"}), IsOk());
  ASSERT_THAT(Append("b", ExpectedVersion::NoStream(), {"3"}), IsOk());
  Reopen();

  EXPECT_EQ(store_->HeadPosition(), 3u);
  EXPECT_THAT(Append("a", ExpectedVersion::Exactly(0), {"x"}),
              StatusIs(absl::StatusCode::kAborted));
  auto next = Append("a", ExpectedVersion::Exactly(1), {"4"});
  ASSERT_THAT(next, IsOk());
  EXPECT_EQ(next->first_position, 4u);
  EXPECT_THAT(Payloads("a"), ElementsAre("1", "2", "4"));
}

TEST_F(RocksDbEventStoreTest, ConcurrentWritersOnOneStreamEachVersionWinsOnce) {
  constexpr int kThreads = 8;
  constexpr int kAppendsPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> acknowledged = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      int done = 0;
      while (done < kAppendsPerThread) {
        auto version = store_->StreamVersion("hot");
        ASSERT_THAT(version, IsOk());
        auto appended = Append("hot", ExpectedVersion::Exactly(*version),
                               {absl::StrCat(t, "-", done)});
        if (appended.ok()) {
          ++done;
          ++acknowledged;
        } else {
          ASSERT_THAT(appended, StatusIs(absl::StatusCode::kAborted));
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  auto events = store_->ReadStream("hot", {.max_count = 100000});
  ASSERT_THAT(events, IsOk());
  ASSERT_EQ(events->size(), static_cast<size_t>(acknowledged.load()));
  for (size_t i = 0; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].stream_version, static_cast<int64_t>(i));
    EXPECT_EQ((*events)[i].position, i + 1);
  }
}

TEST_F(RocksDbEventStoreTest, RacingWritersOnManyStreamsLeaveAGaplessLog) {
  constexpr int kThreads = 16;
  constexpr int kAppendsPerThread = 40;
  std::vector<std::thread> threads;
  std::atomic<int> acknowledged = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        const std::string stream = absl::StrCat("s", (t + i) % 4);
        auto version = store_->StreamVersion(stream);
        ASSERT_THAT(version, IsOk());
        auto appended = Append(
            stream, ExpectedVersion::Exactly(*version),
            {absl::StrCat(t, "-", i, "-a"), absl::StrCat(t, "-", i, "-b")});
        if (appended.ok()) {
          acknowledged += 2;
          // Both events of the append are adjacent in the log.
          EXPECT_EQ(appended->last_position, appended->first_position + 1);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();

  auto all = store_->ReadAll({.max_count = 100000});
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), static_cast<size_t>(acknowledged.load()));
  absl::flat_hash_map<std::string, int64_t> next_version;
  for (size_t i = 0; i < all->size(); ++i) {
    const RecordedEvent& event = (*all)[i];
    EXPECT_EQ(event.position, i + 1);
    EXPECT_EQ(event.stream_version, next_version[event.stream]++);
  }
  EXPECT_EQ(store_->HeadPosition(), all->size());
}

// Long enough that no test waits it out: an append that should not wait for
// its delay is given kPromptly, then the test fails.
constexpr absl::Duration kLongDelay = absl::Seconds(60);
constexpr absl::Duration kPromptly = absl::Seconds(20);

// An append of one event to `stream` with a max_sync_delay, on a thread of
// its own; constructed once the append is queued.
class DelayedAppend {
 public:
  DelayedAppend(EventStore& store, const std::string& stream,
                absl::Duration delay) {
    AppendRequest request =
        OneStream(stream, ExpectedVersion::NoStream(), {"effect"});
    request.max_sync_delay = delay;
    thread_ = std::thread([this, &store, request = std::move(request)] {
      result_ = store.AppendInOrder(request, [this] { queued_.Notify(); });
      done_.Notify();
    });
    queued_.WaitForNotification();
  }
  ~DelayedAppend() { thread_.join(); }

  bool done() const { return done_.HasBeenNotified(); }
  bool WaitFor(absl::Duration timeout) {
    return done_.WaitForNotificationWithTimeout(timeout);
  }
  // Once done.
  const absl::StatusOr<AppendResult>& result() const { return result_; }

 private:
  absl::Notification queued_;
  absl::Notification done_;
  absl::StatusOr<AppendResult> result_;
  std::thread thread_;
};

TEST_F(RocksDbEventStoreTest, ADelayedAppendWaitsForAnAppendWithoutDelay) {
  DelayedAppend effect(*store_, "effect-1", kLongDelay);
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(effect.done());
  EXPECT_EQ(store_->HeadPosition(), 0u);

  const absl::Time start = absl::Now();
  auto command = Append("lead-1", ExpectedVersion::NoStream(), {"command"});
  ASSERT_THAT(command, IsOk());
  EXPECT_LT(absl::Now() - start, kPromptly);
  ASSERT_TRUE(effect.WaitFor(kPromptly));
  ASSERT_THAT(effect.result(), IsOk());
  // Queued first, so written first: the command took it along.
  EXPECT_EQ(effect.result()->first_position, 1u);
  EXPECT_EQ(command->first_position, 2u);
  EXPECT_THAT(Payloads("effect-1"), ElementsAre("effect"));
}

TEST(RocksDbEventStoreGroupTest, ALeaderBehindAFullGroupLeadsAgainForItself) {
  // With groups of one event, the append without delay leads a group that
  // holds only the delayed append ahead of it, then its own.
  leadledger::testing::TempDir dir;
  auto opened = RocksDbEventStore::Open({.path = dir.Sub("log"),
                                         .now = [] { return kRecorded; },
                                         .max_group_events = 1});
  ASSERT_THAT(opened, IsOk());
  std::unique_ptr<RocksDbEventStore> store = *std::move(opened);
  DelayedAppend effect(*store, "effect-1", kLongDelay);
  auto command = store->Append(
      OneStream("lead-1", ExpectedVersion::NoStream(), {"command"}));
  ASSERT_THAT(command, IsOk());
  EXPECT_EQ(command->first_position, 2u);
  ASSERT_TRUE(effect.WaitFor(kPromptly));
  ASSERT_THAT(effect.result(), IsOk());
  EXPECT_EQ(effect.result()->first_position, 1u);
  EXPECT_EQ(store->HeadPosition(), 2u);
}

TEST_F(RocksDbEventStoreTest, ADelayedAppendAloneIsWrittenWhenItsDelayEnds) {
  const absl::Time start = absl::Now();
  AppendRequest request =
      OneStream("effect-1", ExpectedVersion::NoStream(), {"effect"});
  request.max_sync_delay = absl::Milliseconds(30);
  auto appended = store_->Append(std::move(request));
  ASSERT_THAT(appended, IsOk());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(30));
  EXPECT_EQ(store_->HeadPosition(), 1u);
}

TEST_F(RocksDbEventStoreTest, DelayedAppendsQueuedTogetherAreWrittenAtOnce) {
  DelayedAppend first(*store_, "effect-1", kLongDelay);
  DelayedAppend second(*store_, "effect-2", kLongDelay);
  ASSERT_TRUE(first.WaitFor(kPromptly));
  ASSERT_TRUE(second.WaitFor(kPromptly));
  ASSERT_THAT(first.result(), IsOk());
  ASSERT_THAT(second.result(), IsOk());
  EXPECT_EQ(first.result()->first_position, 1u);
  EXPECT_EQ(second.result()->first_position, 2u);
}

TEST_F(RocksDbEventStoreTest, ExpeditedAppendsWriteDelayedOnesAtOnce) {
  {
    DelayedAppend effect(*store_, "effect-1", kLongDelay);
    ExpeditedAppends expedited(*store_);
    ASSERT_TRUE(effect.WaitFor(kPromptly));
    ASSERT_THAT(effect.result(), IsOk());
  }
  // Once the last reader stopped waiting, delayed appends wait again.
  DelayedAppend effect(*store_, "effect-2", kLongDelay);
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(effect.done());
  ASSERT_THAT(Append("lead-1", ExpectedVersion::NoStream(), {"command"}),
              IsOk());
  ASSERT_TRUE(effect.WaitFor(kPromptly));
}

TEST_F(RocksDbEventStoreTest, ClosingTheStoreWritesADelayedAppendFirst) {
  {
    DelayedAppend effect(*store_, "effect-1", kLongDelay);
    const absl::Time start = absl::Now();
    store_.reset();
    EXPECT_LT(absl::Now() - start, kPromptly);
    ASSERT_TRUE(effect.WaitFor(kPromptly));
    ASSERT_THAT(effect.result(), IsOk());
  }
  Reopen();
  EXPECT_THAT(Payloads("effect-1"), ElementsAre("effect"));
}

TEST(RocksDbEventStoreOpenTest, RefusesAnotherSchemaVersion) {
  leadledger::testing::TempDir dir;
  {
    auto store = RocksDbEventStore::Open({.path = dir.Sub("log")});
    ASSERT_THAT(store, IsOk());
  }
  {
    RawDb raw(dir.Sub("log"));
    ASSERT_TRUE(raw.db()
                    ->Put(rocksdb::WriteOptions(), raw.Family("meta"),
                          "schema_version", "99")
                    .ok());
  }
  EXPECT_THAT(RocksDbEventStore::Open({.path = dir.Sub("log")}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema version 99")));
}

TEST(RocksDbEventStoreHeadsTest, AHeadTheCacheForgotIsCheckedAgainstTheDisk) {
  leadledger::testing::TempDir dir;
  auto opened =
      RocksDbEventStore::Open({.path = dir.Sub("log"), .cached_heads = 2});
  ASSERT_THAT(opened, IsOk());
  RocksDbEventStore& store = **opened;
  ASSERT_THAT(
      store.Append(OneStream("first", ExpectedVersion::NoStream(), {"0"})),
      IsOk());
  // Enough other streams for the cache to forget the first one.
  for (int i = 0; i < 10; ++i) {
    ASSERT_THAT(store.Append(OneStream(absl::StrCat("other-", i),
                                       ExpectedVersion::NoStream(), {"0"})),
                IsOk());
  }
  EXPECT_THAT(
      store.Append(OneStream("first", ExpectedVersion::NoStream(), {"x"})),
      StatusIs(absl::StatusCode::kAborted, HasSubstr("current version 0")));
  ASSERT_THAT(
      store.Append(OneStream("first", ExpectedVersion::Exactly(0), {"1"})),
      IsOk());
  for (int i = 0; i < 10; ++i) {
    ASSERT_THAT(store.Append(OneStream(absl::StrCat("other-", i),
                                       ExpectedVersion::Exactly(0), {"1"})),
                IsOk());
  }
  EXPECT_THAT(
      store.Append(OneStream("first", ExpectedVersion::Exactly(0), {"x"})),
      StatusIs(absl::StatusCode::kAborted, HasSubstr("current version 1")));
  ASSERT_THAT(
      store.Append(OneStream("first", ExpectedVersion::Exactly(1), {"2"})),
      IsOk());
  auto events = store.ReadStream("first", {});
  ASSERT_THAT(events, IsOk());
  EXPECT_THAT(PayloadsOf(*events), ElementsAre("0", "1", "2"));
}

TEST(RocksDbEventStoreOpenTest, RefusesACacheOfFewerThanTwoHeads) {
  leadledger::testing::TempDir dir;
  EXPECT_THAT(
      RocksDbEventStore::Open({.path = dir.Sub("log"), .cached_heads = 1}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cached_heads")));
}

TEST(RocksDbEventStoreOpenTest, RefusesAnEmptyPathAndALockedDirectory) {
  EXPECT_THAT(RocksDbEventStore::Open({.path = ""}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  leadledger::testing::TempDir dir;
  auto first = RocksDbEventStore::Open({.path = dir.Sub("log")});
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(RocksDbEventStore::Open({.path = dir.Sub("log")}),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("lock")));
}

}  // namespace
}  // namespace leadledger::eventstore
