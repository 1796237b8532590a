// The measuring tools as users run them: loadgen against a real leadledgerd,
// projections_bench on a small log, and both refusing flags they cannot
// honour before they do any work.
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/server_process.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace leadledger {
namespace {

using ::leadledger::testing::CommandResult;
using ::leadledger::testing::RunCommand;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Key;

// The figures of the last line, "summary: key=value ..."; empty when the
// output has no such line last.
std::map<std::string, double> Summary(const std::string& output) {
  std::vector<std::string> lines =
      absl::StrSplit(absl::StripTrailingAsciiWhitespace(output), '\n');
  std::map<std::string, double> figures;
  if (lines.empty()) return figures;
  absl::string_view last = lines.back();
  if (!absl::ConsumePrefix(&last, "summary:")) return figures;
  for (absl::string_view pair : absl::StrSplit(last, ' ', absl::SkipEmpty())) {
    std::pair<std::string, std::string> parts = absl::StrSplit(pair, '=');
    double value = 0;
    if (absl::SimpleAtod(parts.second, &value)) figures[parts.first] = value;
  }
  return figures;
}

class BenchToolsTest : public ::testing::Test {
 protected:
  CommandResult Run(std::vector<std::string> args,
                    absl::Duration timeout = absl::Seconds(60)) {
    return RunCommand(args, dir_.Sub("tool.out"), timeout);
  }

  // Runs the bash `script` with each case's arguments and expects it to stop
  // with status 2 and a message holding the case's word, before it prints
  // `first_run` (the start of its first run's line).
  void ExpectRefusals(
      const std::string& script,
      const std::vector<std::pair<std::vector<std::string>, std::string>>&
          cases,
      const std::string& first_run) {
    for (const auto& [args, named] : cases) {
      std::vector<std::string> argv = {"/usr/bin/env", "bash", script};
      argv.insert(argv.end(), args.begin(), args.end());
      CommandResult result = Run(argv);
      EXPECT_EQ(result.exit_code, 2) << named << ": " << result.output;
      EXPECT_THAT(result.output, HasSubstr(named));
      EXPECT_THAT(result.output, ::testing::Not(HasSubstr(first_run)));
    }
  }

  testing::TempDir dir_;
};

TEST_F(BenchToolsTest, LoadgenMeasuresARealServer) {
  testing::ServerProcess server(LEADLEDGERD_PATH, dir_, dir_.Sub("data"));
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  CommandResult result = Run(
      {LOADGEN_PATH, "--server=" + server.address(),
       absl::StrCat("--server_pid=", server.pid()), "--concurrency=8",
       "--duration=1s", "--leads=40", "--owners=4", "--classify_c1_calls=5"},
      absl::Seconds(120));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  // Every RPC of the mix, and the baseline, got calls through.
  for (const char* rpc :
       {"CreateLead", "ClassifyLead", "CompleteTask", "UpdateLead", "GetLead",
        "ListLeads", "ListAgenda", "Health.Check"}) {
    EXPECT_THAT(result.output, HasSubstr(rpc));
  }
  const std::map<std::string, double> figures = Summary(result.output);
  for (const char* key :
       {"mixed_qps", "echo_qps", "mixed_p99_us", "classify_c1_p50_us",
        "mixed_over_echo", "mixed_server_cpu_us", "echo_server_cpu_us",
        "mixed_loadgen_cpu_us", "echo_loadgen_cpu_us"}) {
    EXPECT_THAT(figures, Contains(Key(key))) << result.output;
  }
  if (figures.contains("mixed_qps") && figures.contains("echo_qps") &&
      figures.contains("classify_c1_p50_us")) {
    EXPECT_GT(figures.at("mixed_qps"), 0) << result.output;
    EXPECT_GT(figures.at("echo_qps"), 0) << result.output;
    EXPECT_GT(figures.at("classify_c1_p50_us"), 0) << result.output;
  }
  // A mixed call does more work in the server than a health check does.
  if (figures.contains("mixed_server_cpu_us") &&
      figures.contains("echo_server_cpu_us")) {
    EXPECT_GT(figures.at("mixed_server_cpu_us"),
              figures.at("echo_server_cpu_us"))
        << result.output;
  }
}

TEST_F(BenchToolsTest, LoadgenCallsOnlyTheRpcsOfItsMix) {
  testing::ServerProcess server(LEADLEDGERD_PATH, dir_, dir_.Sub("data"));
  ASSERT_TRUE(server.WaitUntilServing()) << server.log();
  CommandResult result =
      Run({LOADGEN_PATH, "--server=" + server.address(), "--mode=mixed",
           "--mix=get=3,list=1", "--concurrency=4", "--calls=200", "--leads=20",
           "--classify_c1_calls=0"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, AllOf(HasSubstr("GetLead"), HasSubstr("ListLeads"),
                                   HasSubstr("200 calls")));
  for (const char* rpc : {"CreateLead", "ClassifyLead", "CompleteTask",
                          "UpdateLead", "ListAgenda", "Health.Check"}) {
    EXPECT_THAT(result.output, ::testing::Not(HasSubstr(rpc))) << rpc;
  }
}

TEST_F(BenchToolsTest, LoadgenRefusesFlagsItCannotHonourBeforeCalling) {
  // Nothing listens there: a refusal must come before any call.
  const std::string nowhere = "--server=127.0.0.1:1";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--mode=fast", "--mode"},
      {"--concurrency=0", "--concurrency"},
      {"--calls=-1", "--calls"},
      {"--duration=-1s", "--duration"},
      {"--duration=inf", "--duration"},
      {"--leads=0", "--leads"},
      {"--owners=0", "--owners"},
      {"--zipf=nan", "--zipf"},
      {"--zipf=-1", "--zipf"},
      {"--classify_c1_calls=-3", "--classify_c1_calls"},
      {"--mix=create=1,fly=2", "--mix"},
      {"--mix=get=-1", "--mix"},
      {"--mix=get=x", "--mix"},
      {"--mix=get", "--mix"},
      {"--mix=get=1,get=2", "--mix"},
      {"--mix=get=0,list=0", "--mix"},
      {"--server_pid=-1", "--server_pid"},
      // Above any pid_max Linux allows: no such process.
      {"--server_pid=2147483647", "--server_pid"},
  };
  for (const auto& [flag, named] : cases) {
    CommandResult result = Run({LOADGEN_PATH, nowhere, flag});
    EXPECT_EQ(result.exit_code, 2) << flag << ": " << result.output;
    EXPECT_THAT(result.output, AllOf(HasSubstr(named), HasSubstr("must")))
        << flag;
    EXPECT_THAT(result.output, ::testing::Not(HasSubstr("UNAVAILABLE")))
        << flag;
  }
}

// bench/ab_loadgen.sh, comparing two builds; here the same one twice.
TEST_F(BenchToolsTest, AbLoadgenComparesTwoServersPairByPair) {
  CommandResult result =
      Run({"/usr/bin/env", absl::StrCat("LOADGEN=", LOADGEN_PATH),
           "LEADLEDGER_BENCH_DIR=" + dir_.Sub("bench"), "bash", AB_LOADGEN_PATH,
           LEADLEDGERD_PATH, LEADLEDGERD_PATH, "2", "--duration=1s",
           "--concurrency=8", "--leads=20"},
          absl::Seconds(240));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output,
              AllOf(HasSubstr("round 1 a"), HasSubstr("round 1 b"),
                    HasSubstr("round 2 b")));
  const std::map<std::string, double> figures = Summary(result.output);
  for (const char* key :
       {"rounds", "a_server_cpu_us", "b_server_cpu_us", "server_cpu_b_over_a",
        "server_cpu_b_over_a_low", "server_cpu_b_over_a_high", "a_qps", "b_qps",
        "qps_b_over_a"}) {
    ASSERT_THAT(figures, Contains(Key(key))) << result.output;
  }
  EXPECT_EQ(figures.at("rounds"), 2);
  EXPECT_GT(figures.at("a_server_cpu_us"), 0);
  EXPECT_GT(figures.at("b_qps"), 0);
  // The ratio of the means lies within the range of the pairs' ratios.
  EXPECT_LE(figures.at("server_cpu_b_over_a_low"),
            figures.at("server_cpu_b_over_a") + 1e-3);
  EXPECT_GE(figures.at("server_cpu_b_over_a_high"),
            figures.at("server_cpu_b_over_a") - 1e-3);
}

TEST_F(BenchToolsTest, AbLoadgenRefusesWhatItCannotCompare) {
  const std::string missing = dir_.Sub("no-such-leadledgerd");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{LEADLEDGERD_PATH}, "usage"},
      {{missing, LEADLEDGERD_PATH}, missing},
      {{LEADLEDGERD_PATH, LEADLEDGERD_PATH, "0"}, "ROUNDS"},
      {{LEADLEDGERD_PATH, LEADLEDGERD_PATH, "many"}, "ROUNDS"},
  };
  ExpectRefusals(AB_LOADGEN_PATH, cases, "round 1");
}

