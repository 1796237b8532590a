// projections_bench: what the read models cost at scale.
//
//   projections_bench [--events=2000000] [--leads=1000000] [--queries=2000]
//
// 1. Writes a log of realistic lead histories (tests/testing/lead_history.h)
//    of at least --events events.
// 2. raw_scan_eps: a raw RocksDB scan of the log's events column family.
// 3. rebuild_eps: a full online rebuild of every read model over that log,
//    in a child process so that rss_mb_rebuild (its peak resident memory)
//    counts the rebuild alone; rebuild_cpu_us_per_event is the CPU time it
//    took (all threads), which a busy machine does not inflate.
// 4. Adds leads (each with a task) up to --leads, lets the read models
//    catch up, and times ListLeads and ListAgenda queries, first pages and
//    deep pages (reached through page tokens): list_leads_p99_us and
//    agenda_p99_us are the worse of the two.
// The last line is "summary: key=value ...".
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "bench/latency_histogram.h"
#include "domain/lead_decider.h"
#include "eventstore/rocksdb_event_store.h"
#include "eventstore/rocksdb_thread.h"
#include "projections/agenda.h"
#include "projections/event_codec.h"
#include "projections/lead_list.h"
#include "projections/projection_db.h"
#include "projections/projection_runner.h"
#include "projections/read_models.h"
#include "rocksdb/db.h"
#include "services/allocator_tuning.h"
#include "tests/testing/lead_history.h"

ABSL_FLAG(int64_t, events, 2'000'000, "events of realistic histories");
ABSL_FLAG(int64_t, leads, 1'000'000, "leads when the queries are timed");
ABSL_FLAG(int, queries, 2000, "queries timed per kind");
ABSL_FLAG(std::string, rebuild_child, "",
          "rebuild the read models of this directory and report (the "
          "benchmark runs it in a child process; a directory kept by "
          "--keep_dir can be rebuilt again, e.g. under a profiler)");
ABSL_FLAG(bool, keep_dir, false, "keep the data directory at the end");

namespace leadledger::bench {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'790'000'000);

// Peak resident set of this process in MiB, from /proc.
double PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      int64_t kb = 0;
      std::vector<std::string> parts =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kb)) {
        return static_cast<double>(kb) / 1024;
      }
    }
  }
  return 0;
}

std::unique_ptr<eventstore::RocksDbEventStore> OpenStore(
    const std::string& dir) {
  auto store = eventstore::RocksDbEventStore::Open({.path = dir + "/log"});
  if (!store.ok()) {
    std::fprintf(stderr, "open store: %s\n", store.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(store);
}

void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

// Reads every event of the log straight from RocksDB: the floor of any fold.
double RawScanEventsPerSecond(const std::string& dir, uint64_t* events) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  Check(absl::OkStatus(), "");
  if (!rocksdb::DB::ListColumnFamilies(options, dir + "/log", &names).ok()) {
    std::fprintf(stderr, "cannot list the log's column families\n");
    std::exit(1);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) families.push_back({name, {}});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(options, dir + "/log", families, &handles,
                                    &db)
           .ok()) {
    std::fprintf(stderr, "cannot open the log read-only\n");
    std::exit(1);
  }
  rocksdb::ColumnFamilyHandle* events_family = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "events") events_family = handles[i];
  }
  const absl::Time start = absl::Now();
  uint64_t count = 0;
  uint64_t bytes = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), events_family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++count;
    bytes += it->key().size() + it->value().size();
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  it.reset();
  for (auto* handle : handles) (void)db->DestroyColumnFamilyHandle(handle);
  delete db;
  if (bytes == 0) std::fprintf(stderr, "empty log\n");
  *events = count;
  return static_cast<double>(count) / seconds;
}

