#include "projections/projection_db.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/perf_context.h"
#include "rocksdb/perf_level.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::projections {
namespace {

using ::leadledger::testing::IsOk;
using ::leadledger::testing::IsOkAndHolds;
using ::testing::ElementsAre;
using ::testing::Optional;

// A store whose "p" keeps its rows under "r/" in memory; "i/" rows stand
// for index entries, read by scans only.
class ProjectionDbCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = ProjectionDb::Open(dir_.Sub("projections"),
                                 {.cached_rows = {{"p", {"r/"}}}});
    ASSERT_THAT(db.status(), IsOk());
    db_ = std::move(*db);
    auto live = db_->CreateLive("p", 1);
    ASSERT_THAT(live.status(), IsOk());
    live_ = *live;
    ASSERT_NE(live_->row_cache(), nullptr);
  }

  void TearDown() override {
    live_.reset();
    db_.reset();
  }

  // Writes `rows` (nullopt: delete) in one commit of `mode`.
  void Commit(const std::map<std::string, std::optional<std::string>>& rows,
              CommitMode mode = CommitMode::kNormal) {
    std::unique_ptr<ProjectionCommit> commit = db_->NewCommit(mode);
    for (const auto& [key, value] : rows) {
      if (value.has_value()) {
        commit->Rows(live_).Put(key, *value);
      } else {
        commit->Rows(live_).Delete(key);
      }
    }
    ASSERT_THAT(db_->Write(*commit), IsOk());
  }

  std::optional<std::string> Get(ProjectionReader& reader,
                                 absl::string_view key) {
    absl::StatusOr<std::optional<std::string>> value = reader.Get(*live_, key);
    EXPECT_THAT(value.status(), IsOk());
    return value.ok() ? *value : std::nullopt;
  }

  testing::TempDir dir_;
  std::unique_ptr<ProjectionDb> db_;
  KeyspaceRef live_;
};

TEST_F(ProjectionDbCacheTest, ReadersSeeTheRowsOfTheirSnapshot) {
  Commit({{"r/a", "1"}, {"i/a", "x"}});
  std::unique_ptr<ProjectionReader> before = db_->NewReader();
  Commit({{"r/a", "2"}});
  std::unique_ptr<ProjectionReader> after = db_->NewReader();
  EXPECT_EQ(Get(*before, "r/a"), "1");
  EXPECT_EQ(Get(*after, "r/a"), "2");
  const uint64_t hits = live_->row_cache()->GetStats().hits;
  EXPECT_EQ(Get(*after, "r/a"), "2");
  EXPECT_EQ(live_->row_cache()->GetStats().hits, hits + 1);
  // Rows outside the cached prefixes are read from the store.
  EXPECT_EQ(Get(*after, "i/a"), "x");
  EXPECT_EQ(live_->row_cache()->GetStats().hits, hits + 1);
}

TEST_F(ProjectionDbCacheTest, MultiGetMixesCachedAndStoredRowsInOrder) {
  Commit({{"r/a", "1"}, {"r/b", "2"}, {"i/a", "x"}});
  Commit({{"r/b", std::nullopt}, {"r/c", "3"}});
  std::unique_ptr<ProjectionReader> reader = db_->NewReader();
  absl::StatusOr<std::vector<std::optional<std::string>>> values =
      reader->MultiGet(*live_, {"r/c", "i/a", "r/b", "r/a", "r/missing"});
  ASSERT_THAT(values.status(), IsOk());
  EXPECT_THAT(*values, ElementsAre(Optional(std::string("3")),
                                   Optional(std::string("x")), std::nullopt,
                                   Optional(std::string("1")), std::nullopt));
}

TEST_F(ProjectionDbCacheTest, ABulkCommitReplacesCachedRows) {
  Commit({{"r/a", "1"}, {"r/b", "1"}});
  EXPECT_EQ(Get(*db_->NewReader(), "r/a"), "1");
  Commit({{"r/a", "2"}, {"r/b", std::nullopt}}, CommitMode::kBulk);
  std::unique_ptr<ProjectionReader> reader = db_->NewReader();
  EXPECT_EQ(Get(*reader, "r/a"), "2");
  EXPECT_EQ(Get(*reader, "r/b"), std::nullopt);
}

