#include "services/server.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "domain/status_macros.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "projections/read_models.h"
#include "services/allocator_tuning.h"

namespace leadledger::services {
namespace {

// Largest request or response the server accepts or sends.
constexpr int kMaxMessageBytes = 16 * 1024 * 1024;

}  // namespace

absl::StatusOr<std::unique_ptr<LeadLedgerServer>> LeadLedgerServer::Start(
    ServerOptions options) {
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("data_dir: must not be empty");
  }
  if (options.worker_threads < 1 || options.worker_threads > 1024) {
    return absl::InvalidArgumentError(
        "worker_threads: must be between 1 and 1024");
  }
  if (options.scheduler_kept_leads < 1) {
    return absl::InvalidArgumentError(
        "scheduler_kept_leads: must be at least 1");
  }
  if (options.query_threads < 1 || options.query_threads > 1024) {
    return absl::InvalidArgumentError(
        "query_threads: must be between 1 and 1024");
  }
  if (options.max_queued_calls < 1) {
    return absl::InvalidArgumentError("max_queued_calls: must be positive");
  }
  if (options.row_cache_bytes > kMaxCacheBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("row_cache_bytes: must be at most ", kMaxCacheBytes));
  }
  if (options.decoded_lead_cache_bytes > kMaxCacheBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "decoded_lead_cache_bytes: must be at most ", kMaxCacheBytes));
  }
  if (options.listen_address.empty()) {
    return absl::InvalidArgumentError("listen_address: must not be empty");
  }
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data_dir ", options.data_dir, ": cannot create: ", error.message()));
  }

  std::unique_ptr<LeadLedgerServer> server(new LeadLedgerServer());
  const Clock* clock = options.clock;
  if (clock == nullptr) {
    server->owned_clock_ = std::make_unique<SystemClock>();
    clock = server->owned_clock_.get();
  }
  IdGenerator* ids = options.ids;
  if (ids == nullptr) {
    server->owned_ids_ = std::make_unique<RandomIdGenerator>();
    ids = server->owned_ids_.get();
  }

  eventstore::RocksDbEventStoreOptions store_options;
  store_options.path =
      (std::filesystem::path(options.data_dir) / "eventlog").string();
  store_options.now = [clock] { return clock->Now(); };
  ASSIGN_OR_RETURN(server->store_, eventstore::RocksDbEventStore::Open(
                                       std::move(store_options)));
  std::vector<projections::ProjectionSpec> read_models =
      projections::ReadModels({.zone = options.time_zone});
  projections::ProjectionDbOptions projection_db_options =
      projections::ProjectionDbOptionsFor(read_models);
  projection_db_options.row_cache_bytes = options.row_cache_bytes;
  ASSIGN_OR_RETURN(
      server->projection_db_,
      projections::ProjectionDb::Open(
          (std::filesystem::path(options.data_dir) / "projections").string(),
          std::move(projection_db_options)));
  if (options.decoded_lead_cache_bytes > 0) {
    server->decoded_leads_ = std::make_unique<projections::DecodedLeadCache>(
        options.decoded_lead_cache_bytes);
  }
  server->read_models_ = std::make_unique<projections::ProjectionRunner>(
      server->store_.get(), server->projection_db_.get(),
      std::move(read_models),
      projections::ProjectionRunnerOptions{.bulk_fold_hooks =
                                               AllocatorTuningForBulkFolds()});
  server->handler_ =
      std::make_unique<LeadCommandHandler>(server->store_.get(), ids);
  ASSIGN_OR_RETURN(server->settings_,
                   WorkspaceSettingsStore::Open(server->store_.get(), ids,
                                                std::move(options.settings)));
  // Every reader decides with the settings in force when it runs.
  const auto current_settings = [settings = server->settings_.get()] {
    return *settings->Current();
  };
  server->scheduler_ = std::make_unique<FollowUpScheduler>(
      server->store_.get(), server->projection_db_.get(),
      server->read_models_.get(), server->handler_.get(), clock,
      current_settings,
      FollowUpSchedulerOptions{
          .owner_zone = options.time_zone,
          .timer_interval = options.timer_interval,
          .kept_leads = options.scheduler_kept_leads,
          .effect_sync_delay = options.scheduler_effect_sync_delay});
  server->read_models_->AddCommitListener(
      [scheduler = server->scheduler_.get()] { scheduler->WakeTimer(); });
  RETURN_IF_ERROR(server->read_models_->Start());
  RETURN_IF_ERROR(server->scheduler_->Start());
  server->workers_ = std::make_unique<WorkerPool>(
      options.worker_threads, static_cast<size_t>(options.max_queued_calls));
  server->query_workers_ = std::make_unique<WorkerPool>(
      options.query_threads, static_cast<size_t>(options.max_queued_calls));
  const RpcEnv env{.calls = &server->calls_,
                   .workers = server->workers_.get(),
                   .query_workers = server->query_workers_.get()};
  server->lead_service_ = std::make_unique<LeadServiceImpl>(
      server->handler_.get(), clock, ids, env, server->settings_.get(),
      server->read_models_.get(), server->projection_db_.get(),
      server->scheduler_.get(), server->decoded_leads_.get());
  server->task_service_ = std::make_unique<TaskServiceImpl>(
      TaskServiceDeps{.handler = server->handler_.get(),
                      .projection_db = server->projection_db_.get(),
                      .read_models = server->read_models_.get(),
                      .scheduler = server->scheduler_.get(),
                      .clock = clock,
                      .ids = ids,
                      .settings = current_settings,
                      .zone = options.time_zone},
      env);
  server->admin_service_ = std::make_unique<AdminServiceImpl>(
      AdminServiceOptions{
          .settings = server->settings_.get(),
          .log = server->store_.get(),
          .clock = clock,
          .backups_dir =
              (std::filesystem::path(options.data_dir) / "backups").string(),
          .read_models = server->read_models_.get(),
          .scheduler = server->scheduler_.get(),
          .decoded_leads = server->decoded_leads_.get()},
      env);
  server->history_service_ = std::make_unique<HistoryServiceImpl>(
      server->store_.get(), server->handler_.get(), env, options.history);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address,
                           grpc::InsecureServerCredentials(), &server->port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.RegisterService(server->lead_service_.get());
  builder.RegisterService(server->task_service_.get());
  builder.RegisterService(server->history_service_.get());
  builder.RegisterService(server->admin_service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen_address));
  }
  server->server_->GetHealthCheckService()->SetServingStatus(true);
  return server;
}

