#include "projections/projection_runner.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "eventstore/rocksdb_event_store.h"
#include "eventstore/rocksdb_thread.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/projection_db.h"
#include "tests/eventstore/store_test_util.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::projections {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::StatusIs;
using ::testing::HasSubstr;

// Adds `n` to the count stored at `key` (0 when there is none).
absl::Status AddToCount(RowBatch& rows, absl::string_view key, int64_t n) {
  absl::StatusOr<std::optional<std::string>> count = rows.Get(key);
  if (!count.ok()) return count.status();
  int64_t value = 0;
  if (count->has_value() && !absl::SimpleAtoi(**count, &value)) {
    return absl::DataLossError("bad count");
  }
  rows.Put(key, absl::StrCat(value + n));
  return absl::OkStatus();
}

// Folds "Noted" events into one row per event and a running count, read
// back from the batch, so a double fold or a skipped event shows.
class LedgerProjection final : public Projection {
 public:
  bool Wants(absl::string_view type) const override {
    return type == "Noted" || type == "Poison";
  }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     RowBatch& rows) override {
    if (event.type == "Poison") {
      return absl::DataLossError("cannot read this event");
    }
    rows.Put(absl::StrCat("e/", event.position), event.payload);
    return AddToCount(rows, "count", 1);
  }
};

// Counts every event but stops on nothing: shows that one projection's
// failure leaves the others folding.
class CountAllProjection final : public Projection {
 public:
  bool Wants(absl::string_view) const override { return true; }
  absl::Status Apply(const eventstore::RecordedEvent&,
                     RowBatch& rows) override {
    ++pending_;
    (void)rows;
    return absl::OkStatus();
  }
  absl::Status Flush(RowBatch& rows) override {
    const int64_t pending = pending_;
    pending_ = 0;
    return AddToCount(rows, "count", pending);
  }

 private:
  int64_t pending_ = 0;
};

// LedgerProjection's rows, folded as a bulk projection must be: the count is
// kept in memory and written in Flush, so no read asks for what the same
// commit wrote.
class BulkLedgerProjection final : public Projection {
 public:
  bool Wants(absl::string_view type) const override {
    return type == "Noted" || type == "Poison";
  }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     RowBatch& rows) override {
    if (event.type == "Poison") {
      return absl::DataLossError("cannot read this event");
    }
    ++pending_;
    rows.Put(absl::StrCat("e/", event.position), event.payload);
    return absl::OkStatus();
  }
  absl::Status Flush(RowBatch& rows) override {
    if (pending_ == 0) return absl::OkStatus();
    const int64_t pending = pending_;
    pending_ = 0;
    return AddToCount(rows, "count", pending);
  }

 private:
  int64_t pending_ = 0;
};

ProjectionSpec BulkLedger() {
  return ProjectionSpec{.name = "bulk_ledger", .bulk = true, .make = [] {
                          return std::make_unique<BulkLedgerProjection>();
                        }};
}

// Counts each stream's events in a row of its own, "n/<stream>", read back
// in Flush; as a sharded bulk fold, it tells `seen` which streams each
// instance folded.
class StreamCountProjection final : public Projection {
 public:
  using Seen = std::vector<std::set<std::string>>;

  StreamCountProjection(std::shared_ptr<absl::Mutex> mu,
                        std::shared_ptr<Seen> seen)
      : mu_(std::move(mu)), seen_(std::move(seen)) {}

  bool Wants(absl::string_view type) const override { return type == "Noted"; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     RowBatch&) override {
    ++pending_[event.stream];
    return absl::OkStatus();
  }
  absl::Status Flush(RowBatch& rows) override {
    std::set<std::string> streams;
    for (const auto& [stream, count] : pending_) {
      absl::Status added = AddToCount(rows, absl::StrCat("n/", stream), count);
      if (!added.ok()) return added;
      streams.insert(stream);
    }
    pending_.clear();
    if (!streams.empty()) {
      absl::MutexLock lock(mu_.get());
      seen_->push_back(std::move(streams));
    }
    return absl::OkStatus();
  }