TEST_F(ProjectionDbCacheTest, UnindexedRowsReadTheStoreAsItWasBeforeTheCommit) {
  Commit({{"r/a", "1"}});
  std::unique_ptr<ProjectionCommit> commit = db_->NewCommit();
  RowBatch& unindexed = commit->UnindexedRows(live_);
  unindexed.Put("r/a", "2");
  unindexed.Put("r/b", "x");
  unindexed.DeleteWrittenOnce("r/gone");
  RowBatch& indexed = commit->Rows(live_);
  indexed.Put("i/c", "y");
  // Of a key written through both, the write through Rows lands.
  unindexed.Put("r/d", "unindexed");
  indexed.Put("r/d", "indexed");
  commit->SetCheckpoint(live_, 7);

  auto got = [](RowBatch& rows, absl::string_view key) {
    absl::StatusOr<std::optional<std::string>> value = rows.Get(key);
    EXPECT_THAT(value.status(), IsOk());
    return value.ok() ? *value : std::nullopt;
  };
  EXPECT_EQ(got(unindexed, "r/a"), "1");
  EXPECT_EQ(got(unindexed, "r/b"), std::nullopt);
  EXPECT_EQ(got(unindexed, "i/c"), std::nullopt);
  std::vector<std::string> scanned;
  ASSERT_THAT(
      unindexed.ScanPrefix("r/",
                           [&](absl::string_view key, absl::string_view value) {
                             scanned.push_back(absl::StrCat(key, "=", value));
                             return true;
                           }),
      IsOk());
  EXPECT_THAT(scanned, ElementsAre("r/a=1"));
  // Reads through Rows still see the commit's writes through Rows.
  EXPECT_EQ(got(indexed, "i/c"), "y");
  EXPECT_EQ(got(indexed, "r/a"), "1");

  ASSERT_THAT(db_->Write(*commit), IsOk());
  std::unique_ptr<ProjectionReader> reader = db_->NewReader();
  EXPECT_EQ(Get(*reader, "r/a"), "2");
  EXPECT_EQ(Get(*reader, "r/b"), "x");
  EXPECT_EQ(Get(*reader, "i/c"), "y");
  EXPECT_EQ(Get(*reader, "r/d"), "indexed");
  EXPECT_THAT(db_->Checkpoint(*live_), IsOkAndHolds(7));
}

