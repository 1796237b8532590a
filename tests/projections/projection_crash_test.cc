// Crash test of the read models: a child process folds them (in some rounds
// rebuilding them, in others catching up in bulk) while writing lead
// histories, and is SIGKILLed at random moments. Afterwards the read models,
// caught up, equal key by key a fold of the whole log into an empty store, and
// no rebuild is left half-done.
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
#include "tests/testing/read_model_rows.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::projections {
namespace {

using ::leadledger::testing::IsOk;

constexpr int kRounds = 12;

TEST(ProjectionCrashTest, KilledMidFoldAndMidRebuildConvergesToAFreshFold) {
  testing::TempDir dir;
  absl::BitGen random;
  for (int round = 0; round < kRounds; ++round) {
    const std::string mode = round % 3 == 0   ? "follow"
                             : round % 3 == 1 ? "rebuild"
                                              : "catchup";
    const uintmax_t log_size = testing::FileSize(dir.Sub("crasher.log"));
    const pid_t pid = testing::Spawn(
        {PROJECTION_CRASHER_PATH, dir.path(), mode, absl::StrCat(round)},
        dir.Sub("crasher.log"));
    ASSERT_GT(pid, 0);
    // The crasher says when it has started folding and appending, however
    // long it took to open its stores.
    testing::WaitForLogToGrow(dir.Sub("crasher.log"), log_size, pid,
                              absl::Seconds(30));
    absl::SleepFor(absl::Milliseconds(absl::Uniform(random, 0, 550)));
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
      testing::CaughtUpRows(**store, dir.Sub("projections"));
  const std::map<std::string, std::string> fresh =
      testing::CaughtUpRows(**store, dir.Sub("fresh"));
  ASSERT_FALSE(fresh.empty());
  EXPECT_EQ(recovered.size(), fresh.size());
  EXPECT_TRUE(recovered == fresh)
      << "the recovered read models differ from a fold from scratch";
}

}  // namespace
}  // namespace leadledger::projections
