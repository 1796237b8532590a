// eventstore_bench: the event store against raw RocksDB and the raw disk,
// measured in the same run on the same directory.
//
//   fsync_p99_us        300-byte write + fdatasync on a plain file
//   append_c1_p99_us    one appender, one 300-byte event per synced append
//   raw_sync_c64_eps    64 threads, each a synced 1-key WriteBatch, raw RocksDB
//   append_c64_eps      64 threads, each appending one event at a time
//   append_batch100_eps one appender, 100 events per synced append
//   raw_scan_eps        raw iterator over the events family, 1M events
//   read_all_eps        EventStore::ReadAll over the same 1M events
//
// The last line is "summary: key=value ...", ratios included.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "eventstore/rocksdb_event_store.h"
#include "rocksdb/db.h"

namespace leadledger::eventstore {
namespace {

using ::leadledger::bench::FreshDir;
using ::leadledger::bench::Quantile;

constexpr size_t kPayloadBytes = 300;
constexpr int kConcurrency = 64;
constexpr absl::Duration kTimedRun = absl::Seconds(3);
constexpr int kScanEvents = 1'000'000;

leadledger::bench::Summary summary;

const std::string& Payload() {
  static const std::string* payload = new std::string(kPayloadBytes, 'p');
  return *payload;
}

AppendRequest Events(const std::string& stream, int count) {
  StreamWrite write{.stream = stream};
  for (int i = 0; i < count; ++i) {
    write.events.push_back({.event_id = absl::StrCat(stream, "-", i),
                            .type = "LeadCreated",
                            .payload = Payload()});
  }
  AppendRequest request;
  request.writes.push_back(std::move(write));
  return request;
}

std::unique_ptr<RocksDbEventStore> OpenStore(const std::string& dir) {
  auto store = RocksDbEventStore::Open({.path = dir});
  if (!store.ok()) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(),
                 store.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(store);
}

// Runs `work(thread)` on `threads` threads for kTimedRun; each call returns
// the events it completed. Returns events per second.
template <typename Work>
double RunTimed(int threads, Work work) {
  std::atomic<bool> stop = false;
  std::atomic<int64_t> events = 0;
  std::vector<std::thread> workers;
  const absl::Time start = absl::Now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      int64_t done = 0;
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        done += work(t, i);
      }
      events += done;
    });
  }
  absl::SleepFor(kTimedRun);
  stop = true;
  for (auto& worker : workers) worker.join();
  return static_cast<double>(events.load()) /
         absl::ToDoubleSeconds(absl::Now() - start);
}

