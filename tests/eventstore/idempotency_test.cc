// Idempotent appends: a retry with the same key returns the first result and
// writes nothing; a key reused for other content is refused; keys expire.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "domain/clock.h"
#include "eventstore/fingerprint.h"
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
using ::testing::HasSubstr;

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    auto opened =
        RocksDbEventStore::Open({.path = dir_.Sub("log"),
                                 .now = [this] { return clock_.Now(); },
                                 .idempotency_retention = absl::Hours(24)});
    ASSERT_THAT(opened, IsOk());
    store_ = *std::move(opened);
  }

  std::vector<std::string> Payloads(const std::string& stream) {
    auto events = store_->ReadStream(stream, {});
    EXPECT_THAT(events, IsOk());
    return events.ok() ? PayloadsOf(*events) : std::vector<std::string>{};
  }

  leadledger::testing::TempDir dir_;
  FakeClock clock_{absl::FromUnixSeconds(1'790'000'000)};
  std::unique_ptr<RocksDbEventStore> store_;
};

TEST_F(IdempotencyTest, RetryReturnsTheFirstResultAndWritesNothing) {
  auto first =
      store_->Append(OneStream("s", ExpectedVersion::NoStream(), {"a"}, "k1"));
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(store_->Append(OneStream("t", ExpectedVersion::Any(), {"b"})),
              IsOk());

  // The retry's expected version no longer holds; it is not re-decided.
  auto retry =
      store_->Append(OneStream("s", ExpectedVersion::NoStream(), {"a"}, "k1"));
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->first_position, first->first_position);
  EXPECT_EQ(retry->last_position, first->last_position);
  EXPECT_EQ(retry->stream_versions, first->stream_versions);
  EXPECT_EQ(store_->HeadPosition(), 2u);
  EXPECT_THAT(Payloads("s"), ElementsAre("a"));
}

TEST_F(IdempotencyTest, LookupTellsWhatAKeyCommitted) {
  auto missing = store_->LookupIdempotencyKey("k1");
  ASSERT_THAT(missing, IsOk());
  EXPECT_FALSE(missing->has_value());
  AppendRequest request = OneStream("s", ExpectedVersion::Any(), {"a"}, "k1");
  request.idempotency_fingerprint = "print";
  auto first = store_->Append(request);
  ASSERT_THAT(first, IsOk());
  auto found = store_->LookupIdempotencyKey("k1");
  ASSERT_THAT(found, IsOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->fingerprint, "print");
  EXPECT_EQ((*found)->result.last_position, first->last_position);
  EXPECT_EQ((*found)->result.stream_versions, first->stream_versions);
}

TEST_F(IdempotencyTest, KeyReusedForOtherContentIsAlreadyExists) {
  ASSERT_THAT(
      store_->Append(OneStream("s", ExpectedVersion::Any(), {"a"}, "k1")),
      IsOk());
  EXPECT_THAT(
      store_->Append(OneStream("s", ExpectedVersion::Any(), {"other"}, "k1")),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("k1")));
  EXPECT_THAT(store_->Append(
                  OneStream("elsewhere", ExpectedVersion::Any(), {"a"}, "k1")),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(Payloads("s"), ElementsAre("a"));
}

TEST_F(IdempotencyTest, CallerFingerprintDefinesSameness) {
  // A retried request decides again and produces new event ids and payloads;
  // its fingerprint says it is the same request.
  AppendRequest first = OneStream("s", ExpectedVersion::Any(), {"v1"}, "req-7");
  first.idempotency_fingerprint = "create lead Ana";
  auto written = store_->Append(first);
  ASSERT_THAT(written, IsOk());

  AppendRequest retry = OneStream("s", ExpectedVersion::Any(), {"v2"}, "req-7");
  retry.idempotency_fingerprint = "create lead Ana";
  auto replayed = store_->Append(retry);
  ASSERT_THAT(replayed, IsOk());
  EXPECT_EQ(replayed->last_position, written->last_position);

  retry.idempotency_fingerprint = "create lead Bob";
  EXPECT_THAT(store_->Append(retry),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(Payloads("s"), ElementsAre("v1"));
}

TEST_F(IdempotencyTest, KeysSurviveReopen) {
  auto first =
      store_->Append(OneStream("s", ExpectedVersion::Any(), {"a"}, "k1"));
  ASSERT_THAT(first, IsOk());
  Reopen();
  auto retry =
      store_->Append(OneStream("s", ExpectedVersion::Any(), {"a"}, "k1"));
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->first_position, first->first_position);
  EXPECT_EQ(store_->HeadPosition(), 1u);
}

