// Folds the read models while writing lead histories, until SIGKILLed; driven
// by projection_crash_test. Usage:
//   projection_crasher DIR follow|rebuild|catchup ROUND
// "follow" keeps the read models following the log; "rebuild" also rebuilds
// every read model over and over, so that kills land inside rebuilds;
// "catchup" first writes histories with no runner, then starts one that
// catches up in bulk commits of a few hundred events (and falls back to
// bulk whenever it lags a hundred events), so that kills land inside bulk
// commits of the live read models.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eventstore/rocksdb_event_store.h"
#include "projections/projection_db.h"
#include "projections/projection_runner.h"
#include "projections/read_models.h"
#include "tests/testing/lead_history.h"

int main(int argc, char** argv) {
  using namespace leadledger;
  int round = 0;
  if (argc != 4 || !absl::SimpleAtoi(argv[3], &round)) {
    std::fprintf(stderr,
                 "usage: projection_crasher DIR follow|rebuild|catchup "
                 "ROUND\n");
    return 2;
  }
  const std::string dir = argv[1];
  const bool rebuild = std::string(argv[2]) == "rebuild";
  const bool catch_up = std::string(argv[2]) == "catchup";
  auto store = eventstore::RocksDbEventStore::Open({.path = dir + "/log"});
  auto db = projections::ProjectionDb::Open(
      dir + "/projections",
      projections::ProjectionDbOptionsFor(projections::ReadModels({})));
  if (!store.ok() || !db.ok()) {
    std::fprintf(stderr, "cannot open: %s %s\n",
                 store.status().ToString().c_str(),
                 db.status().ToString().c_str());
    return 1;
  }
  testing::LeadHistory history(round, absl::FromUnixSeconds(1'790'000'000),
                               absl::StrCat("r", round, "-"));
  projections::ProjectionRunnerOptions options;
  if (catch_up) {
    if (absl::StatusOr<uint64_t> appended = history.Append(**store, 1500, 50);
        !appended.ok()) {
      std::fprintf(stderr, "append: %s\n",
                   appended.status().ToString().c_str());
      return 1;
    }
    options.bulk_commit_events = 300;
    options.bulk_lag_events = 100;
  }
  projections::ProjectionRunner runner(store->get(), db->get(),
                                       projections::ReadModels({}), options);
  if (absl::Status started = runner.Start(); !started.ok()) {
    std::fprintf(stderr, "start: %s\n", started.ToString().c_str());
    return 1;
  }
  std::thread rebuilder;
  if (rebuild) {
    rebuilder = std::thread([&] {
      while (true) {
        absl::Status status = runner.Rebuild(
            {}, [](const projections::RebuildProgress&) {},
            [] { return false; });
        if (!status.ok() && !absl::IsFailedPrecondition(status)) {
          std::fprintf(stderr, "rebuild: %s\n", status.ToString().c_str());
        }
      }
    });
  }
  for (bool first = true;; first = false) {
    absl::StatusOr<uint64_t> appended = history.Append(**store, 20, 4);
    if (!appended.ok()) {
      std::fprintf(stderr, "append: %s\n",
                   appended.status().ToString().c_str());
      return 1;
    }
    if (first) std::fprintf(stderr, "round %d: appending\n", round);
  }
}
