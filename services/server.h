// LeadLedgerServer: the whole service in one object — the event store, the
// command handler, the gRPC services, health checking and reflection — so the
// daemon and in-process tests start exactly the same thing.
#ifndef LEADLEDGER_SERVICES_SERVER_H_
#define LEADLEDGER_SERVICES_SERVER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "domain/clock.h"
#include "domain/id_generator.h"
#include "domain/workspace.h"
#include "eventstore/rocksdb_event_store.h"
#include "grpcpp/server.h"
#include "projections/projection_db.h"
#include "projections/projection_runner.h"
#include "services/admin_service.h"
#include "services/call_tracker.h"
#include "services/follow_up_scheduler.h"
#include "services/history_service.h"
#include "services/lead_command_handler.h"
#include "services/lead_service.h"
#include "services/task_service.h"
#include "services/worker_pool.h"
#include "services/workspace_settings.h"

namespace leadledger::services {

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see port()).
  std::string listen_address = "127.0.0.1:50051";
  // Directory of the service's data (the event log in eventlog/, the read
  // models in projections/, AdminService.Backup's copies in backups/);
  // created if missing.
  std::string data_dir;
  // Default workspace settings: each setting has this value until the
  // workspace stream of the event log says otherwise. Once a setting was
  // changed (AdminService.UpdateWorkspaceSettings) the logged value wins,
  // across restarts, whatever the defaults are then.
  domain::WorkspaceSettings settings;
  // Injected time and ids; the system clock and random ids when null. Must
  // outlive the server.
  const Clock* clock = nullptr;
  IdGenerator* ids = nullptr;
  // The zone follow-up days and agenda days are counted in (the owners').
  absl::TimeZone time_zone = absl::UTCTimeZone();
  // Longest sleep of the scheduler's due-task timer; tests shorten it to
  // follow a fake clock quickly.
  absl::Duration timer_interval = absl::Seconds(1);
  // Leads whose state the scheduler keeps folded (see
  // FollowUpSchedulerOptions::kept_leads).
  int scheduler_kept_leads = 8192;
  // How long the scheduler's appends may wait to share a caller's fsync
  // (see FollowUpSchedulerOptions::effect_sync_delay).
  absl::Duration scheduler_effect_sync_delay = absl::Milliseconds(2);
  // Threads that run mutations (they block on fsync).
  int worker_threads = 64;
  // Threads that run queries.
  int query_threads = 16;
  // Calls that may wait for a worker before new ones are refused with
  // RESOURCE_EXHAUSTED.
  int max_queued_calls = 4096;
  // HistoryService's limits (concurrent subscriptions, ...).
  HistoryServiceOptions history;
  // Memory for the rows queries read one at a time (leads, tasks), kept as
  // committed (projections::RowCache): one cache of this size per keyspace of
  // the lead list and of the agenda, so two more while both rebuild. 0 reads
  // every row from RocksDB.
  size_t row_cache_bytes = 32 << 20;
  // Memory for leads decoded from those rows, shared by the pages that read
  // the same bytes again (projections::DecodedLeadCache): at about 2 KiB a
  // lead, the default holds some fifteen thousand. 0 decodes every row.
  size_t decoded_lead_cache_bytes = 32 << 20;
};

// The most ServerOptions::row_cache_bytes and decoded_lead_cache_bytes may
// ask for.
inline constexpr size_t kMaxCacheBytes = size_t{64} << 30;

// Thread-safe.
class LeadLedgerServer {
 public:
  // Opens the store under `options.data_dir`, starts serving and reports
  // SERVING on the standard health service.
  // Errors: INVALID_ARGUMENT for bad options; the store's errors (e.g.
  // UNAVAILABLE when another process holds the data dir); UNAVAILABLE when
  // the address cannot be bound.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<LeadLedgerServer>> Start(
      ServerOptions options);

  // Shuts down (see Shutdown) with a short grace period.
  ~LeadLedgerServer();

  // The port the server listens on.
  int port() const { return port_; }

  // The event log, for in-process tools and tests that check what was
  // written; valid until Shutdown.
  eventstore::EventStore& store() { return *store_; }

  // The follow-up scheduler, for tests that check how it planned.
  const FollowUpScheduler& scheduler() const { return *scheduler_; }

  // Reports NOT_SERVING, refuses new calls (UNAVAILABLE), lets calls in
  // flight finish for up to `grace`, cancels what is left, closes every
  // connection and then the store. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  LeadLedgerServer() = default;

  std::unique_ptr<SystemClock> owned_clock_;
  std::unique_ptr<RandomIdGenerator> owned_ids_;
  std::unique_ptr<eventstore::RocksDbEventStore> store_;
  std::unique_ptr<projections::ProjectionDb> projection_db_;
  std::unique_ptr<projections::DecodedLeadCache> decoded_leads_;
  std::unique_ptr<projections::ProjectionRunner> read_models_;
  std::unique_ptr<LeadCommandHandler> handler_;
  std::unique_ptr<WorkspaceSettingsStore> settings_;
  std::unique_ptr<FollowUpScheduler> scheduler_;
  CallTracker calls_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<WorkerPool> query_workers_;
  std::unique_ptr<LeadServiceImpl> lead_service_;
  std::unique_ptr<TaskServiceImpl> task_service_;
  std::unique_ptr<HistoryServiceImpl> history_service_;
  std::unique_ptr<AdminServiceImpl> admin_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;

  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_SERVER_H_