// A fold reads back the rows it rewrites: the cache answers for the rows it
// keeps, the store for the others and for rows it has no entry of.
TEST_F(ProjectionDbCacheTest, ACommitReadsCachedRowsFromTheCache) {
  Commit({{"r/a", "1"}, {"r/b", "2"}, {"i/a", "x"}});
  Commit({{"r/b", std::nullopt}});
  const uint64_t hits = live_->row_cache()->GetStats().hits;
  std::unique_ptr<ProjectionCommit> commit = db_->NewCommit();
  RowBatch& rows = commit->Rows(live_);
  EXPECT_THAT(rows.Get("r/a"), IsOkAndHolds(Optional(std::string("1"))));
  EXPECT_EQ(live_->row_cache()->GetStats().hits, hits + 1);
  EXPECT_THAT(rows.Get("r/b"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(rows.Get("r/none"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(rows.Get("i/a"), IsOkAndHolds(Optional(std::string("x"))));
  EXPECT_EQ(live_->row_cache()->GetStats().hits, hits + 1);
  // A row written by a bulk ingestion has no entry: the store answers.
  Commit({{"r/a", "3"}}, CommitMode::kBulk);
  std::unique_ptr<ProjectionCommit> next = db_->NewCommit();
  EXPECT_THAT(next->Rows(live_).Get("r/a"),
              IsOkAndHolds(Optional(std::string("3"))));
}

TEST_F(ProjectionDbCacheTest, UnindexedRowsOfABulkCommitAreItsRows) {
  std::unique_ptr<ProjectionCommit> commit = db_->NewCommit(CommitMode::kBulk);
  commit->UnindexedRows(live_).Put("r/a", "1");
  commit->Rows(live_).Put("r/b", "2");
  commit->SetCheckpoint(live_, 3);
  ASSERT_THAT(db_->Write(*commit), IsOk());
  std::unique_ptr<ProjectionReader> reader = db_->NewReader();
  EXPECT_EQ(Get(*reader, "r/a"), "1");
  EXPECT_EQ(Get(*reader, "r/b"), "2");
  EXPECT_THAT(db_->Checkpoint(*live_), IsOkAndHolds(3));
}

// Readers racing a writer: every cached answer must be what the store
// holds at the reader's snapshot, which a scan (never cached) reads.
TEST_F(ProjectionDbCacheTest, CachedReadsAgreeWithTheStoreUnderWrites) {
  constexpr int kKeys = 16;
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i) keys.push_back(absl::StrCat("r/", i));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    std::mt19937 random(7);
    for (int round = 1; round <= 3000; ++round) {
      std::map<std::string, std::optional<std::string>> rows;
      for (int n = 0; n < 3; ++n) {
        const std::string& key = keys[random() % kKeys];
        if (random() % 8 == 0) {
          rows[key] = std::nullopt;
        } else {
          rows[key] = absl::StrCat(key, "@", round);
        }
      }
      Commit(rows);
    }
    done = true;
  });
  auto read_and_check = [&] {
    int checked = 0;
    while (!done) {
      std::unique_ptr<ProjectionReader> reader = db_->NewReader();
      absl::StatusOr<std::vector<std::optional<std::string>>> cached =
          reader->MultiGet(*live_, keys);
      ASSERT_THAT(cached.status(), IsOk());
      std::vector<std::optional<std::string>> stored(kKeys);
      ASSERT_THAT(
          reader->Scan(*live_, "r/", "r0", ScanOrder::kAscending,
                       [&](absl::string_view key, absl::string_view value) {
                         for (int i = 0; i < kKeys; ++i) {
                           if (keys[i] == key) {
                             stored[i] = std::string(value);
                           }
                         }
                         return true;
                       }),
          IsOk());
      ASSERT_EQ(*cached, stored) << "after " << checked << " checks";
      ++checked;
    }
  };
  std::thread reader_a(read_and_check);
  std::thread reader_b(read_and_check);
  writer.join();
  reader_a.join();
  reader_b.join();
  EXPECT_GT(live_->row_cache()->GetStats().hits, 0u);
}

TEST_F(ProjectionDbCacheTest, ReopenedKeyspacesKeepTheirCaches) {
  Commit({{"r/a", "1"}});
  live_.reset();
  db_.reset();
  auto db = ProjectionDb::Open(dir_.Sub("projections"),
                               {.cached_rows = {{"p", {"r/"}}}});
  ASSERT_THAT(db.status(), IsOk());
  db_ = std::move(*db);
  live_ = db_->Live("p");
  ASSERT_NE(live_, nullptr);
  ASSERT_NE(live_->row_cache(), nullptr);
  Commit({{"r/a", "2"}});
  std::unique_ptr<ProjectionReader> reader = db_->NewReader();
  EXPECT_EQ(Get(*reader, "r/a"), "2");
  EXPECT_EQ(live_->row_cache()->GetStats().hits, 1u);
}

// A bulk commit's table files beyond the first are written on threads of
// their own, each of which starts with the commit's hook.
TEST(ProjectionDbTest, ABulkCommitsWriterThreadsStartWithItsHook) {
  testing::TempDir dir;
  auto db = ProjectionDb::Open(dir.Sub("projections"));
  ASSERT_THAT(db.status(), IsOk());
  std::vector<KeyspaceRef> keyspaces;
  for (const char* name : {"p", "q", "r"}) {
    auto live = (*db)->CreateLive(name, 1);
    ASSERT_THAT(live.status(), IsOk());
    keyspaces.push_back(*live);
  }
  absl::Mutex mu;
  std::set<std::thread::id> hooked;
  std::unique_ptr<ProjectionCommit> commit =
      (*db)->NewCommit(CommitMode::kBulk, [&] {
        absl::MutexLock lock(&mu);
        hooked.insert(std::this_thread::get_id());
      });
  for (const KeyspaceRef& keyspace : keyspaces) {
    commit->Rows(keyspace, 0).Put("k/a", "1");
    commit->Rows(keyspace, 1).Put("k/b", "2");
  }
  ASSERT_THAT((*db)->Write(*commit), IsOk());
  // Six files: five writers besides this thread.
  EXPECT_EQ(hooked.size(), 5u);
  EXPECT_FALSE(hooked.contains(std::this_thread::get_id()));
  std::unique_ptr<ProjectionReader> reader = (*db)->NewReader();
  for (const KeyspaceRef& keyspace : keyspaces) {
    EXPECT_THAT(reader->Get(*keyspace, "k/b"),
                IsOkAndHolds(Optional(std::string("2"))));
  }
}

TEST(ProjectionDbTest, KeyspacesOfOtherProjectionsHaveNoCache) {
  testing::TempDir dir;
  auto db = ProjectionDb::Open(dir.Sub("projections"),
                               {.cached_rows = {{"p", {"r/"}}}});
  ASSERT_THAT(db.status(), IsOk());
  auto other = (*db)->CreateLive("q", 1);
  ASSERT_THAT(other.status(), IsOk());
  EXPECT_EQ((*other)->row_cache(), nullptr);
  auto shadow = (*db)->CreateShadow("p", 2);
  ASSERT_THAT(shadow.status(), IsOk());
  EXPECT_NE((*shadow)->row_cache(), nullptr);
}

// A queue (an owner's agenda) writes entries once and deletes them once; its
// deletions must not pile up in front of every scan of it.
TEST(ProjectionDbTest, DeletionsOfRowsWrittenOnceMeetTheirWritesInFlushes) {
  testing::TempDir dir;
  auto db = ProjectionDb::Open(dir.Sub("projections"),
                               {.memtable_bytes = {{"q", 64 << 10}}});
  ASSERT_THAT(db.status(), IsOk());
  // A shadow: no compaction drops deletions behind the flushes' back.
  auto queue = (*db)->CreateShadow("q", 1);
  ASSERT_THAT(queue.status(), IsOk());
  auto key = [](int i) { return absl::StrFormat("o/%06d", i); };
  const std::string value(100, 'v');
  constexpr int kEntries = 5000;
  for (int i = 0; i < kEntries; ++i) {
    std::unique_ptr<ProjectionCommit> commit = (*db)->NewCommit();
    RowBatch& rows = commit->Rows(*queue);
    rows.Put(key(i), value);
    if (i > 0) rows.DeleteWrittenOnce(key(i - 1));
    ASSERT_THAT((*db)->Write(*commit), IsOk());
  }
  std::unique_ptr<ProjectionReader> reader = (*db)->NewReader();
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
  rocksdb::get_perf_context()->Reset();
  std::vector<std::string> seen;
  ASSERT_THAT(reader->Scan(**queue, "o/", "o0", ScanOrder::kAscending,
                           [&](absl::string_view key, absl::string_view) {
                             seen.emplace_back(key);
                             return true;
                           }),
              IsOk());
  const uint64_t stepped_over =
      rocksdb::get_perf_context()->internal_delete_skipped_count +
      rocksdb::get_perf_context()->internal_key_skipped_count;
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  EXPECT_THAT(seen, ElementsAre(key(kEntries - 1)));
  // Only what the memtables still hold: flushes dropped each pair whose
  // write and deletion they met together. Up to three memtables (about 1400
  // entries of this size) wait for a flush on a busy machine; plain
  // deletions would leave one marker per entry, and more.
  EXPECT_LT(stepped_over, kEntries / 2);
}

// An agenda's keys: "t/<lead>\0<task>" for a lead's tasks, scanned by
// "t/<lead>\0"; others are index entries.
size_t LeadTasksPrefixLength(absl::string_view key) {
  if (!absl::StartsWith(key, "t/")) return 0;
  const size_t end = key.find('\0');
  return end == absl::string_view::npos ? 0 : end + 1;
}

std::string TasksOf(int lead) {
  return absl::StrCat("t/lead-", lead, absl::string_view("\0", 1));
}

// A fold scans one lead's tasks ("t/<lead>\0") in a shadow of many
// table files: the files' filters hold those prefixes, and the scan reads
// only the files that have its prefix. Scans of other ranges read every file.
TEST(ProjectionDbTest, ScansOfAFilteredPrefixReadOnlyTheFilesWithIt) {
  testing::TempDir dir;
  auto db = ProjectionDb::Open(
      dir.Sub("projections"),
      {.scan_prefix_lengths = {{"q", LeadTasksPrefixLength}}});
  ASSERT_THAT(db.status(), IsOk());
  // A shadow: its files wait for CompactShadow, one per bulk commit.
  auto shadow = (*db)->CreateShadow("q", 1);
  ASSERT_THAT(shadow.status(), IsOk());
  constexpr int kLeads = 24;
  for (int lead = 0; lead < kLeads; ++lead) {
    std::unique_ptr<ProjectionCommit> commit =
        (*db)->NewCommit(CommitMode::kBulk);
    RowBatch& rows = commit->Rows(*shadow);
    rows.Put(absl::StrCat(TasksOf(lead), "call"), "1");
    rows.Put(absl::StrCat(TasksOf(lead), "mail"), "2");
    // Index entries on both sides: each file spans the tasks of every lead,
    // as a bulk commit's file does.
    rows.Put(absl::StrFormat("o/%02d", lead), "");
    rows.Put(absl::StrFormat("u/%02d", lead), "");
    ASSERT_THAT((*db)->Write(*commit), IsOk());
  }
  ASSERT_EQ((*db)->Stats(**shadow).table_files, kLeads);

  // Keys seen, and data blocks read (from the cache or the files).
  struct Scanned {
    std::vector<std::string> keys;
    uint64_t blocks = 0;
  };
  auto measure =
      [](const std::function<absl::Status(
             const std::function<bool(absl::string_view, absl::string_view)>&)>&
             scan) {
        Scanned scanned;
        rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
        rocksdb::get_perf_context()->Reset();
        EXPECT_THAT(scan([&](absl::string_view key, absl::string_view) {
                      scanned.keys.emplace_back(key);
                      return true;
                    }),
                    IsOk());
        scanned.blocks = rocksdb::get_perf_context()->block_cache_hit_count +
                         rocksdb::get_perf_context()->block_read_count;
        rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
        return scanned;
      };
  const std::string lead7 = TasksOf(7);
  for (CommitMode mode : {CommitMode::kBulk, CommitMode::kNormal}) {
    SCOPED_TRACE(mode == CommitMode::kBulk ? "bulk" : "normal");
    std::unique_ptr<ProjectionCommit> commit = (*db)->NewCommit(mode);
    RowBatch& rows = commit->UnindexedRows(*shadow);
    Scanned filtered = measure(
        [&](const auto& visit) { return rows.ScanPrefix(lead7, visit); });
    EXPECT_THAT(filtered.keys, ElementsAre(absl::StrCat(lead7, "call"),
                                           absl::StrCat(lead7, "mail")));
    // The same keys, by a prefix no filter holds: every file is read.
    Scanned unfiltered = measure(
        [&](const auto& visit) { return rows.ScanPrefix("t/lead-7", visit); });
    EXPECT_THAT(unfiltered.keys, ElementsAre(absl::StrCat(lead7, "call"),
                                             absl::StrCat(lead7, "mail")));
    EXPECT_GE(unfiltered.blocks, static_cast<uint64_t>(kLeads));
    EXPECT_LE(filtered.blocks * 4, unfiltered.blocks);
    Scanned all_tasks = measure(
        [&](const auto& visit) { return rows.ScanPrefix("t/", visit); });
    EXPECT_EQ(all_tasks.keys.size(), 2u * kLeads);
  }
  // A query's range that starts at a filtered prefix and runs past it.
  std::unique_ptr<ProjectionReader> reader = (*db)->NewReader();
  Scanned range = measure([&](const auto& visit) {
    return reader->Scan(**shadow, lead7, "t/lead-9\xff", ScanOrder::kAscending,
                        visit);
  });
  EXPECT_THAT(range.keys, ElementsAre(absl::StrCat(lead7, "call"),
                                      absl::StrCat(lead7, "mail"),
                                      absl::StrCat(TasksOf(8), "call"),
                                      absl::StrCat(TasksOf(8), "mail"),
                                      absl::StrCat(TasksOf(9), "call"),
                                      absl::StrCat(TasksOf(9), "mail")));
}

// Files written before a keyspace's prefixes were filtered (a server
// upgraded in place) hold no prefixes: scans search them, never skip them.
TEST(ProjectionDbTest, FilesWrittenBeforePrefixesWereFilteredAreSearched) {
  testing::TempDir dir;
  auto bulk_write = [](ProjectionDb& db, const KeyspaceRef& keyspace,
                       int lead) {
    std::unique_ptr<ProjectionCommit> commit = db.NewCommit(CommitMode::kBulk);
    RowBatch& rows = commit->Rows(keyspace);
    rows.Put(absl::StrCat(TasksOf(lead), "call"), "1");
    rows.Put(absl::StrFormat("o/%02d", lead), "");
    rows.Put(absl::StrFormat("u/%02d", lead), "");
    EXPECT_THAT(db.Write(*commit), IsOk());
  };
  constexpr int kLeadsBefore = 3;
  {
    auto db = ProjectionDb::Open(dir.Sub("projections"));
    ASSERT_THAT(db.status(), IsOk());
    auto live = (*db)->CreateLive("q", 1);
    ASSERT_THAT(live.status(), IsOk());
    for (int lead = 0; lead < kLeadsBefore; ++lead) {
      bulk_write(**db, *live, lead);
    }
  }
  auto db = ProjectionDb::Open(
      dir.Sub("projections"),
      {.scan_prefix_lengths = {{"q", LeadTasksPrefixLength}}});
  ASSERT_THAT(db.status(), IsOk());
  KeyspaceRef live = (*db)->Live("q");
  ASSERT_NE(live, nullptr);
  ASSERT_NE(live->scan_prefixes(), nullptr);
  bulk_write(**db, live, kLeadsBefore);
  std::unique_ptr<ProjectionCommit> commit = (*db)->NewCommit();
  for (int lead = 0; lead <= kLeadsBefore; ++lead) {
    std::vector<std::string> keys;
    ASSERT_THAT(commit->UnindexedRows(live).ScanPrefix(
                    TasksOf(lead),
                    [&](absl::string_view key, absl::string_view) {
                      keys.emplace_back(key);
                      return true;
                    }),
                IsOk());
    EXPECT_THAT(keys, ElementsAre(absl::StrCat(TasksOf(lead), "call")))
        << "lead " << lead;
  }
}

// Levels sized from the last one up: a small keyspace's level 0 compacts
// straight into its last level, where deletions vanish, instead of moving
// down one level at a time (and a file rich in deletions being rewritten at
// each).
TEST(ProjectionDbTest, ASmallKeyspaceCompactsIntoItsLastLevel) {
  testing::TempDir dir;
  auto db = ProjectionDb::Open(dir.Sub("projections"),
                               {.memtable_bytes = {{"q", 64 << 10}}});
  ASSERT_THAT(db.status(), IsOk());
  auto live = (*db)->CreateLive("q", 1);
  ASSERT_THAT(live.status(), IsOk());
  const std::string value(100, 'v');
  KeyspaceStats stats;
  auto compacted = [&] {
    stats = (*db)->Stats(**live);
    return stats.table_files > stats.level0_files;
  };
  // About 500 rows fill a memtable; four flushed ones start a compaction.
  for (int i = 0; i < 100000 && !compacted(); ++i) {
    std::unique_ptr<ProjectionCommit> commit = (*db)->NewCommit();
    commit->Rows(*live).Put(absl::StrFormat("o/%06d", i), value);
    ASSERT_THAT((*db)->Write(*commit), IsOk());
  }
  ASSERT_TRUE(compacted());
  ASSERT_GE(stats.files_per_level.size(), 3u);
  EXPECT_GT(stats.files_per_level.back(), 0);
  for (size_t level = 1; level + 1 < stats.files_per_level.size(); ++level) {
    EXPECT_EQ(stats.files_per_level[level], 0) << "level " << level;
  }
}

// Keys "<run>/<8-byte commit number>" of 64 runs, each commit appending one
// key to every run (in a shuffled order), as a lead's creation appends one
// index entry to each of its values' runs.
class AppendRunTest : public ::testing::Test {
 protected:
  static constexpr int kRuns = 64;
  static constexpr int kCommits = 200;

  static size_t RunLength(absl::string_view key) {
    const size_t slash = key.find('/');
    return slash == absl::string_view::npos ? 0 : slash + 1;
  }

  // The user key comparisons RocksDB makes on this thread (the committing
  // one inserts into the memtables) to write every run's keys into the
  // keyspace of `projection`, and checks that a scan reads them back.
  static uint64_t ComparisonsToWrite(ProjectionDb& db,
                                     absl::string_view projection) {
    absl::StatusOr<KeyspaceRef> keyspace = db.CreateLive(projection, 1);
    EXPECT_THAT(keyspace.status(), IsOk());
    if (!keyspace.ok()) return 0;
    std::vector<int> runs(kRuns);
    for (int run = 0; run < kRuns; ++run) runs[run] = run;
    std::mt19937 random(7);
    std::vector<std::string> expected;
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kEnableCount);
    rocksdb::get_perf_context()->Reset();
    for (int number = 0; number < kCommits; ++number) {
      std::shuffle(runs.begin(), runs.end(), random);
      std::unique_ptr<ProjectionCommit> commit = db.NewCommit();
      for (int run : runs) {
        std::string key = absl::StrFormat("run%02d/", run);
        key.append(7, '\0');
        key.push_back(static_cast<char>(number));
        commit->Rows(*keyspace).Put(key, "v");
        expected.push_back(std::move(key));
      }
      EXPECT_THAT(db.Write(*commit), IsOk());
    }
    const uint64_t comparisons =
        rocksdb::get_perf_context()->user_key_comparison_count;
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    std::sort(expected.begin(), expected.end());
    std::vector<std::string> read;
    std::unique_ptr<ProjectionReader> reader = db.NewReader();
    EXPECT_THAT(reader->Scan(**keyspace, "", "~", ScanOrder::kAscending,
                             [&](absl::string_view key, absl::string_view) {
                               read.emplace_back(key);
                               return true;
                             }),
                IsOk());
    EXPECT_EQ(read, expected);
    return comparisons;
  }

  testing::TempDir dir_;
};

TEST_F(AppendRunTest, WritesAtTheEndOfTheirRunStartWhereTheLastOneEnded) {
  auto db = ProjectionDb::Open(dir_.Sub("projections"),
                               {.append_run_lengths = {{"runs", RunLength}}});
  ASSERT_THAT(db.status(), IsOk());
  const uint64_t searched = ComparisonsToWrite(**db, "plain");
  const uint64_t appended = ComparisonsToWrite(**db, "runs");
  // RocksDB counts about 90 comparisons per write searched from the top of
  // the skip list, and 25 to 30 per write started where its run's last
  // write ended (the skip list's random heights move both a little).
  EXPECT_LT(appended * 2, searched)
      << "appended " << appended << ", searched " << searched;
}

TEST_F(AppendRunTest, RunsLongerThanTheirKeyAreTheWholeKey) {
  auto db = ProjectionDb::Open(
      dir_.Sub("projections"),
      {.append_run_lengths = {
           {"runs", [](absl::string_view key) { return key.size() + 10; }}}});
  ASSERT_THAT(db.status(), IsOk());
  EXPECT_GT(ComparisonsToWrite(**db, "runs"), 0u);
}

}  // namespace
}  // namespace leadledger::projections