 private:
  const std::shared_ptr<absl::Mutex> mu_;
  const std::shared_ptr<Seen> seen_;
  std::map<std::string, int64_t> pending_;
};

// Set on the threads that started with BulkFoldHooks::thread_started.
thread_local bool thread_hooked = false;

// Counts the events folded on threads where RocksDB counts into its perf
// context, on threads that did not start with the bulk fold hooks'
// thread_started, and all the events folded.
struct PerfCountingProbe {
  std::atomic<int> folded = 0;
  std::atomic<int> folded_counting = 0;
  std::atomic<int> folded_unhooked = 0;
};

class PerfCountingProjection final : public Projection {
 public:
  explicit PerfCountingProjection(std::shared_ptr<PerfCountingProbe> probe)
      : probe_(std::move(probe)) {}
  bool Wants(absl::string_view type) const override { return type == "Noted"; }
  absl::Status Apply(const eventstore::RecordedEvent& event,
                     RowBatch& rows) override {
    ++probe_->folded;
    if (eventstore::RocksDbPerfCountersEnabledOnThisThread()) {
      ++probe_->folded_counting;
    }
    if (!thread_hooked) ++probe_->folded_unhooked;
    rows.Put(absl::StrCat("e/", event.position), event.payload);
    return absl::OkStatus();
  }

 private:
  const std::shared_ptr<PerfCountingProbe> probe_;
};

ProjectionSpec PerfCounting(std::shared_ptr<PerfCountingProbe> probe, bool bulk,
                            int shards, int version) {
  return ProjectionSpec{
      .name = bulk ? "bulk_probe" : "probe",
      .version = version,
      .bulk = bulk,
      .bulk_shards = shards,
      .make = [probe] {
        return std::make_unique<PerfCountingProjection>(probe);
      }};
}

ProjectionSpec Ledger(int version = 1) {
  return ProjectionSpec{.name = "ledger", .version = version, .make = [] {
                          return std::make_unique<LedgerProjection>();
                        }};
}

ProjectionSpec CountAll() {
  return ProjectionSpec{.name = "count_all", .make = [] {
                          return std::make_unique<CountAllProjection>();
                        }};
}

class ProjectionRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override { OpenStores(); }

  void OpenStores() {
    auto store = eventstore::RocksDbEventStore::Open({.path = dir_.Sub("log")});
    ASSERT_THAT(store.status(), IsOk());
    store_ = std::move(*store);
    auto db = ProjectionDb::Open(dir_.Sub("projections"));
    ASSERT_THAT(db.status(), IsOk());
    db_ = std::move(*db);
  }

  void CloseStores() {
    runner_.reset();
    db_.reset();
    store_.reset();
  }

  void StartRunner(std::vector<ProjectionSpec> specs,
                   ProjectionRunnerOptions options = TestOptions()) {
    runner_ = std::make_unique<ProjectionRunner>(store_.get(), db_.get(),
                                                 std::move(specs), options);
    ASSERT_THAT(runner_->Start(), IsOk());
  }

  // Small steps, so that a few events make many of them; bulk folds commit
  // every 16 events and start at a lag of 10.
  static ProjectionRunnerOptions TestOptions() {
    return ProjectionRunnerOptions{.poll_interval = absl::Milliseconds(20),
                                   .rebuild_batch_events = 7,
                                   .progress_interval = absl::ZeroDuration(),
                                   .bulk_commit_events = 16,
                                   .bulk_lag_events = 10};
  }

  // Appends `n` "Noted" events, each its own append, to stream `stream`.
  void Append(int n, const std::string& stream = "s") {
    for (int i = 0; i < n; ++i) {
      ASSERT_THAT(store_
                      ->Append(eventstore::OneStream(
                          stream, eventstore::ExpectedVersion::Any(),
                          {absl::StrCat(stream, "-", next_payload_++)}))
                      .status(),
                  IsOk());
    }
  }

  // Appends an event no projection can read; returns its position.
  uint64_t AppendPoison() {
    EXPECT_THAT(store_
                    ->Append({.writes = {{.stream = "p",
                                          .events = {{.event_id = "bad",
                                                      .type = "Poison",
                                                      .payload = "?"}}}}})
                    .status(),
                IsOk());
    return store_->HeadPosition();
  }

  void WaitFolded(const std::string& name) {
    std::vector<std::string> names = {name};
    ASSERT_THAT(runner_->WaitUntilFolded(names, store_->HeadPosition(),
                                         absl::Now() + absl::Seconds(10)),
                IsOk());
  }

  // Every row of the live keyspace of `name`, checkpoint aside.
  std::map<std::string, std::string> Rows(const std::string& name) {
    std::map<std::string, std::string> rows;
    KeyspaceRef live = db_->Live(name);
    EXPECT_NE(live, nullptr);
    if (live == nullptr) return rows;
    std::unique_ptr<ProjectionReader> reader = db_->NewReader();
    EXPECT_THAT(
        reader->Scan(*live, "\x01", "", ScanOrder::kAscending,
                     [&](absl::string_view key, absl::string_view value) {
                       rows.emplace(key, value);
                       return true;
                     }),
        IsOk());
    return rows;
  }

  // What folding every "Noted" event of the log from scratch gives.
  std::map<std::string, std::string> FoldFromScratch() {
    std::map<std::string, std::string> rows;
    auto events = store_->ReadAll({.from_position = 1, .max_count = 100000});
    EXPECT_THAT(events.status(), IsOk());
    int count = 0;
    for (const auto& event : *events) {
      if (event.type != "Noted") continue;
      ++count;
      rows[absl::StrCat("e/", event.position)] = event.payload;
    }
    if (count > 0) rows["count"] = absl::StrCat(count);
    return rows;
  }

  testing::TempDir dir_;
  std::unique_ptr<eventstore::RocksDbEventStore> store_;
  std::unique_ptr<ProjectionDb> db_;
  std::unique_ptr<ProjectionRunner> runner_;
  int next_payload_ = 0;
};

TEST_F(ProjectionRunnerTest, FoldsPastAndLiveEventsOnceEach) {
  Append(5);
  StartRunner({Ledger()});
  Append(20);
  WaitFolded("ledger");
  EXPECT_EQ(Rows("ledger"), FoldFromScratch());
  EXPECT_EQ(runner_->Checkpoint("ledger"), store_->HeadPosition());
}

TEST_F(ProjectionRunnerTest, ResumesFromItsCheckpointAfterARestart) {
  StartRunner({Ledger()});
  Append(10);
  WaitFolded("ledger");
  CloseStores();
  OpenStores();
  Append(3);  // written while no runner follows
  StartRunner({Ledger()});
  Append(4);
  WaitFolded("ledger");
  EXPECT_EQ(Rows("ledger"), FoldFromScratch());
  EXPECT_EQ(Rows("ledger")["count"], "17");
}