// bench/ab_rebuild_instructions.sh, comparing two builds; here the same one
// twice, which must count the same instructions within the repeat spread.
TEST_F(BenchToolsTest, AbRebuildInstructionsCountsWhatEachBuildExecutes) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "valgrind cannot run a program built with AddressSanitizer";
#endif
  CommandResult result =
      Run({"/usr/bin/env", "LEADLEDGER_BENCH_DIR=" + dir_.Sub("bench"), "bash",
           AB_REBUILD_INSTRUCTIONS_PATH, PROJECTIONS_BENCH_PATH,
           PROJECTIONS_BENCH_PATH, "1000"},
          absl::Seconds(600));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_THAT(result.output, AllOf(HasSubstr("a ("), HasSubstr("b ("),
                                   HasSubstr("a again (")));
  const std::map<std::string, double> figures = Summary(result.output);
  for (const char* key :
       {"events", "a_instructions_per_event", "b_instructions_per_event",
        "b_over_a", "a_repeat_spread"}) {
    ASSERT_THAT(figures, Contains(Key(key))) << result.output;
  }
  EXPECT_GE(figures.at("events"), 1000);
  // A rebuild folds every event: thousands of instructions each at least.
  EXPECT_GT(figures.at("a_instructions_per_event"), 1000);
  EXPECT_LT(figures.at("a_repeat_spread"), 0.01) << result.output;
  EXPECT_NEAR(figures.at("b_over_a"), 1.0, 0.01) << result.output;
  // The script leaves nothing of its runs behind.
  EXPECT_TRUE(std::filesystem::is_empty(dir_.Sub("bench"))) << result.output;
}

