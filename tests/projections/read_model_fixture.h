// A fixture for the read models the server runs: a real event store and
// projection store in a temporary directory, and a ProjectionRunner folding
// ReadModels() into them.
#ifndef LEADLEDGER_TESTS_PROJECTIONS_READ_MODEL_FIXTURE_H_
#define LEADLEDGER_TESTS_PROJECTIONS_READ_MODEL_FIXTURE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "eventstore/rocksdb_event_store.h"
#include "gtest/gtest.h"
#include "projections/projection_db.h"
#include "projections/projection_runner.h"
#include "projections/read_models.h"
#include "tests/projections/lead_script.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::projections {

class ReadModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = eventstore::RocksDbEventStore::Open({.path = dir_.Sub("log")});
    ASSERT_THAT(store.status(), testing::IsOk());
    store_ = std::move(*store);
    auto db = ProjectionDb::Open(dir_.Sub("projections"),
                                 ProjectionDbOptionsFor(ReadModels({})));
    ASSERT_THAT(db.status(), testing::IsOk());
    db_ = std::move(*db);
    runner_ = std::make_unique<ProjectionRunner>(
        store_.get(), db_.get(), ReadModels({}),
        ProjectionRunnerOptions{.poll_interval = absl::Milliseconds(20),
                                .rebuild_batch_events = 97,
                                .progress_interval = absl::ZeroDuration()});
    ASSERT_THAT(runner_->Start(), testing::IsOk());
  }

  void TearDown() override {
    runner_.reset();
    db_.reset();
    store_.reset();
  }

  // Waits until every read model has folded the whole log.
  void Fold() {
    ASSERT_THAT(runner_->WaitUntilFolded({}, store_->HeadPosition(),
                                         absl::Now() + absl::Seconds(30)),
                testing::IsOk());
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
        testing::IsOk());
    return rows;
  }

  // Every event of the log, in order.
  std::vector<eventstore::RecordedEvent> AllEvents() {
    std::vector<eventstore::RecordedEvent> all;
    while (true) {
      auto events = store_->ReadAll(
          {.from_position = all.size() + 1, .max_count = 10000});
      EXPECT_THAT(events.status(), testing::IsOk());
      if (!events.ok() || events->empty()) return all;
      all.insert(all.end(), events->begin(), events->end());
    }
  }

  void Rebuild() {
    ASSERT_THAT(runner_->Rebuild(
                    {}, [](const RebuildProgress&) {}, [] { return false; }),
                testing::IsOk());
  }

  leadledger::testing::TempDir dir_;
  std::unique_ptr<eventstore::RocksDbEventStore> store_;
  std::unique_ptr<ProjectionDb> db_;
  std::unique_ptr<ProjectionRunner> runner_;
};

// The first key where `actual` and `expected` differ, or "" when they are
// equal: a readable failure for maps of thousands of rows.
inline std::string FirstDifference(
    const std::map<std::string, std::string>& actual,
    const std::map<std::string, std::string>& expected) {
  auto a = actual.begin();
  auto e = expected.begin();
  while (a != actual.end() || e != expected.end()) {
    if (e == expected.end() || (a != actual.end() && a->first < e->first)) {
      return "unexpected key " + absl::CEscape(a->first);
    }
    if (a == actual.end() || e->first < a->first) {
      return "missing key " + absl::CEscape(e->first);
    }
    if (a->second != e->second) {
      return "other value at " + absl::CEscape(a->first);
    }
    ++a;
    ++e;
  }
  return "";
}

}  // namespace leadledger::projections

#endif  // LEADLEDGER_TESTS_PROJECTIONS_READ_MODEL_FIXTURE_H_