TEST_F(ProjectionRunnerTest, WaitingPastTheHeadEndsAtTheDeadline) {
  StartRunner({Ledger()});
  Append(2);
  std::vector<std::string> names = {"ledger"};
  EXPECT_THAT(
      runner_->WaitUntilFolded(names, 1000,
                               absl::Now() + absl::Milliseconds(50)),
      StatusIs(absl::StatusCode::kDeadlineExceeded, HasSubstr("min_position")));
  std::vector<std::string> unknown = {"nope"};
  EXPECT_THAT(runner_->WaitUntilFolded(unknown, 1, absl::Now()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
}

TEST_F(ProjectionRunnerTest, RebuildWhileAppendingEndsEqualToAFoldFromScratch) {
  Append(100);
  StartRunner({Ledger(), CountAll()});
  const std::string before = db_->Live("ledger")->id();
  std::atomic<bool> appending = true;
  std::thread writer([&] {
    while (appending) Append(1, "w");
  });
  std::vector<RebuildProgress> reports;
  ASSERT_THAT(
      runner_->Rebuild(
          {"ledger"}, [&](const RebuildProgress& p) { reports.push_back(p); },
          [] { return false; }),
      IsOk());
  Append(5);
  appending = false;
  writer.join();
  WaitFolded("ledger");
  EXPECT_NE(db_->Live("ledger")->id(), before);
  EXPECT_EQ(db_->Shadow("ledger"), nullptr);
  EXPECT_EQ(Rows("ledger"), FoldFromScratch());
  ASSERT_FALSE(reports.empty());
  EXPECT_TRUE(reports.back().promoted);
  EXPECT_GE(reports.back().events_done, 100u);
  // The old keyspace is gone from the catalog, and stays gone on reopen.
  CloseStores();
  OpenStores();
  EXPECT_EQ(db_->CatalogForTesting().size(), 2u);
}

TEST_F(ProjectionRunnerTest, OneRebuildOfAProjectionAtATime) {
  Append(50);
  StartRunner({Ledger()});
  absl::Status second;
  bool tried = false;
  ASSERT_THAT(runner_->Rebuild(
                  {"ledger"},
                  [&](const RebuildProgress&) {
                    if (tried) return;
                    tried = true;
                    second = runner_->Rebuild(
                        {"ledger"}, [](const RebuildProgress&) {},
                        [] { return false; });
                  },
                  [] { return false; }),
              IsOk());
  ASSERT_TRUE(tried);
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("being rebuilt")));
  EXPECT_THAT(
      runner_->Rebuild(
          {"nope"}, [](const RebuildProgress&) {}, [] { return false; }),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("ledger")));
}

