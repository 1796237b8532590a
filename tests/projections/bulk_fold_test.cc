// Bulk folds (a follower catching up from far behind, a rebuild) against the
// fold batch by batch: on randomized histories the read models agree key by
// key, whatever the size of the bulk commits.
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/overlay_rows.h"
#include "projections/projection_db.h"
#include "projections/projection_runner.h"
#include "projections/read_models.h"
#include "projections/sorted_writes.h"
#include "tests/projections/lead_script.h"
#include "tests/projections/read_model_fixture.h"
#include "tests/testing/lead_history.h"
#include "tests/testing/read_model_rows.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::projections {
namespace {

using ::leadledger::testing::IsOk;

class BulkFoldTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    auto store = eventstore::RocksDbEventStore::Open({.path = dir_.Sub("log")});
    ASSERT_THAT(store.status(), IsOk());
    store_ = std::move(*store);
  }

  // Folds the whole log into a fresh store in `directory` with `options`
  // and returns every row; rebuilds every read model first when `rebuild`.
  std::map<std::string, std::string> Fold(const std::string& directory,
                                          ProjectionRunnerOptions options,
                                          bool rebuild) {
    auto db = ProjectionDb::Open(dir_.Sub(directory));
    EXPECT_THAT(db.status(), IsOk());
    if (!db.ok()) return {};
    ProjectionRunner runner(store_.get(), db->get(), ReadModels({}), options);
    EXPECT_THAT(runner.Start(), IsOk());
    EXPECT_THAT(runner.WaitUntilFolded({}, store_->HeadPosition(),
                                       absl::Now() + absl::Seconds(60)),
                IsOk());
    if (rebuild) {
      EXPECT_THAT(runner.Rebuild(
                      {}, [](const RebuildProgress&) {}, [] { return false; }),
                  IsOk());
    }
    std::map<std::string, std::string> rows = testing::AllRows(**db);
    runner.Stop();
    return rows;
  }

  leadledger::testing::TempDir dir_;
  std::unique_ptr<eventstore::RocksDbEventStore> store_;
};