TEST_F(BenchToolsTest, AbRebuildInstructionsRefusesWhatItCannotCompare) {
  const std::string missing = dir_.Sub("no-such-projections_bench");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{PROJECTIONS_BENCH_PATH}, "usage"},
      {{missing, PROJECTIONS_BENCH_PATH}, missing},
      {{PROJECTIONS_BENCH_PATH, PROJECTIONS_BENCH_PATH, "999"}, "EVENTS"},
      {{PROJECTIONS_BENCH_PATH, PROJECTIONS_BENCH_PATH, "lots"}, "EVENTS"},
  };
  ExpectRefusals(AB_REBUILD_INSTRUCTIONS_PATH, cases, "a (");
}

TEST_F(BenchToolsTest, ProjectionsBenchReportsEveryFigureOnASmallLog) {
  setenv("LEADLEDGER_BENCH_DIR", dir_.Sub("bench").c_str(), 1);
  CommandResult result = Run(
      {PROJECTIONS_BENCH_PATH, "--events=1000", "--leads=0", "--queries=20"},
      absl::Seconds(600));
  unsetenv("LEADLEDGER_BENCH_DIR");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::map<std::string, double> figures = Summary(result.output);
  for (const char* key :
       {"rebuild_eps", "raw_scan_eps", "rebuild_over_raw_scan",
        "list_leads_p99_us", "agenda_p99_us", "rss_mb_rebuild"}) {
    ASSERT_THAT(figures, Contains(Key(key))) << result.output;
    EXPECT_GT(figures.at(key), 0) << key << "\n" << result.output;
  }
  EXPECT_GE(figures.at("log_events"), 1000);
}

TEST_F(BenchToolsTest, ProjectionsBenchRefusesALogItCouldNeverFinish) {
  setenv("LEADLEDGER_BENCH_DIR", dir_.Sub("bench").c_str(), 1);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--events=-5", "--events"},
      {"--leads=-1", "--leads"},
      {"--queries=0", "--queries"},
  };
  for (const auto& [flag, named] : cases) {
    CommandResult result = Run({PROJECTIONS_BENCH_PATH, flag});
    EXPECT_EQ(result.exit_code, 2) << flag << ": " << result.output;
    EXPECT_THAT(result.output, AllOf(HasSubstr(named), HasSubstr("must")))
        << flag;
  }
  unsetenv("LEADLEDGER_BENCH_DIR");
  // A rebuild of a directory that holds no benchmark run is refused, and
  // leaves no store behind.
  const std::string empty = dir_.Sub("empty");
  std::filesystem::create_directories(empty);
  CommandResult result =
      Run({PROJECTIONS_BENCH_PATH, "--rebuild_child=" + empty});
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_THAT(result.output, HasSubstr("--rebuild_child"));
  EXPECT_TRUE(std::filesystem::is_empty(empty));
}

}  // namespace
}  // namespace leadledger
