// AdminService over gRPC (callback API): the workspace settings, and backup
// and verification of the event log. Each method validates and maps its
// request, calls the settings store or the event log, and maps the result:
// no business rule lives here.
#ifndef LEADLEDGER_SERVICES_ADMIN_SERVICE_H_
#define LEADLEDGER_SERVICES_ADMIN_SERVICE_H_

#include <atomic>
#include <string>

#include "absl/status/status.h"
#include "domain/clock.h"
#include "eventstore/event_store.h"
#include "grpcpp/grpcpp.h"
#include "leadledger/v1/admin_service.grpc.pb.h"
#include "projections/decoded_lead_cache.h"
#include "projections/projection_runner.h"
#include "services/follow_up_scheduler.h"
#include "services/lead_command_handler.h"
#include "services/rpc_support.h"
#include "services/workspace_settings.h"

namespace leadledger::services {

// What AdminServiceImpl works on. The pointers must outlive the service.
struct AdminServiceOptions {
  WorkspaceSettingsStore* settings = nullptr;
  eventstore::EventStore* log = nullptr;
  const Clock* clock = nullptr;
  // Backup writes backup B to <backups_dir>/B; created when first needed.
  std::string backups_dir;
  // The read models and the scheduler, for their status and rebuilds.
  projections::ProjectionRunner* read_models = nullptr;
  FollowUpScheduler* scheduler = nullptr;
  // The leads LeadService decodes pages into, for their status; nullptr
  // when the server keeps none.
  projections::DecodedLeadCache* decoded_leads = nullptr;
};

// Rebuilds that may run at once, whatever projections they name.
inline constexpr int kMaxConcurrentRebuilds = 4;

// Limit on the length of a backup id.
inline constexpr size_t kMaxBackupIdLength = 63;

// Thread-safe.
class AdminServiceImpl final : public v1::AdminService::CallbackService {
 public:
  // Every call runs on `env.workers`, counted in `env.calls`.
  AdminServiceImpl(AdminServiceOptions options, RpcEnv env);

  grpc::ServerUnaryReactor* GetWorkspaceSettings(
      grpc::CallbackServerContext* context,
      const v1::GetWorkspaceSettingsRequest* request,
      v1::GetWorkspaceSettingsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateWorkspaceSettings(
      grpc::CallbackServerContext* context,
      const v1::UpdateWorkspaceSettingsRequest* request,
      v1::UpdateWorkspaceSettingsResponse* response) override;
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* context,
                                   const v1::BackupRequest* request,
                                   v1::BackupResponse* response) override;
  grpc::ServerUnaryReactor* Verify(grpc::CallbackServerContext* context,
                                   const v1::VerifyRequest* request,
                                   v1::VerifyResponse* response) override;
  grpc::ServerUnaryReactor* GetProjectionStatus(
      grpc::CallbackServerContext* context,
      const v1::GetProjectionStatusRequest* request,
      v1::GetProjectionStatusResponse* response) override;
  grpc::ServerWriteReactor<v1::RebuildProjectionResponse>* RebuildProjection(
      grpc::CallbackServerContext* context,
      const v1::RebuildProjectionRequest* request) override;

 private:
  absl::Status DoGetWorkspaceSettings(
      const v1::GetWorkspaceSettingsRequest& request,
      v1::GetWorkspaceSettingsResponse& response);
  absl::Status DoUpdateWorkspaceSettings(
      const CallContext& call,
      const v1::UpdateWorkspaceSettingsRequest& request,
      v1::UpdateWorkspaceSettingsResponse& response);
  absl::Status DoBackup(const v1::BackupRequest& request,
                        v1::BackupResponse& response);
  absl::Status DoVerify(v1::VerifyResponse& response);
  absl::Status DoGetProjectionStatus(v1::GetProjectionStatusResponse& response);

  class RebuildReactor;

  const AdminServiceOptions options_;
  const RpcEnv env_;
  std::atomic<int> rebuilds_running_{0};
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_ADMIN_SERVICE_H_
