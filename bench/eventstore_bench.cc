// eventstore_bench: the cost of a durable append, measured against the raw
// cost of a synced RocksDB write on the same disk in the same run.
//
// The last line is "summary: key=value ..." for scripts.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "eventstore/rocksdb_event_store.h"
#include "rocksdb/db.h"

namespace leadledger::eventstore {
namespace {

constexpr size_t kPayloadBytes = 300;

std::string FreshDir(const std::string& name) {
  const char* base = std::getenv("TMPDIR");
  std::filesystem::path dir = std::filesystem::path(base ? base : "/tmp") /
                              absl::StrCat("leadledger-bench-", name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

// Baseline: one synced 300-byte put per iteration, straight to RocksDB.
void BM_RawSyncedPut(benchmark::State& state) {
  const std::string dir = FreshDir("raw");
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) {
    state.SkipWithError("cannot open RocksDB");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const std::string value(kPayloadBytes, 'x');
  uint64_t key = 0;
  for (auto _ : state) {
    if (!db->Put(sync, std::to_string(key++), value).ok()) {
      state.SkipWithError("put failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  db.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RawSyncedPut)->UseRealTime()->MinTime(2.0);

// One appender, one 300-byte event per append, each acknowledged durable.
void BM_AppendOneEvent(benchmark::State& state) {
  const std::string dir = FreshDir("append");
  auto store = RocksDbEventStore::Open({.path = dir});
  if (!store.ok()) {
    state.SkipWithError("cannot open the event store");
    return;
  }
  NewEvent event{.event_id = "e",
                 .type = "LeadCreated",
                 .payload = std::string(kPayloadBytes, 'x')};
  uint64_t stream = 0;
  for (auto _ : state) {
    AppendRequest request;
    request.writes.push_back({.stream = absl::StrCat("lead-", stream++),
                              .expected_version = ExpectedVersion::NoStream(),
                              .events = {event}});
    if (!(*store)->Append(std::move(request)).ok()) {
      state.SkipWithError("append failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  store->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AppendOneEvent)->UseRealTime()->MinTime(2.0);

// Keeps the console output and remembers each benchmark's mean time per
// iteration, for the summary line.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      microseconds_[run.run_name.function_name] =
          run.GetAdjustedRealTime() *
          benchmark::GetTimeUnitMultiplier(run.time_unit) /
          benchmark::GetTimeUnitMultiplier(benchmark::kMicrosecond);
    }
  }
  double Microseconds(const std::string& name) const {
    auto it = microseconds_.find(name);
    return it == microseconds_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, double> microseconds_;
};

}  // namespace
}  // namespace leadledger::eventstore

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  leadledger::eventstore::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double raw_us = reporter.Microseconds("BM_RawSyncedPut");
  const double append_us = reporter.Microseconds("BM_AppendOneEvent");
  std::printf(
      "summary: append_c1_mean_us=%.1f raw_sync_put_mean_us=%.1f "
      "append_over_raw=%.2f\n",
      append_us, raw_us, raw_us > 0 ? append_us / raw_us : 0.0);
  benchmark::Shutdown();
  return 0;
}