TEST_F(IdempotencyTest, RefusedAppendKeepsTheKeyFree) {
  ASSERT_THAT(store_->Append(OneStream("s", ExpectedVersion::Any(), {"a"})),
              IsOk());
  EXPECT_THAT(
      store_->Append(OneStream("s", ExpectedVersion::NoStream(), {"b"}, "k1")),
      StatusIs(absl::StatusCode::kAborted));
  // Nothing was committed under k1, so other content may use it.
  EXPECT_THAT(
      store_->Append(OneStream("s", ExpectedVersion::Exactly(0), {"c"}, "k1")),
      IsOk());
  EXPECT_THAT(Payloads("s"), ElementsAre("a", "c"));
}

TEST_F(IdempotencyTest, ConcurrentRetriesWriteOnce) {
  constexpr int kThreads = 16;
  std::vector<std::thread> threads;
  absl::Mutex mu;
  std::vector<uint64_t> positions;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto result =
          store_->Append(OneStream("s", ExpectedVersion::Any(), {"a"}, "same"));
      ASSERT_THAT(result, IsOk());
      absl::MutexLock lock(&mu);
      positions.push_back(result->first_position);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_THAT(positions, ::testing::Each(1u));
  EXPECT_THAT(Payloads("s"), ElementsAre("a"));
}

TEST_F(IdempotencyTest, KeysExpireAfterRetentionByCompaction) {
  ASSERT_THAT(
      store_->Append(OneStream("s", ExpectedVersion::Any(), {"a"}, "k1")),
      IsOk());
  ASSERT_THAT(
      store_->Append(OneStream("s", ExpectedVersion::Any(), {"b"}, "k2")),
      IsOk());

  // Within retention compaction keeps the keys.
  clock_.Advance(absl::Hours(23));
  ASSERT_THAT(store_->ExpireIdempotencyKeys(), IsOk());
  ASSERT_THAT(
      store_->Append(OneStream("s", ExpectedVersion::Any(), {"a"}, "k1")),
      IsOk());
  EXPECT_THAT(Payloads("s"), ElementsAre("a", "b"));

  clock_.Advance(absl::Hours(2));
  ASSERT_THAT(store_->ExpireIdempotencyKeys(), IsOk());
  // Forgotten: the same append is new again.
  ASSERT_THAT(
      store_->Append(OneStream("s", ExpectedVersion::Any(), {"a"}, "k1")),
      IsOk());
  EXPECT_THAT(Payloads("s"), ElementsAre("a", "b", "a"));
}

TEST_F(IdempotencyTest, OverlongKeyIsInvalidArgument) {
  EXPECT_THAT(store_->Append(OneStream("s", ExpectedVersion::Any(), {"a"},
                                       std::string(129, 'k'))),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("idempotency_key")));
}

TEST(FingerprintTest, DependsOnEveryPartOfTheWrites) {
  const AppendRequest base = OneStream("s", ExpectedVersion::Exactly(3), {"a"});
  const std::string print = FingerprintWrites(base);
  EXPECT_EQ(print.size(), 16u);
  EXPECT_EQ(FingerprintWrites(base), print);

  AppendRequest changed = base;
  changed.writes[0].stream = "t";
  EXPECT_NE(FingerprintWrites(changed), print);
  changed = base;
  changed.writes[0].expected_version = ExpectedVersion::Exactly(4);
  EXPECT_NE(FingerprintWrites(changed), print);
  changed = base;
  changed.writes[0].events[0].payload = "b";
  EXPECT_NE(FingerprintWrites(changed), print);
  changed = base;
  changed.writes[0].events[0].type = "Other";
  EXPECT_NE(FingerprintWrites(changed), print);
  changed = base;
  changed.writes[0].events[0].event_id = "other";
  EXPECT_NE(FingerprintWrites(changed), print);
  // Field boundaries matter: ("ab", "") differs from ("a", "b").
  AppendRequest split = base;
  split.writes[0].events[0].type = "ab";
  split.writes[0].events[0].payload = "";
  AppendRequest moved = base;
  moved.writes[0].events[0].type = "a";
  moved.writes[0].events[0].payload = "b";
  EXPECT_NE(FingerprintWrites(split), FingerprintWrites(moved));
  // Metadata is not content.
  changed = base;
  changed.metadata.actor = "someone else";
  EXPECT_EQ(FingerprintWrites(changed), print);
}

}  // namespace
}  // namespace leadledger::eventstore
