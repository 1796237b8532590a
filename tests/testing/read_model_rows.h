// Every row of every read model, for tests that compare read models key by
// key (a recovered store against a fold from scratch).
#ifndef LEADLEDGER_TESTS_TESTING_READ_MODEL_ROWS_H_
#define LEADLEDGER_TESTS_TESTING_READ_MODEL_ROWS_H_

#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eventstore/event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/projection_db.h"
#include "projections/projection_runner.h"
#include "projections/read_models.h"
#include "tests/testing/status_matchers.h"

namespace leadledger::testing {

// "<projection>|<key>" -> value for every live read model, checkpoints aside.
inline std::map<std::string, std::string> AllRows(
    projections::ProjectionDb& db) {
  std::map<std::string, std::string> rows;
  std::unique_ptr<projections::ProjectionReader> reader = db.NewReader();
  for (const projections::ProjectionSpec& spec : projections::ReadModels({})) {
    projections::KeyspaceRef live = db.Live(spec.name);
    EXPECT_NE(live, nullptr) << spec.name;
    if (live == nullptr) continue;
    EXPECT_THAT(
        reader->Scan(*live, "\x01", "", projections::ScanOrder::kAscending,
                     [&](absl::string_view key, absl::string_view value) {
                       rows.emplace(absl::StrCat(spec.name, "|", key), value);
                       return true;
                     }),
        IsOk());
  }
  return rows;
}

// Opens the projection store in `directory` (creating it if missing), folds
// the log of `store` up to its head, lets a rebuild a crash interrupted
// finish, and returns every row.
inline std::map<std::string, std::string> CaughtUpRows(
    eventstore::EventStore& store, const std::string& directory) {
  auto db = projections::ProjectionDb::Open(directory);
  EXPECT_THAT(db.status(), IsOk());
  if (!db.ok()) return {};
  std::map<std::string, std::string> rows;
  projections::ProjectionRunner runner(&store, db->get(),
                                       projections::ReadModels({}));
  EXPECT_THAT(runner.Start(), IsOk());
  for (int i = 0; i < 6000; ++i) {
    bool shadows = false;
    for (const projections::ProjectionSpec& spec :
         projections::ReadModels({})) {
      shadows = shadows || (*db)->Shadow(spec.name) != nullptr;
    }
    if (!shadows) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  for (const projections::ProjectionSpec& spec : projections::ReadModels({})) {
    EXPECT_EQ((*db)->Shadow(spec.name), nullptr) << spec.name;
  }
  EXPECT_THAT(runner.WaitUntilFolded({}, store.HeadPosition(),
                                     absl::Now() + absl::Seconds(120)),
              IsOk());
  rows = AllRows(**db);
  runner.Stop();
  return rows;
}

}  // namespace leadledger::testing

#endif  // LEADLEDGER_TESTS_TESTING_READ_MODEL_ROWS_H_