// The child: opens the store and the read models of `dir` (already caught
// up), rebuilds every read model and prints "rebuild <events> <seconds>
// <peak rss mb> <cpu seconds>".
int RebuildChild(const std::string& dir) {
  // Opening would create an empty store, and the rebuild of nothing would
  // report figures of nothing.
  if (!std::filesystem::exists(dir + "/log/CURRENT") ||
      !std::filesystem::exists(dir + "/projections/CURRENT")) {
    std::fprintf(stderr,
                 "projections_bench: --rebuild_child must name the directory "
                 "of a benchmark run (with log/ and projections/), got %s\n",
                 dir.c_str());
    return 2;
  }
  auto store = OpenStore(dir);
  auto db = projections::ProjectionDb::Open(
      dir + "/projections",
      projections::ProjectionDbOptionsFor(projections::ReadModels({})));
  Check(db.status(), "open projections");
  // As leadledgerd does (services/server.cc).
  projections::ProjectionRunner runner(
      store.get(), db->get(), projections::ReadModels({}),
      projections::ProjectionRunnerOptions{
          .bulk_fold_hooks = services::AllocatorTuningForBulkFolds()});
  Check(runner.Start(), "start");
  Check(
      runner.WaitUntilFolded({}, store->HeadPosition(), absl::InfiniteFuture()),
      "catch up");
  // Count the rebuild's memory, not the catch-up's (Linux resets the peak
  // when asked).
  std::ofstream("/proc/self/clear_refs") << "5";
  const absl::Time start = absl::Now();
  const double cpu_start = OwnCpuSeconds();
  Check(
      runner.Rebuild(
          {}, [](const projections::RebuildProgress&) {}, [] { return false; }),
      "rebuild");
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("rebuild %llu %.6f %.1f %.6f\n",
              static_cast<unsigned long long>(store->HeadPosition()), seconds,
              PeakRssMb(), OwnCpuSeconds() - cpu_start);
  return 0;
}

// Appends `count` new leads, each with an open contact task.
void AppendLeads(eventstore::EventStore& store, int64_t first, int64_t count) {
  const domain::WorkspaceSettings settings;
  constexpr int kPerAppend = 500;
  for (int64_t done = 0; done < count;) {
    eventstore::AppendRequest request;
    for (int i = 0; i < kPerAppend && done < count; ++i, ++done) {
      const int64_t n = first + done;
      const std::string id = absl::StrCat("bulk-", n);
      const absl::Time now = kStart + absl::Seconds(n);
      domain::CreateLead create{
          .lead_id = id,
          .profile = {.display_name = absl::StrCat("Bulk lead ", n),
                      .contact_name = absl::StrCat("Person ", n % 7919),
                      .email = absl::StrCat("bulk", n, "@example.org"),
                      .owner_id = absl::StrCat("owner-", n % 40),
                      .team_id = absl::StrCat("team-", n % 5)},
          .settings = settings,
          .now = now};
      auto created = domain::Decide(domain::Lead{}, create);
      Check(created.status(), "decide create");
      domain::Lead lead = domain::Evolve(domain::Lead{}, created->front());
      auto task = domain::Decide(
          lead, domain::CreateTask{.task_id = absl::StrCat("call-", n),
                                   .kind = domain::TaskKind::kContact,
                                   .title = "First call",
                                   .due_time = now + absl::Hours(n % 2000),
                                   .priority = static_cast<int>(n % 3),
                                   .now = now});
      Check(task.status(), "decide task");
      eventstore::StreamWrite write{
          .stream = absl::StrCat("lead-", id),
          .expected_version = eventstore::ExpectedVersion::NoStream()};
      write.events.push_back(projections::EncodeLeadEvent(
          created->front(), absl::StrCat("bulk-created-", n)));
      write.events.push_back(projections::EncodeLeadEvent(
          task->front(), absl::StrCat("bulk-task-", n)));
      request.writes.push_back(std::move(write));
    }
    Check(store.Append(std::move(request)).status(), "append leads");
  }
}

// Times `queries` runs of `query` (a page read) and returns the histogram.
template <typename Query>
LatencyHistogram Time(int queries, Query query) {
  LatencyHistogram latency;
  for (int i = 0; i < queries; ++i) {
    const absl::Time start = absl::Now();
    query(i);
    latency.Add(
        static_cast<uint64_t>(absl::ToInt64Microseconds(absl::Now() - start)));
  }
  return latency;
}