LeadLedgerServer::~LeadLedgerServer() { Shutdown(absl::Seconds(5)); }

void LeadLedgerServer::Shutdown(absl::Duration grace) {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    // Subscriptions never end by themselves: end them now, telling their
    // clients where to resume, rather than cancel them after the grace.
    history_service_->EndSubscriptions();
    calls_.DrainUntil(absl::Now() + grace);
    // Calls still waiting for a read model to reach their min_position
    // give up now, so that they can finish.
    if (read_models_ != nullptr) read_models_->Stop();
    // A deadline in the past cancels whatever is left and closes idle
    // connections now, instead of waiting for clients to hang up.
    server_->Shutdown(absl::ToChronoTime(absl::Now()));
    server_->Wait();
    server_.reset();
  }
  // Runs what is still queued (each finishes a call gRPC has cancelled).
  workers_.reset();
  query_workers_.reset();
  // Every call has finished: nothing can reach the store any more.
  lead_service_.reset();
  task_service_.reset();
  admin_service_.reset();
  if (scheduler_ != nullptr) scheduler_->Stop();
  scheduler_.reset();
  history_service_.reset();
  settings_.reset();
  handler_.reset();
  if (read_models_ != nullptr) read_models_->Stop();
  read_models_.reset();
  projection_db_.reset();
  store_.reset();
}

}  // namespace leadledger::services
