// AdminService over gRPC (callback API): the workspace settings, and backup
// and verification of the event log. Each method validates and maps its
// request, calls the settings store or the event log, and maps the result:
// no business rule lives here.
#ifndef LEADLEDGER_SERVICES_ADMIN_SERVICE_H_
#define LEADLEDGER_SERVICES_ADMIN_SERVICE_H_

#include <string>

#include "absl/status/status.h"
#include "domain/clock.h"
#include "eventstore/event_store.h"
#include "grpcpp/grpcpp.h"
#include "leadledger/v1/admin_service.grpc.pb.h"
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
};

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

  const AdminServiceOptions options_;
  const RpcEnv env_;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_ADMIN_SERVICE_H_