// What is wrong with the flags, naming the first bad one; empty when
// nothing is. A log that never reaches --events would be written forever.
std::string FlagError() {
  for (const std::string& error :
       {FlagOutOfRange("events", absl::GetFlag(FLAGS_events), 1000,
                       1'000'000'000),
        FlagOutOfRange("leads", absl::GetFlag(FLAGS_leads), 0, 100'000'000),
        FlagOutOfRange("queries", absl::GetFlag(FLAGS_queries), 1,
                       10'000'000)}) {
    if (!error.empty()) return error;
  }
  return "";
}

int Run() {
  Summary summary;
  const std::string dir = FreshDir("projections_bench");
  std::filesystem::create_directories(dir);
  const int64_t target_events = absl::GetFlag(FLAGS_events);
  {
    auto store = OpenStore(dir);
    testing::LeadHistory history(42, kStart);
    const absl::Time start = absl::Now();
    // The progress line rewrites itself: only for a terminal, not a log.
    const bool tty = isatty(STDERR_FILENO);
    while (store->HeadPosition() < static_cast<uint64_t>(target_events)) {
      auto appended = history.Append(*store, 20000, 400);
      Check(appended.status(), "append history");
      if (tty) {
        std::fprintf(stderr, "\rlog: %llu events, %zu leads   ",
                     static_cast<unsigned long long>(store->HeadPosition()),
                     history.lead_count());
      }
    }
    if (tty) std::fprintf(stderr, "\n");
    std::printf("log: %llu events of %zu leads written in %.1f s\n",
                static_cast<unsigned long long>(store->HeadPosition()),
                history.lead_count(),
                absl::ToDoubleSeconds(absl::Now() - start));
    summary.Set("log_events", static_cast<double>(store->HeadPosition()));
    summary.Set("log_leads", static_cast<double>(history.lead_count()));
    // The first fold, so that the child measures a rebuild next to live
    // read models, as in production. It is leadledgerd's catch-up on start
    // (services/server.cc), and runs as that does.
    auto db = projections::ProjectionDb::Open(
        dir + "/projections",
        projections::ProjectionDbOptionsFor(projections::ReadModels({})));
    Check(db.status(), "open projections");
    projections::ProjectionRunner runner(
        store.get(), db->get(), projections::ReadModels({}),
        projections::ProjectionRunnerOptions{
            .bulk_fold_hooks = services::AllocatorTuningForBulkFolds()});
    const absl::Time fold_start = absl::Now();
    Check(runner.Start(), "start");
    Check(runner.WaitUntilFolded({}, store->HeadPosition(),
                                 absl::InfiniteFuture()),
          "first fold");
    summary.Set("first_fold_eps",
                static_cast<double>(store->HeadPosition()) /
                    absl::ToDoubleSeconds(absl::Now() - fold_start));
  }

  uint64_t scanned = 0;
  summary.Set("raw_scan_eps", RawScanEventsPerSecond(dir, &scanned));

  // The rebuild, in a child process of its own.
  const std::string output = dir + "/rebuild.out";
  std::fflush(stdout);  // the child must not print this process's buffer
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen(output.c_str(), "w", stdout);
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) _exit(1);
    self[n] = '\0';
    const std::string flag = "--rebuild_child=" + dir;
    execl(self, self, flag.c_str(), static_cast<char*>(nullptr));
    _exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream in(output);
  std::string word;
  uint64_t events = 0;
  double seconds = 0;
  double rss = 0;
  double cpu = 0;
  if (!(in >> word >> events >> seconds >> rss >> cpu) || word != "rebuild" ||
      seconds <= 0) {
    std::fprintf(stderr, "the rebuild child failed\n");
    return 1;
  }
  summary.Set("rebuild_eps", static_cast<double>(events) / seconds);
  summary.Set("rss_mb_rebuild", rss);
  // The machine is shared: CPU time per event tells what wall time hides.
  summary.Set("rebuild_cpu_us_per_event",
              cpu * 1e6 / static_cast<double>(std::max<uint64_t>(events, 1)));
  summary.Ratio("rebuild_over_raw_scan", "rebuild_eps", "raw_scan_eps");
  std::printf(
      "rebuild: %llu events in %.2f s (%.2f s of CPU), peak rss %.0f "
      "MiB\n",
      static_cast<unsigned long long>(events), seconds, cpu, rss);

  // Queries at --leads leads.
  auto store = OpenStore(dir);
  auto db = projections::ProjectionDb::Open(
      dir + "/projections",
      projections::ProjectionDbOptionsFor(projections::ReadModels({})));
  Check(db.status(), "open projections");
  projections::ProjectionRunner runner(store.get(), db->get(),
                                       projections::ReadModels({}));
  Check(runner.Start(), "start");
  const int64_t existing = static_cast<int64_t>(summary.Get("log_leads"));
  const int64_t wanted = absl::GetFlag(FLAGS_leads);
  if (wanted > existing) {
    const absl::Time start = absl::Now();
    AppendLeads(*store, 0, wanted - existing);
    std::printf("added %lld leads in %.1f s\n",
                static_cast<long long>(wanted - existing),
                absl::ToDoubleSeconds(absl::Now() - start));
  }
  Check(
      runner.WaitUntilFolded({}, store->HeadPosition(), absl::InfiniteFuture()),
      "catch up");
  summary.Set("query_leads", static_cast<double>(std::max(wanted, existing)));

  const int queries = absl::GetFlag(FLAGS_queries);
  projections::KeyspaceRef leads = (*db)->Live("leads");
  projections::KeyspaceRef agenda = (*db)->Live(projections::kAgendaProjection);
  auto reader = (*db)->NewReader();

  // Deep pages: the token after 200 pages of 50.
  auto deep_token = [&](auto page_once) {
    std::string token;
    for (int i = 0; i < 200; ++i) {
      std::string next = page_once(token);
      if (next.empty()) break;
      token = next;
    }
    return token;
  };

  projections::LeadListQuery list_query{.page_size = 50};
  const std::string list_deep = deep_token([&](const std::string& token) {
    projections::LeadListQuery q = list_query;
    q.page_token = token;
    auto page = projections::ListLeads(*reader, *leads, q);
    Check(page.status(), "list leads");
    return page->next_page_token;
  });
  LatencyHistogram list_first = Time(queries, [&](int i) {
    projections::LeadListQuery q = list_query;
    q.owner_id = absl::StrCat("owner-", i % 40);
    Check(projections::ListLeads(*reader, *leads, q).status(), "list");
  });
  LatencyHistogram list_deep_latency = Time(queries, [&](int) {
    projections::LeadListQuery q = list_query;
    q.page_token = list_deep;
    Check(projections::ListLeads(*reader, *leads, q).status(), "list deep");
  });

  projections::AgendaQuery agenda_query{.owner_id = "owner-7", .page_size = 50};
  const std::string agenda_deep = deep_token([&](const std::string& token) {
    projections::AgendaQuery q = agenda_query;
    q.page_token = token;
    auto page = projections::ListAgenda(*reader, *agenda, q);
    Check(page.status(), "agenda");
    return page->next_page_token;
  });
  LatencyHistogram agenda_first = Time(queries, [&](int i) {
    projections::AgendaQuery q = agenda_query;
    q.owner_id = absl::StrCat("owner-", i % 40);
    Check(projections::ListAgenda(*reader, *agenda, q).status(), "agenda");
  });
  LatencyHistogram agenda_deep_latency = Time(queries, [&](int) {
    projections::AgendaQuery q = agenda_query;
    q.page_token = agenda_deep;
    Check(projections::ListAgenda(*reader, *agenda, q).status(), "agenda deep");
  });
  std::printf(
      "list leads p50/p99: first page %.0f/%.0f us, deep page %.0f/%.0f us\n",
      list_first.Quantile(0.5), list_first.Quantile(0.99),
      list_deep_latency.Quantile(0.5), list_deep_latency.Quantile(0.99));
  std::printf(
      "agenda p50/p99: first page %.0f/%.0f us, deep page %.0f/%.0f us\n",
      agenda_first.Quantile(0.5), agenda_first.Quantile(0.99),
      agenda_deep_latency.Quantile(0.5), agenda_deep_latency.Quantile(0.99));
  summary.Set("list_leads_p99_us", std::max(list_first.Quantile(0.99),
                                            list_deep_latency.Quantile(0.99)));
  summary.Set("agenda_p99_us", std::max(agenda_first.Quantile(0.99),
                                        agenda_deep_latency.Quantile(0.99)));
  reader.reset();
  leads.reset();
  agenda.reset();
  runner.Stop();
  summary.Print();
  return 0;
}

}  // namespace
}  // namespace leadledger::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Every thread of leadledgerd that uses RocksDB does so too: the figures
  // are the server's.
  leadledger::eventstore::DisableRocksDbPerfCountersOnThisThread();
  const std::string child = absl::GetFlag(FLAGS_rebuild_child);
  if (!child.empty()) return leadledger::bench::RebuildChild(child);
  if (const std::string error = leadledger::bench::FlagError();
      !error.empty()) {
    std::fprintf(stderr, "projections_bench: %s\n", error.c_str());
    return 2;
  }
  const int code = leadledger::bench::Run();
  if (!absl::GetFlag(FLAGS_keep_dir)) leadledger::bench::RemoveFreshDirs();
  return code;
}