TEST_P(BulkFoldTest, BulkAndBatchByBatchFoldsAgreeKeyByKey) {
  const int seed = GetParam();
  LeadScript script(store_.get(), /*auto_commit=*/false);
  ASSERT_THAT(WriteRandomHistory(script, 3000, 1000 + seed), IsOk());
  testing::LeadHistory generated(seed, absl::FromUnixSeconds(1'800'000'000),
                                 "g-");
  ASSERT_THAT(generated.Append(*store_, 4000, 50).status(), IsOk());

  const std::map<std::string, std::string> batch_by_batch =
      Fold("batch", {.bulk_lag_events = std::numeric_limits<uint64_t>::max()},
           /*rebuild=*/false);
  ASSERT_GT(batch_by_batch.size(), 1000u);
  // Commits of a few hundred events, so that leads and tasks span many.
  const ProjectionRunnerOptions bulk{.rebuild_batch_events = 97,
                                     .bulk_commit_events = 300 + 37 * seed,
                                     .bulk_lag_events = 0};
  EXPECT_EQ(
      FirstDifference(Fold("bulk", bulk, /*rebuild=*/false), batch_by_batch),
      "");
  EXPECT_EQ(
      FirstDifference(Fold("rebuilt", bulk, /*rebuild=*/true), batch_by_batch),
      "");
}

INSTANTIATE_TEST_SUITE_P(Seeds, BulkFoldTest, ::testing::Values(1, 2, 3));

// Commits that touch thousands of leads, which the lead fold writes from
// two threads.
TEST_F(BulkFoldTest, LargeBulkCommitsAgreeWithTheBatchByBatchFold) {
  testing::LeadHistory generated(7, absl::FromUnixSeconds(1'800'000'000), "g-");
  ASSERT_THAT(generated.Append(*store_, 24000, 400).status(), IsOk());
  ASSERT_GT(generated.lead_count(), 5000u);
  const std::map<std::string, std::string> batch_by_batch =
      Fold("batch", {.bulk_lag_events = std::numeric_limits<uint64_t>::max()},
           /*rebuild=*/false);
  const ProjectionRunnerOptions bulk{.bulk_commit_events = 1 << 20,
                                     .bulk_lag_events = 0};
  EXPECT_EQ(
      FirstDifference(Fold("rebuilt", bulk, /*rebuild=*/true), batch_by_batch),
      "");
}

// The hooks hear of a bulk catch-up and of a rebuild, each once started and
// once ended, and of the threads each starts; a follower folding batch by
// batch never calls them.
TEST_F(BulkFoldTest, TheBulkFoldHooksBracketEachBulkFold) {
  testing::LeadHistory generated(3, absl::FromUnixSeconds(1'800'000'000), "g-");
  ASSERT_THAT(generated.Append(*store_, 2000, 100).status(), IsOk());
  absl::Mutex mu;
  std::vector<bool> calls;
  int threads = 0;
  const BulkFoldHooks hooks{.folding =
                                [&](bool folding) {
                                  absl::MutexLock lock(&mu);
                                  calls.push_back(folding);
                                },
                            .thread_started =
                                [&] {
                                  absl::MutexLock lock(&mu);
                                  ++threads;
                                }};
  auto calls_now = [&] {
    absl::MutexLock lock(&mu);
    return std::make_pair(calls, threads);
  };
  using ::testing::ElementsAre;
  using ::testing::Ge;
  using ::testing::IsEmpty;
  using ::testing::Pair;

  Fold("batch",
       {.bulk_lag_events = std::numeric_limits<uint64_t>::max(),
        .bulk_fold_hooks = hooks},
       /*rebuild=*/false);
  EXPECT_THAT(calls_now(), Pair(IsEmpty(), 0));

  // The follower, the log's reader, and a fold thread for each read model
  // and shard (four), of which all but one write their table file on
  // another thread.
  Fold("bulk", {.bulk_lag_events = 0, .bulk_fold_hooks = hooks},
       /*rebuild=*/false);
  EXPECT_THAT(calls_now(), Pair(ElementsAre(true, false), Ge(2 + 4 + 3)));
  const int after_catch_up = calls_now().second;

  Fold("rebuilt",
       {.bulk_lag_events = std::numeric_limits<uint64_t>::max(),
        .bulk_fold_hooks = hooks},
       /*rebuild=*/true);
  EXPECT_THAT(calls_now(), Pair(ElementsAre(true, false, true, false),
                                Ge(after_catch_up + 2 + 4 + 3)));
}

// Records what reaches the store, in order.
class LoggedRows final : public RowBatch {
 public:
  absl::StatusOr<std::optional<std::string>> Get(absl::string_view) override {
    return std::nullopt;
  }
  void Put(absl::string_view key, absl::string_view value) override {
    absl::StrAppend(&log, key, "=", value, " ");
  }
  void Delete(absl::string_view key) override {
    absl::StrAppend(&log, "-", key, " ");
  }
  absl::Status ScanPrefix(
      absl::string_view,
      const std::function<bool(absl::string_view, absl::string_view)>&)
      override {
    return absl::OkStatus();
  }

  std::string log;
};

TEST(SortedWritesTest, WritesApplyInKeyOrderAndTheLastWriteWins) {
  SortedWrites writes;
  writes.Put("b", "1");
  writes.Delete("d");
  writes.Put("a", "x");
  writes.Put("a", "y");
  writes.PutOwned("c", "2");
  writes.Put("b", "3");
  writes.Put("d", "4");
  writes.Put("e", "5");
  writes.Delete("e");
  LoggedRows rows;
  writes.Apply(rows);
  EXPECT_EQ(rows.log, "a=y b=3 c=2 d=4 -e ");
  // Forgotten once applied.
  writes.Apply(rows);
  EXPECT_EQ(rows.log, "a=y b=3 c=2 d=4 -e ");
}

// A RowBatch over a map, standing for the store; `log` lists the writes it
// was handed.
class MapRows final : public RowBatch {
 public:
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    auto it = rows.find(std::string(key));
    if (it == rows.end()) return std::nullopt;
    return it->second;
  }
  void Put(absl::string_view key, absl::string_view value) override {
    absl::StrAppend(&log, key, "=", value, " ");
    rows[std::string(key)] = std::string(value);
  }
  void Delete(absl::string_view key) override {
    absl::StrAppend(&log, "-", key, " ");
    rows.erase(std::string(key));
  }
  void DeleteWrittenOnce(absl::string_view key) override {
    absl::StrAppend(&log, "-once ", key, " ");
    rows.erase(std::string(key));
  }
  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      override {
    for (auto it = rows.lower_bound(std::string(prefix));
         it != rows.end() && absl::StartsWith(it->first, prefix); ++it) {
      if (!visit(it->first, it->second)) break;
    }
    return absl::OkStatus();
  }

  std::map<std::string, std::string> rows;
  std::string log;
};

TEST(OverlayRowsTest, ReadsSeeTheOverlayOverTheStoreUntilApplied) {
  MapRows stored;
  stored.rows = {{"a/1", "old"}, {"a/2", "kept"}, {"a/4", "gone"}, {"b", "x"}};
  OverlayRows overlay;
  overlay.Attach(stored);
  overlay.Put("a/1", "new");
  overlay.Put("a/3", "added");
  overlay.Delete("a/4");
  overlay.Delete("a/5");
  EXPECT_EQ(*overlay.Get("a/1"), "new");
  EXPECT_EQ(*overlay.Get("a/2"), "kept");
  EXPECT_EQ(*overlay.Get("a/4"), std::nullopt);
  EXPECT_EQ(stored.rows["a/1"], "old");  // nothing written yet
  std::string scanned;
  ASSERT_THAT(
      overlay.ScanPrefix("a/",
                         [&](absl::string_view key, absl::string_view value) {
                           absl::StrAppend(&scanned, key, "=", value, " ");
                           return true;
                         }),
      IsOk());
  EXPECT_EQ(scanned, "a/1=new a/2=kept a/3=added ");
  overlay.Apply();
  EXPECT_EQ(
      stored.rows,
      (std::map<std::string, std::string>{
          {"a/1", "new"}, {"a/2", "kept"}, {"a/3", "added"}, {"b", "x"}}));
}

// A task scheduled and closed in one commit: its index entry, written once
// and deleted once, never reaches the store, not even as a deletion.
TEST(OverlayRowsTest, AKeyPutAndDeletedOnceInTheOverlayLeavesNoWrite) {
  MapRows stored;
  OverlayRows overlay;
  overlay.Attach(stored);
  overlay.Put("o/1", "");
  overlay.Put("o/2", "");
  overlay.DeleteWrittenOnce("o/1");
  EXPECT_EQ(*overlay.Get("o/1"), std::nullopt);
  overlay.Apply();
  EXPECT_EQ(stored.log, "o/2= ");
}

TEST(OverlayRowsTest, AStoredKeyDeletedOnceIsDeletedOnceInTheStore) {
  MapRows stored;
  stored.rows = {{"o/1", ""}};
  OverlayRows overlay;
  overlay.Attach(stored);
  overlay.DeleteWrittenOnce("o/1");
  EXPECT_EQ(*overlay.Get("o/1"), std::nullopt);
  overlay.Apply();
  EXPECT_EQ(stored.log, "-once o/1 ");
  EXPECT_TRUE(stored.rows.empty());
}

// Deleted here, put again (twice), then deleted once: the value the store
// held before must still go.
TEST(OverlayRowsTest, ADeletionOncePastADeletionInTheOverlayReachesTheStore) {
  MapRows stored;
  stored.rows = {{"o/1", "old"}};
  OverlayRows overlay;
  overlay.Attach(stored);
  overlay.Delete("o/1");
  overlay.Put("o/1", "new");
  overlay.Put("o/1", "newer");
  overlay.DeleteWrittenOnce("o/1");
  EXPECT_EQ(*overlay.Get("o/1"), std::nullopt);
  overlay.Apply();
  EXPECT_EQ(stored.log, "-once o/1 ");
  EXPECT_TRUE(stored.rows.empty());
}

}  // namespace
}  // namespace leadledger::projections