TEST_F(ProjectionRunnerTest, ACancelledRebuildLeavesTheLiveOneAndResumesLater) {
  Append(60);
  StartRunner({Ledger()});
  const std::string live = db_->Live("ledger")->id();
  int steps = 0;
  EXPECT_THAT(runner_->Rebuild(
                  {"ledger"}, [](const RebuildProgress&) {},
                  [&] { return ++steps > 3; }),
              StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(db_->Live("ledger")->id(), live);
  ASSERT_NE(db_->Shadow("ledger"), nullptr);
  auto resumed_from = db_->Checkpoint(*db_->Shadow("ledger"));
  ASSERT_THAT(resumed_from.status(), IsOk());
  EXPECT_GT(*resumed_from, 0u);
  EXPECT_EQ(Rows("ledger"), FoldFromScratch());  // live kept serving

  // As after a crash: a restart finishes the rebuild on its own.
  CloseStores();
  OpenStores();
  StartRunner({Ledger()});
  for (int i = 0; i < 500 && db_->Shadow("ledger") != nullptr; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(db_->Shadow("ledger"), nullptr);
  EXPECT_NE(db_->Live("ledger")->id(), live);
  Append(2);
  WaitFolded("ledger");
  EXPECT_EQ(Rows("ledger"), FoldFromScratch());
}

TEST_F(ProjectionRunnerTest, AnEventItCannotReadStopsOnlyThatProjection) {
  Append(3);
  const uint64_t poison = AppendPoison();
  StartRunner({Ledger(), CountAll()});
  Append(3);
  WaitFolded("count_all");
  EXPECT_EQ(Rows("count_all")["count"], "7");
  std::vector<std::string> names = {"ledger"};
  EXPECT_THAT(runner_->WaitUntilFolded(names, store_->HeadPosition(),
                                       absl::Now() + absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("log position ", poison))));
  for (const ProjectionStatus& status : runner_->Status()) {
    if (status.name == "ledger") {
      EXPECT_EQ(status.checkpoint, 3u);
      EXPECT_EQ(status.lag, store_->HeadPosition() - 3);
      EXPECT_THAT(status.error, StatusIs(absl::StatusCode::kDataLoss));
    } else {
      EXPECT_THAT(status.error, IsOk());
      EXPECT_EQ(status.lag, 0u);
    }
  }
}

TEST_F(ProjectionRunnerTest, ANewVersionOfAFoldRebuildsItselfOnStart) {
  Append(30);
  StartRunner({Ledger(1)});
  WaitFolded("ledger");
  CloseStores();
  OpenStores();
  StartRunner({Ledger(2)});
  for (int i = 0; i < 500 && db_->Live("ledger")->version() != 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(db_->Live("ledger")->version(), 2);
  WaitFolded("ledger");
  EXPECT_EQ(Rows("ledger"), FoldFromScratch());
}

TEST_F(ProjectionRunnerTest, FoldsRunOnThreadsThatDoNotCountIntoRocksDb) {
  // The probe could see counting: RocksDB counts on a thread by default.
  ASSERT_TRUE(eventstore::RocksDbPerfCountersEnabledOnThisThread());
  auto live = std::make_shared<PerfCountingProbe>();
  auto bulk = std::make_shared<PerfCountingProbe>();
  Append(40);  // behind: a bulk catch-up first
  StartRunner(
      {PerfCounting(live, false, 1, 1), PerfCounting(bulk, true, 2, 1)});
  WaitFolded("probe");
  WaitFolded("bulk_probe");
  Append(5);  // then batch by batch on the follower
  WaitFolded("probe");
  WaitFolded("bulk_probe");
  // A new version rebuilds in the background on start.
  CloseStores();
  OpenStores();
  StartRunner(
      {PerfCounting(live, false, 1, 2), PerfCounting(bulk, true, 2, 2)});
  for (int i = 0; i < 500 && (db_->Live("probe")->version() != 2 ||
                              db_->Live("bulk_probe")->version() != 2);
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(db_->Live("probe")->version(), 2);
  ASSERT_EQ(db_->Live("bulk_probe")->version(), 2);
  EXPECT_GE(live->folded.load(), 90);
  EXPECT_GE(bulk->folded.load(), 90);
  EXPECT_EQ(live->folded_counting.load(), 0);
  EXPECT_EQ(bulk->folded_counting.load(), 0);
}

TEST_F(ProjectionRunnerTest, EveryThreadOfABulkFoldStartsWithTheThreadHook) {
  auto bulk = std::make_shared<PerfCountingProbe>();
  std::atomic<int> hooked_threads = 0;
  std::atomic<int> hooked_on_this_thread = 0;
  const std::thread::id test_thread = std::this_thread::get_id();
  ProjectionRunnerOptions options = TestOptions();
  options.bulk_fold_hooks.thread_started = [&] {
    thread_hooked = true;
    ++hooked_threads;
    if (std::this_thread::get_id() == test_thread) ++hooked_on_this_thread;
  };
  // Behind: a bulk catch-up on the follower, of streams that both shards
  // fold.
  for (int stream = 0; stream < 8; ++stream) Append(5, absl::StrCat(stream));
  StartRunner({PerfCounting(bulk, true, 2, 1)}, options);
  WaitFolded("bulk_probe");
  ASSERT_EQ(bulk->folded.load(), 40);
  EXPECT_EQ(bulk->folded_unhooked.load(), 0);
  // The follower, the log's reader, and in each commit a fold thread per
  // shard and a writer for the second shard's table file.
  EXPECT_GE(hooked_threads.load(), 2 + 2 + 1);
  EXPECT_EQ(hooked_on_this_thread.load(), 0);
  // A rebuild runs on the caller's thread, which is hooked too.
  ASSERT_THAT(runner_->Rebuild(
                  {}, [](const RebuildProgress&) {}, [] { return false; }),
              IsOk());
  EXPECT_EQ(bulk->folded.load(), 80);
  EXPECT_EQ(bulk->folded_unhooked.load(), 0);
  EXPECT_EQ(hooked_on_this_thread.load(), 1);
  thread_hooked = false;
}

TEST_F(ProjectionRunnerTest, CatchesUpInBulkThenFollowsBatchByBatch) {
  Append(100);
  StartRunner({BulkLedger(), Ledger()});
  WaitFolded("bulk_ledger");
  Append(20);  // live: commits per batch, after the flush
  WaitFolded("bulk_ledger");
  WaitFolded("ledger");
  EXPECT_EQ(Rows("bulk_ledger"), FoldFromScratch());
  EXPECT_EQ(Rows("ledger"), FoldFromScratch());
  // Far behind again after a stop: bulk again.
  CloseStores();
  OpenStores();
  Append(50);
  StartRunner({BulkLedger(), Ledger()});
  Append(3);
  WaitFolded("bulk_ledger");
  EXPECT_EQ(Rows("bulk_ledger"), FoldFromScratch());
  EXPECT_EQ(Rows("bulk_ledger")["count"], "173");
}

TEST_F(ProjectionRunnerTest, ABulkCatchUpStopsAtAnEventItCannotRead) {
  Append(30);
  const uint64_t poison = AppendPoison();
  Append(40);
  StartRunner({BulkLedger(), CountAll()});
  WaitFolded("count_all");
  EXPECT_EQ(Rows("count_all")["count"], "71");
  std::vector<std::string> names = {"bulk_ledger"};
  EXPECT_THAT(runner_->WaitUntilFolded(names, store_->HeadPosition(),
                                       absl::Now() + absl::Seconds(5)),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr(absl::StrCat("log position ", poison))));
  for (const ProjectionStatus& status : runner_->Status()) {
    if (status.name != "bulk_ledger") continue;
    EXPECT_EQ(status.checkpoint, poison - 1);
    EXPECT_THAT(status.error, StatusIs(absl::StatusCode::kDataLoss));
  }
  EXPECT_EQ(Rows("bulk_ledger")["count"], "30");
}

TEST_F(ProjectionRunnerTest, ABulkRebuildWhileAppendingEqualsAFoldFromScratch) {
  Append(100);
  StartRunner({BulkLedger(), Ledger()});
  WaitFolded("bulk_ledger");
  const std::string before = db_->Live("bulk_ledger")->id();
  std::atomic<bool> appending = true;
  std::thread writer([&] {
    while (appending) Append(1, "w");
  });
  ASSERT_THAT(runner_->Rebuild(
                  {}, [](const RebuildProgress&) {}, [] { return false; }),
              IsOk());
  appending = false;
  writer.join();
  Append(5);
  WaitFolded("bulk_ledger");
  WaitFolded("ledger");
  EXPECT_NE(db_->Live("bulk_ledger")->id(), before);
  EXPECT_EQ(Rows("bulk_ledger"), FoldFromScratch());
  EXPECT_EQ(Rows("ledger"), FoldFromScratch());
}

TEST_F(ProjectionRunnerTest, ARebuildEndsWhileAppendsOutpaceIt) {
  Append(100);
  StartRunner({BulkLedger(), Ledger()});
  WaitFolded("bulk_ledger");
  // Every step of the rebuild (7 events, 16 in bulk) lets 10 more in: a
  // rebuild that chased the head would never end, and is cancelled here
  // instead.
  int appended = 0;
  ASSERT_THAT(runner_->Rebuild(
                  {},
                  [&](const RebuildProgress&) {
                    Append(10, "w");
                    appended += 10;
                  },
                  [&] { return appended > 5000; }),
              IsOk());
  EXPECT_GT(appended, 0);
  WaitFolded("bulk_ledger");
  WaitFolded("ledger");
  EXPECT_EQ(Rows("bulk_ledger"), FoldFromScratch());
  EXPECT_EQ(Rows("ledger"), FoldFromScratch());
}

TEST_F(ProjectionRunnerTest, ACancelledBulkRebuildResumesFromItsCheckpoint) {
  Append(200);
  StartRunner({BulkLedger()});
  WaitFolded("bulk_ledger");
  int steps = 0;
  EXPECT_THAT(runner_->Rebuild(
                  {"bulk_ledger"}, [](const RebuildProgress&) {},
                  [&] { return ++steps > 5; }),
              StatusIs(absl::StatusCode::kCancelled));
  ASSERT_NE(db_->Shadow("bulk_ledger"), nullptr);
  auto resumed_from = db_->Checkpoint(*db_->Shadow("bulk_ledger"));
  ASSERT_THAT(resumed_from.status(), IsOk());
  EXPECT_GT(*resumed_from, 0u);
  EXPECT_LT(*resumed_from, store_->HeadPosition());
  ASSERT_THAT(
      runner_->Rebuild(
          {"bulk_ledger"}, [](const RebuildProgress&) {}, [] { return false; }),
      IsOk());
  EXPECT_EQ(db_->Shadow("bulk_ledger"), nullptr);
  Append(3);
  WaitFolded("bulk_ledger");
  EXPECT_EQ(Rows("bulk_ledger"), FoldFromScratch());
}

TEST_F(ProjectionRunnerTest, ARebuildFillsAnUncompactedShadowThenCompactsIt) {
  Append(300);
  StartRunner({BulkLedger()});
  WaitFolded("bulk_ledger");
  std::vector<KeyspaceStats> while_filled;
  ASSERT_THAT(runner_->Rebuild(
                  {"bulk_ledger"},
                  [&](const RebuildProgress& progress) {
                    KeyspaceRef shadow = db_->Shadow("bulk_ledger");
                    if (!progress.promoted && shadow != nullptr) {
                      while_filled.push_back(db_->Stats(*shadow));
                    }
                  },
                  [] { return false; }),
              IsOk());
  // Commits of 16 events: the shadow takes many files, none compacted, each
  // with the filter reads of level 0 need.
  ASSERT_FALSE(while_filled.empty());
  EXPECT_FALSE(while_filled.back().auto_compactions);
  EXPECT_GT(while_filled.back().table_files, 5);
  EXPECT_GT(while_filled.back().filter_bytes, 0u);
  const KeyspaceStats promoted = db_->Stats(*db_->Live("bulk_ledger"));
  EXPECT_TRUE(promoted.auto_compactions);
  EXPECT_EQ(promoted.sorted_runs, 1);
  EXPECT_EQ(promoted.level0_files, 0);
  // One run in the last level, where rows are read only by key and exist:
  // no filter there, so the memory the files hold does not grow with them.
  EXPECT_EQ(promoted.filter_bytes, 0u);
  Append(3);
  WaitFolded("bulk_ledger");
  EXPECT_EQ(Rows("bulk_ledger"), FoldFromScratch());
}

TEST_F(ProjectionRunnerTest, AShadowKeepsABoundedNumberOfFiles) {
  Append(1440);
  StartRunner({BulkLedger()},
              ProjectionRunnerOptions{.rebuild_batch_events = 8,
                                      .progress_interval = absl::ZeroDuration(),
                                      .bulk_commit_events = 8,
                                      .bulk_lag_events = 10});
  WaitFolded("bulk_ledger");
  int most_files = 0;
  ASSERT_THAT(runner_->Rebuild(
                  {"bulk_ledger"},
                  [&](const RebuildProgress&) {
                    KeyspaceRef shadow = db_->Shadow("bulk_ledger");
                    if (shadow == nullptr) return;
                    most_files =
                        std::max(most_files, db_->Stats(*shadow).table_files);
                  },
                  [] { return false; }),
              IsOk());
  // 180 commits, merged once 160 files piled up.
  EXPECT_GT(most_files, 80);
  EXPECT_LE(most_files, 160);
  EXPECT_EQ(Rows("bulk_ledger"), FoldFromScratch());
}

TEST_F(ProjectionRunnerTest, ShardsOfABulkFoldEachFoldTheirOwnStreams) {
  constexpr int kStreams = 32;
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    for (int stream = 0; stream < kStreams; ++stream) {
      Append(1, absl::StrCat("s", stream));
    }
  }
  auto mu = std::make_shared<absl::Mutex>();
  auto seen = std::make_shared<StreamCountProjection::Seen>();
  StartRunner({ProjectionSpec{.name = "stream_count",
                              .bulk = true,
                              .bulk_shards = 2,
                              .make = [mu, seen] {
                                return std::make_unique<StreamCountProjection>(
                                    mu, seen);
                              }}});
  WaitFolded("stream_count");
  ASSERT_THAT(runner_->Rebuild(
                  {}, [](const RebuildProgress&) {}, [] { return false; }),
              IsOk());
  std::map<std::string, std::string> expected;
  for (int stream = 0; stream < kStreams; ++stream) {
    expected[absl::StrCat("n/s", stream)] = absl::StrCat(kRounds);
  }
  EXPECT_EQ(Rows("stream_count"), expected);
  // Streams folded by one instance belong to one shard: joining them
  // leaves two groups (one stream's events never reach two shards, and
  // both shards fold some).
  absl::MutexLock lock(mu.get());
  std::map<std::string, std::string> group;
  std::function<std::string(const std::string&)> find =
      [&](const std::string& stream) -> std::string {
    auto it = group.find(stream);
    if (it == group.end() || it->second == stream) return stream;
    return it->second = find(it->second);
  };
  for (const std::set<std::string>& streams : *seen) {
    const std::string first = find(*streams.begin());
    for (const std::string& stream : streams) group[find(stream)] = first;
    group.emplace(first, first);
  }
  std::set<std::string> groups;
  for (const auto& [stream, parent] : group) groups.insert(find(stream));
  EXPECT_EQ(groups.size(), 2u);
}

TEST_F(ProjectionRunnerTest, AReopenedStoreDefersOnlyTheShadowsCompaction) {
  Append(200);
  StartRunner({BulkLedger(), Ledger()});
  WaitFolded("bulk_ledger");
  WaitFolded("ledger");
  int steps = 0;
  EXPECT_THAT(
      runner_->Rebuild(
          {}, [](const RebuildProgress&) {}, [&] { return ++steps > 4; }),
      StatusIs(absl::StatusCode::kCancelled));
  // As after a crash: the next start finds the shadows half filled.
  CloseStores();
  OpenStores();
  for (const std::string name : {"bulk_ledger", "ledger"}) {
    ASSERT_NE(db_->Shadow(name), nullptr) << name;
    EXPECT_FALSE(db_->Stats(*db_->Shadow(name)).auto_compactions) << name;
    EXPECT_TRUE(db_->Stats(*db_->Live(name)).auto_compactions) << name;
  }
  StartRunner({BulkLedger(), Ledger()});  // resumes the rebuild
  for (int i = 0; i < 1000 && (db_->Shadow("bulk_ledger") != nullptr ||
                               db_->Shadow("ledger") != nullptr);
       ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  Append(3);
  for (const std::string name : {"bulk_ledger", "ledger"}) {
    EXPECT_EQ(db_->Shadow(name), nullptr) << name;
    EXPECT_TRUE(db_->Stats(*db_->Live(name)).auto_compactions) << name;
    WaitFolded(name);
    EXPECT_EQ(Rows(name), FoldFromScratch()) << name;
  }
}

}  // namespace
}  // namespace leadledger::projections
