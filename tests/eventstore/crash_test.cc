// Crash test: a child process appends under load and prints every
// acknowledged append; it is SIGKILLed at random moments, round after round.
// After every reopen, every acknowledged event is present at the position it
// was acknowledged with, positions are gapless and Verify() is clean.
#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "eventstore/rocksdb_event_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::eventstore {
namespace {

using ::leadledger::testing::IsOk;
using ::testing::IsEmpty;

constexpr int kRounds = 25;
constexpr int kAppenderThreads = 6;

struct Acknowledged {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  std::string stream;
  int64_t last_version = 0;
  std::string last_payload;
};

// Parses the appender's output. A write(2) to a file can stop at a page
// boundary when SIGKILL arrives, so a last line without its newline is a
// record cut short, not an acknowledgement: it is left out.
std::vector<Acknowledged> ParseAcks(absl::string_view output) {
  output = output.substr(0, output.rfind('\n') + 1);
  std::vector<Acknowledged> acks;
  for (absl::string_view line :
       absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    Acknowledged ack;
    if (fields.size() != 5 ||
        !absl::SimpleAtoi(fields[0], &ack.first_position) ||
        !absl::SimpleAtoi(fields[1], &ack.last_position) ||
        !absl::SimpleAtoi(fields[3], &ack.last_version)) {
      ADD_FAILURE() << "malformed line: " << line;
      continue;
    }
    ack.stream = fields[2];
    ack.last_payload = fields[4];
    acks.push_back(std::move(ack));
  }
  return acks;
}

TEST(CrashTest, ALastLineCutShortIsNotAnAcknowledgement) {
  std::vector<Acknowledged> acks =
      ParseAcks("1 2 s0-1 2 r0t0i0e1...\n3 3 s1-0 1 r0t1i0e0..");
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].last_position, 2u);
  EXPECT_EQ(acks[0].last_payload, "r0t0i0e1...");
  EXPECT_THAT(ParseAcks("3 3 s1-0 1 r0t1i0e0.."), IsEmpty());
}

TEST(CrashTest, AcknowledgedAppendsSurviveSigkill) {
  leadledger::testing::TempDir dir;
  const std::string path = dir.Sub("log");
  absl::BitGen random;
  size_t total_acks = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string output = dir.Sub(absl::StrCat("acks-", round));
    pid_t child = leadledger::testing::Spawn(
        {CRASH_APPENDER_PATH, path, absl::StrCat(kAppenderThreads),
         absl::StrCat(round)},
        output);
    ASSERT_GT(child, 0);
    // The kill lands while appends are being acknowledged, however long the
    // child takes to open the store.
    leadledger::testing::WaitForLogToGrow(output, 0, child, absl::Seconds(30));
    absl::SleepFor(absl::Milliseconds(absl::Uniform(random, 0, 220)));
    kill(child, SIGKILL);
    std::optional<int> exit =
        leadledger::testing::WaitForExit(child, absl::Seconds(30));
    ASSERT_EQ(exit, 128 + SIGKILL) << leadledger::testing::ReadFile(output);

    std::vector<Acknowledged> acks =
        ParseAcks(leadledger::testing::ReadFile(output));
    total_acks += acks.size();

    auto store = RocksDbEventStore::Open({.path = path});
    ASSERT_THAT(store, IsOk()) << "round " << round;
    auto report = (*store)->Verify();
    ASSERT_THAT(report, IsOk());
    ASSERT_THAT(report->problems, IsEmpty()) << "round " << round;
    ASSERT_EQ(report->events, (*store)->HeadPosition());
    for (const Acknowledged& ack : acks) {
      ASSERT_LE(ack.last_position, (*store)->HeadPosition());
      auto events =
          (*store)->ReadAll({.from_position = ack.first_position,
                             .max_count = static_cast<int>(
                                 ack.last_position - ack.first_position + 1)});
      ASSERT_THAT(events, IsOk());
      ASSERT_EQ(events->size(), ack.last_position - ack.first_position + 1);
      const RecordedEvent& last = events->back();
      EXPECT_EQ(last.position, ack.last_position);
      EXPECT_EQ(last.stream, ack.stream);
      EXPECT_EQ(last.stream_version, ack.last_version);
      EXPECT_EQ(last.payload, ack.last_payload);
      for (const RecordedEvent& event : *events)
        EXPECT_EQ(event.stream, ack.stream);
    }
  }
  // The kills landed while appends were being acknowledged, not before.
  EXPECT_GT(total_acks, static_cast<size_t>(kRounds));
  RecordProperty("acknowledged_appends", static_cast<int>(total_acks));
}

}  // namespace
}  // namespace leadledger::eventstore
