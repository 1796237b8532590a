// leadledgerd: the LeadLedger gRPC server.
//
// Serves until SIGTERM or SIGINT, then stops accepting calls, drains the
// calls in flight and closes the event store.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to serve gRPC on; port 0 picks a free port");
ABSL_FLAG(std::string, data_dir, "./var/data",
          "directory of the service's data");
ABSL_FLAG(std::string, port_file, "",
          "once serving, write the listening port to this file");
ABSL_FLAG(bool, leads_enabled, true,
          "default of the leads_enabled workspace setting: create new records "
          "as leads (true) or directly as opportunities; a value set with "
          "'leadctl settings set' is kept in the event log and wins");
ABSL_FLAG(int, workers, 64,
          "threads that run mutations (1 to 1024); they wait on fsync, so "
          "more than the cores is normal");
ABSL_FLAG(int, query_workers, 16,
          "threads that run queries (1 to 1024), apart from the mutations so "
          "that reads never wait behind writes waiting for the disk");
ABSL_FLAG(int, max_queued_calls, 4096,
          "calls that may wait for a worker before new ones get "
          "RESOURCE_EXHAUSTED");
ABSL_FLAG(std::string, time_zone, "UTC",
          "IANA zone the owners work in: follow-up and agenda days are "
          "counted in it (changing it needs a rebuild of the agenda)");
ABSL_FLAG(absl::Duration, timer_interval, absl::Seconds(1),
          "longest sleep of the scheduler's due-task timer");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "how long in-flight calls may run after a shutdown signal");
ABSL_FLAG(int, row_cache_mb, 32,
          "MiB of rows kept in memory as committed, for queries that read "
          "them one at a time (0 to 65536; 0 reads each from RocksDB): one "
          "cache for the lead list and one for the agenda, and one more for "
          "each while it rebuilds");
ABSL_FLAG(int, decoded_lead_cache_mb, 32,
          "MiB of leads decoded from those rows, shared by the pages that "
          "read the same rows again (0 to 65536; 0 decodes every row); "
          "about 2 KiB a lead");

namespace {

// The bytes of flag `name`'s value in MiB; nullopt (after saying why) when it
// is out of range.
std::optional<size_t> CacheBytes(const char* name, int mib) {
  constexpr int kMaxMib =
      static_cast<int>(leadledger::services::kMaxCacheBytes >> 20);
  if (mib < 0 || mib > kMaxMib) {
    std::fprintf(stderr,
                 "leadledgerd: --%s: must be between 0 and %d, got %d\n", name,
                 kMaxMib, mib);
    return std::nullopt;
  }
  return static_cast<size_t>(mib) << 20;
}

// Writes `port` to `path` via a temporary file and a rename, so a reader never
// sees a partial number.
bool WritePortFile(const std::string& path, int port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << "\n";
    if (!out.good()) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "LeadLedger server: leadledgerd --listen=HOST:PORT --data_dir=DIR");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil keeps absl::Mutex's deadlock detector on, which records
  // every lock acquisition in one global graph under one global lock. The
  // tests run with it; the server does not pay for it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Block the shutdown signals before any thread starts, so every thread
  // inherits the mask and only sigwait below receives them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);

  leadledger::services::ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  if (!absl::LoadTimeZone(absl::GetFlag(FLAGS_time_zone), &options.time_zone)) {
    std::fprintf(stderr, "leadledgerd: --time_zone: unknown zone \"%s\"\n",
                 absl::GetFlag(FLAGS_time_zone).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_timer_interval) <= absl::ZeroDuration()) {
    std::fprintf(stderr, "leadledgerd: --timer_interval: must be positive\n");
    return 2;
  }
  options.timer_interval = absl::GetFlag(FLAGS_timer_interval);
  options.worker_threads = absl::GetFlag(FLAGS_workers);
  options.query_threads = absl::GetFlag(FLAGS_query_workers);
  options.max_queued_calls = absl::GetFlag(FLAGS_max_queued_calls);
  options.settings.leads_enabled = absl::GetFlag(FLAGS_leads_enabled);
  const std::optional<size_t> row_cache_bytes =
      CacheBytes("row_cache_mb", absl::GetFlag(FLAGS_row_cache_mb));
  const std::optional<size_t> decoded_lead_cache_bytes = CacheBytes(
      "decoded_lead_cache_mb", absl::GetFlag(FLAGS_decoded_lead_cache_mb));
  if (!row_cache_bytes.has_value() || !decoded_lead_cache_bytes.has_value()) {
    return 2;
  }
  options.row_cache_bytes = *row_cache_bytes;
  options.decoded_lead_cache_bytes = *decoded_lead_cache_bytes;
  auto server = leadledger::services::LeadLedgerServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "leadledgerd: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  const std::string port_file = absl::GetFlag(FLAGS_port_file);
  if (!port_file.empty() && !WritePortFile(port_file, (*server)->port())) {
    std::fprintf(stderr, "leadledgerd: cannot write --port_file %s\n",
                 port_file.c_str());
    return 1;
  }
  std::fprintf(stderr, "leadledgerd: serving on port %d, data in %s\n",
               (*server)->port(), options.data_dir.c_str());

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  std::fprintf(stderr, "leadledgerd: %s, shutting down\n",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  std::fprintf(stderr, "leadledgerd: stopped\n");
  return 0;
}