void BM_RawFsync(benchmark::State& state) {
  const std::string dir = FreshDir("fsync");
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/probe";
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<double> micros;
  for (auto _ : state) {
    const absl::Time start = absl::Now();
    if (::write(fd, Payload().data(), Payload().size()) < 0 ||
        ::fdatasync(fd) != 0) {
      state.SkipWithError("write or fdatasync failed");
      break;
    }
    micros.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  ::close(fd);
  state.counters["p50_us"] = Quantile(micros, 0.50);
  state.counters["p99_us"] = Quantile(micros, 0.99);
  summary.Set("fsync_p50_us", state.counters["p50_us"]);
  summary.Set("fsync_p99_us", state.counters["p99_us"]);
}
BENCHMARK(BM_RawFsync)->MinTime(3.0)->UseRealTime();

void BM_AppendC1(benchmark::State& state) {
  auto store = OpenStore(FreshDir("append_c1"));
  std::vector<double> micros;
  uint64_t i = 0;
  for (auto _ : state) {
    AppendRequest request = Events(absl::StrCat("lead-", i++), 1);
    const absl::Time start = absl::Now();
    if (!store->Append(std::move(request)).ok()) {
      state.SkipWithError("append failed");
      break;
    }
    micros.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  state.counters["p50_us"] = Quantile(micros, 0.50);
  state.counters["p99_us"] = Quantile(micros, 0.99);
  summary.Set("append_c1_p50_us", state.counters["p50_us"]);
  summary.Set("append_c1_p99_us", state.counters["p99_us"]);
}
BENCHMARK(BM_AppendC1)->MinTime(3.0)->UseRealTime();

void BM_RawSyncC64(benchmark::State& state) {
  const std::string dir = FreshDir("raw_c64");
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) {
    state.SkipWithError("cannot open RocksDB");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  double eps = 0;
  for (auto _ : state) {
    eps = RunTimed(kConcurrency, [&](int thread, uint64_t i) {
      rocksdb::WriteBatch batch;
      batch.Put(absl::StrCat(thread, "-", i), Payload());
      rocksdb::WriteOptions sync;
      sync.sync = true;
      return db->Write(sync, &batch).ok() ? 1 : 0;
    });
  }
  state.counters["events_per_s"] = eps;
  summary.Set("raw_sync_c64_eps", eps);
}
BENCHMARK(BM_RawSyncC64)->Iterations(1)->UseRealTime();

void BM_AppendC64(benchmark::State& state) {
  auto store = OpenStore(FreshDir("append_c64"));
  double eps = 0;
  for (auto _ : state) {
    eps = RunTimed(kConcurrency, [&](int thread, uint64_t i) {
      return store->Append(Events(absl::StrCat("lead-", thread, "-", i), 1))
                     .ok()
                 ? 1
                 : 0;
    });
  }
  state.counters["events_per_s"] = eps;
  summary.Set("append_c64_eps", eps);
}
BENCHMARK(BM_AppendC64)->Iterations(1)->UseRealTime();

void BM_AppendBatch100(benchmark::State& state) {
  auto store = OpenStore(FreshDir("append_batch100"));
  const int appenders = static_cast<int>(state.range(0));
  double eps = 0;
  for (auto _ : state) {
    eps = RunTimed(appenders, [&](int thread, uint64_t i) {
      return store->Append(Events(absl::StrCat("import-", thread, "-", i), 100))
                     .ok()
                 ? 100
                 : 0;
    });
  }
  state.counters["events_per_s"] = eps;
  summary.Set(appenders == 1
                  ? "append_batch100_eps"
                  : absl::StrCat("append_batch100_c", appenders, "_eps"),
              eps);
}
BENCHMARK(BM_AppendBatch100)->Arg(1)->Arg(4)->Iterations(1)->UseRealTime();

// Baseline for the batch appends: the same keys and values the store writes
// for a 100-event append (event, stream index, head), straight to RocksDB.
void BM_RawBatch100(benchmark::State& state) {
  const std::string dir = FreshDir("raw_batch100");
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) {
    state.SkipWithError("cannot open RocksDB");
    return;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::atomic<uint64_t> position = 0;
  double eps = 0;
  for (auto _ : state) {
    eps = RunTimed(1, [&](int, uint64_t i) {
      rocksdb::WriteBatch batch;
      const std::string stream = absl::StrCat("import-", i);
      for (int e = 0; e < 100; ++e) {
        const std::string key = absl::StrCat(position++);
        batch.Put(key, Payload());
        batch.Put(absl::StrCat(stream, "/", e), key);
      }
      batch.Put(stream, "99");
      rocksdb::WriteOptions sync;
      sync.sync = true;
      return db->Write(sync, &batch).ok() ? 100 : 0;
    });
  }
  state.counters["events_per_s"] = eps;
  summary.Set("raw_batch100_eps", eps);
}
BENCHMARK(BM_RawBatch100)->Iterations(1)->UseRealTime();

// The 1M-event log both scans read, written once.
const std::string& ScanLog() {
  static const std::string* dir = [] {
    auto* path = new std::string(FreshDir("scan"));
    auto store = OpenStore(*path);
    for (int i = 0; i < kScanEvents / 1000; ++i) {
      if (!store->Append(Events(absl::StrCat("lead-", i), 1000)).ok()) {
        std::fprintf(stderr, "filling the scan log failed\n");
        std::exit(1);
      }
    }
    return path;
  }();
  return *dir;
}

void BM_RawScan(benchmark::State& state) {
  const std::string& dir = ScanLog();
  std::vector<std::string> names;
  rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names)
      .PermitUncheckedError();
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  size_t events_family = 0;
  for (const std::string& name : names) {
    if (name == "events") events_family = families.size();
    families.push_back({name, rocksdb::ColumnFamilyOptions()});
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, families,
                                    &handles, &raw)
           .ok()) {
    state.SkipWithError("cannot open the scan log");
    return;
  }
  int64_t events = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    std::unique_ptr<rocksdb::Iterator> it(
        raw->NewIterator(rocksdb::ReadOptions(), handles[events_family]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      bytes += it->key().size() + it->value().size();
      ++events;
    }
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(events);
  for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
  delete raw;
}
BENCHMARK(BM_RawScan)->Iterations(3)->UseRealTime();

void BM_ReadAll(benchmark::State& state) {
  auto store = OpenStore(ScanLog());
  int64_t events = 0;
  for (auto _ : state) {
    uint64_t from = 1;
    while (true) {
      auto page = store->ReadAll({.from_position = from, .max_count = 1000});
      if (!page.ok() || page->empty()) break;
      events += static_cast<int64_t>(page->size());
      from = page->back().position + 1;
    }
  }
  state.SetItemsProcessed(events);
}
BENCHMARK(BM_ReadAll)->Iterations(3)->UseRealTime();

// Console output as usual, plus each benchmark's items/s into the summary.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      auto items = run.counters.find("items_per_second");
      if (items == run.counters.end()) continue;
      const std::string& name = run.run_name.function_name;
      if (name == "BM_RawScan") summary.Set("raw_scan_eps", items->second);
      if (name == "BM_ReadAll") summary.Set("read_all_eps", items->second);
    }
  }
};

}  // namespace
}  // namespace leadledger::eventstore

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  leadledger::eventstore::SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  leadledger::bench::RemoveFreshDirs();
  auto& summary = leadledger::eventstore::summary;
  summary.Ratio("append_c64_over_raw_sync_c64", "append_c64_eps",
                "raw_sync_c64_eps");
  summary.Ratio("append_batch100_over_raw_batch100", "append_batch100_eps",
                "raw_batch100_eps");
  summary.Ratio("read_all_over_raw_scan", "read_all_eps", "raw_scan_eps");
  summary.Ratio("append_c1_p99_over_fsync_p99", "append_c1_p99_us",
                "fsync_p99_us");
  summary.Print();
  return 0;
}
