// Crash test of the read models: a child process folds them (and, every
// other round, rebuilds them) while writing lead histories, and is SIGKILLed
// at random moments. Afterwards the read models, caught up, equal key by key
// a fold of the whole log into an empty store, and no rebuild is left
// half-done.
#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/projection_db.h"
#include "projections/projection_runner.h"
#include "projections/read_models.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::projections {
namespace {

using ::leadledger::testing::IsOk;

constexpr int kRounds = 12;

// Every row of every live read model, checkpoints aside.
std::map<std::string, std::string> AllRows(ProjectionDb& db) {
  std::map<std::string, std::string> rows;
  std::unique_ptr<ProjectionReader> reader = db.NewReader();
  for (const ProjectionSpec& spec : ReadModels({})) {
    KeyspaceRef live = db.Live(spec.name);
    EXPECT_NE(live, nullptr) << spec.name;
    if (live == nullptr) continue;
    EXPECT_THAT(
        reader->Scan(*live, "\x01", "", ScanOrder::kAscending,
                     [&](absl::string_view key, absl::string_view value) {
                       rows.emplace(absl::StrCat(spec.name, "|", key), value);
                       return true;
                     }),
        IsOk());
  }
  return rows;
}

// Opens `projections`, folds the log up to its head and returns the rows.
std::map<std::string, std::string> CaughtUp(eventstore::EventStore& store,
                                            const std::string& projections) {
  auto db = ProjectionDb::Open(projections);
  EXPECT_THAT(db.status(), IsOk());
  if (!db.ok()) return {};
  ::testing::Test::RecordProperty(
      absl::StrCat("keyspaces_at_open_of_",
                   projections.substr(projections.rfind('/') + 1)),
      absl::StrCat((*db)->CatalogForTesting().size()));
  std::map<std::string, std::string> rows;
  {
    ProjectionRunner runner(&store, db->get(), ReadModels({}));
    EXPECT_THAT(runner.Start(), IsOk());
    EXPECT_THAT(runner.WaitUntilFolded({}, store.HeadPosition(),
                                       absl::Now() + absl::Seconds(60)),
                IsOk());
    // A rebuild the crash interrupted resumes on start; wait for it.
    for (int i = 0; i < 3000; ++i) {
      bool shadows = false;
      for (const ProjectionSpec& spec : ReadModels({})) {
        shadows = shadows || (*db)->Shadow(spec.name) != nullptr;
      }
      if (!shadows) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    for (const ProjectionSpec& spec : ReadModels({})) {
      EXPECT_EQ((*db)->Shadow(spec.name), nullptr) << spec.name;
    }
    EXPECT_THAT(runner.WaitUntilFolded({}, store.HeadPosition(),
                                       absl::Now() + absl::Seconds(60)),
                IsOk());
    rows = AllRows(**db);
  }
  return rows;
}

TEST(ProjectionCrashTest, KilledMidFoldAndMidRebuildConvergesToAFreshFold) {
  testing::TempDir dir;
  absl::BitGen random;
  for (int round = 0; round < kRounds; ++round) {
    const std::string mode = round % 2 == 0 ? "follow" : "rebuild";
    const pid_t pid = testing::Spawn(
        {PROJECTION_CRASHER_PATH, dir.path(), mode, absl::StrCat(round)},
        dir.Sub("crasher.log"));
    ASSERT_GT(pid, 0);
    absl::SleepFor(absl::Milliseconds(absl::Uniform(random, 150, 700)));
    kill(pid, SIGKILL);
    std::optional<int> code = testing::WaitForExit(pid, absl::Seconds(30));
    ASSERT_TRUE(code.has_value());
    ASSERT_EQ(*code, 128 + SIGKILL)
        << "the crasher stopped on its own:\n"
        << testing::ReadFile(dir.Sub("crasher.log"));
  }
  auto store = eventstore::RocksDbEventStore::Open({.path = dir.Sub("log")});
  ASSERT_THAT(store.status(), IsOk());
  ASSERT_GT((*store)->HeadPosition(), 100u);
  ::testing::Test::RecordProperty("events",
                                  absl::StrCat((*store)->HeadPosition()));
  const std::map<std::string, std::string> recovered =
      CaughtUp(**store, dir.Sub("projections"));
  const std::map<std::string, std::string> fresh =
      CaughtUp(**store, dir.Sub("fresh"));
  ASSERT_FALSE(fresh.empty());
  EXPECT_EQ(recovered.size(), fresh.size());
  EXPECT_TRUE(recovered == fresh)
      << "the recovered read models differ from a fold from scratch";
}

}  // namespace
}  // namespace leadledger::projections
